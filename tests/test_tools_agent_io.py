"""Agent files carry an agent's tools (mcp_servers, allowed_tools, tool_approval); deep nesting is one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agentterm.agent_io import AgentFileError, agent_from_toml, agent_to_toml, validate_fields
from agentterm.models import Agent


def test_the_tool_fields_round_trip():
    agent = Agent(id=3, name="Timekeeper", mcp_servers=["time", "docs"],
                  allowed_tools=["time.get_current_time", "docs.search"], tool_approval="auto")
    text = agent_to_toml(agent)
    assert 'mcp_servers = [\n    "time",\n    "docs",\n]' in text or 'mcp_servers = ["time", "docs"]' in text
    fields = agent_from_toml(text)
    assert fields["mcp_servers"] == ["time", "docs"]
    assert fields["allowed_tools"] == ["time.get_current_time", "docs.search"]
    assert fields["tool_approval"] == "auto"


def test_an_agent_without_tools_reads_back_with_the_defaults():
    fields = agent_from_toml(agent_to_toml(Agent(id=1, name="Plain")))
    assert (fields["mcp_servers"], fields["allowed_tools"], fields["tool_approval"]) == ([], None, "ask")
    # allowed_tools None means "every tool of those servers": it is left out, not written empty.
    assert "allowed_tools" not in agent_to_toml(Agent(id=1, name="Plain"))


def test_a_file_without_the_tool_fields_still_imports():
    fields = agent_from_toml('name = "Old"\nmodel = "m"\n')
    assert fields["mcp_servers"] == [] and fields["tool_approval"] == "ask"


@pytest.mark.parametrize(
    ("line", "field", "why"),
    [
        ('mcp_servers = "time"', "mcp_servers", 'must be a list of server names, like ["time", "docs"]'),
        ("mcp_servers = [1]", "mcp_servers", "must be a list of server names"),
        ('allowed_tools = ["get_time"]', "allowed_tools", "must name tools as server.tool"),
        ('allowed_tools = "time.x"', "allowed_tools", "must be a list of server.tool names"),
        ('tool_approval = "always"', "tool_approval", "must be one of ask, auto"),
    ],
)
def test_a_bad_tool_field_names_its_line(line, field, why):
    with pytest.raises(AgentFileError) as caught:
        agent_from_toml(f'name = "A"\n{line}\n', source="a.toml")
    assert caught.value.field == field and str(caught.value).startswith(f"a.toml, line 2: {field} {why}")


def test_validate_fields_knows_the_tool_fields():
    assert validate_fields({"mcp_servers": ["a"], "allowed_tools": None, "tool_approval": "ask"}) == {}
    assert set(validate_fields({"mcp_servers": [""], "allowed_tools": ["x"], "tool_approval": 1})) == {
        "mcp_servers", "allowed_tools", "tool_approval"}


# --- issue 8.19: a deeply nested agent file is one clear line, not RecursionError -------------------


@pytest.mark.parametrize(
    "body",
    [
        "extra = { a = " + "[" * 2000 + "]" * 2000 + " }",
        "extra = " + "{ a = " * 600 + "1" + " }" * 600,
        "extra = { a = " + "[" * 40 + "]" * 40 + " }",
        "extra_json = '" + '{"a": ' * 5000 + "1" + "}" * 5000 + "'",
        "extra_json = '" + '{"a": ' * 40 + "1" + "}" * 40 + "'",
    ],
)
def test_deep_nesting_is_one_clear_line(body):
    with pytest.raises(AgentFileError) as caught:
        agent_from_toml(f'name = "Deep"\n{body}\n', source="deep.toml")
    assert "nested too deeply" in str(caught.value) and str(caught.value).startswith("deep.toml")


def test_modest_nesting_is_fine():
    fields = agent_from_toml('name = "A"\nextra = { a = [[1, 2], [3]], b = { c = { d = 1 } } }\n')
    assert fields["extra"] == {"a": [[1, 2], [3]], "b": {"c": {"d": 1}}}


def test_the_cli_imports_a_deep_file_with_one_line(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text('name = "Deep"\nextra = { a = ' + "[" * 3000 + "]" * 3000 + " }\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "agentterm", "--db", str(tmp_path / "s.db"), "agents", "import",
                           str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith(f"agentterm: error: {path}") and "nested too deeply" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_export_then_import_through_the_cli_keeps_the_tool_fields(tmp_path):
    from agentterm.store import Store

    with Store(tmp_path / "a.db") as store:
        store.create_agent("Timekeeper", mcp_servers=["time"], allowed_tools=["time.now"], tool_approval="auto")
    run = [sys.executable, "-m", "agentterm"]
    exported = subprocess.run([*run, "--db", str(tmp_path / "a.db"), "agents", "export", "Timekeeper"],
                              capture_output=True, text=True, timeout=60, check=True).stdout
    (tmp_path / "t.toml").write_text(exported, encoding="utf-8")
    subprocess.run([*run, "--db", str(tmp_path / "b.db"), "agents", "import", str(tmp_path / "t.toml")],
                   capture_output=True, text=True, timeout=60, check=True)
    with Store(tmp_path / "b.db") as store:
        agent = store.get_agent_by_name("Timekeeper")
    assert (agent.mcp_servers, agent.allowed_tools, agent.tool_approval) == (["time"], ["time.now"], "auto")
