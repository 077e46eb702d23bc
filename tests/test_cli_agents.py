"""`agentterm agents`: read as a user reads them, one word for retired, and every change the app can make."""

from __future__ import annotations

import pytest

from agentterm.store import Store
from tests.cli_helpers import as_json, cli, one_error  # noqa: F401 - the fixture


@pytest.fixture
def coder(db_path):
    with Store(db_path) as store:
        return store.create_agent("Coder", model="gpt-x", extra={"seed": 1}, instructions="Write code.").id


def agent(db_path, name):
    with Store(db_path) as store:
        return store.get_agent_by_name(name)


def test_show_prints_values_as_a_user_reads_them(cli, coder):
    shown = cli("agents", "show", "Coder").stdout
    assert "None" not in shown and "{'" not in shown and "True" not in shown
    assert 'extra: {"seed": 1}' in shown
    assert "provider: (the default provider)" in shown and "temperature: (not set)" in shown
    assert "instructions:\nWrite code." in shown


def test_show_json_keeps_the_data(cli, coder):
    data = as_json(cli("agents", "show", "Coder", "--json"))
    assert data["provider"] is None and data["extra"] == {"seed": 1} and data["status"] == "active"


def test_retired_is_the_one_word_and_inactive_is_still_understood(cli, coder, db_path):
    cli("agents", "retire", "Coder")
    assert agent(db_path, "Coder").status == "inactive"
    assert "Coder" not in cli("agents", "list").stdout
    listed = cli("agents", "list", "--all").stdout
    assert "[retired]" in listed and "inactive" not in listed
    assert "status: retired" in cli("agents", "show", "Coder").stdout

    cli("agents", "edit", "Coder", "--status", "active")
    cli("agents", "edit", "Coder", "--status", "inactive")
    assert agent(db_path, "Coder").status == "inactive"
    cli("agents", "edit", "Coder", "--status", "Retired")
    assert "already retired" in cli("agents", "retire", "Coder").stdout
    assert "active, paused or retired" in one_error(cli("agents", "edit", "Coder", "--status", "gone", check=False))


def test_pause_resume_and_retire(cli, coder, db_path):
    assert "now paused" in cli("agents", "pause", "Coder").stdout
    assert agent(db_path, "Coder").status == "paused"
    assert "now active (it was paused)" in cli("agents", "resume", "Coder").stdout
    cli("agents", "retire", "Coder", "Assistant")
    assert {agent(db_path, n).status for n in ("Coder", "Assistant")} == {"inactive"}
    cli("agents", "resume", "Coder")
    assert agent(db_path, "Coder").status == "active"


def test_a_status_change_naming_an_unknown_agent_changes_nothing(cli, coder, db_path):
    assert "no agent named 'Nobody'" in one_error(cli("agents", "pause", "Coder", "Nobody", check=False))
    assert agent(db_path, "Coder").status == "active"


def test_create_blank_and_from_a_template(cli, db_path):
    made = as_json(cli("agents", "create", "Helper", "--model", "m1", "--temperature", "0.5",
                       "--extra", '{"seed": 3}', "--description", "helps", "--json"))
    assert (made["model"], made["temperature"], made["extra"], made["version"]) == ("m1", 0.5, {"seed": 3}, 1)
    cli("agents", "create", "Reviewer2", "--template", "reviewer")
    assert agent(db_path, "Reviewer2").instructions


def test_create_refuses_bad_input_in_one_line(cli, coder, tmp_path):
    assert "already exists" in one_error(cli("agents", "create", "Coder", check=False))
    assert "temperature" in one_error(cli("agents", "create", "Hot", "--temperature", "9", check=False))
    assert "JSON object" in one_error(cli("agents", "create", "X", "--extra", "[1]", check=False))
    assert "no template" in one_error(cli("agents", "create", "Y", "--template", "nope", check=False))
    assert "names no agent field" in one_error(cli("agents", "create", "Z", "--set", "colour=red", check=False))


def test_edit_saves_a_version_and_versions_restore_walk_back(cli, coder, db_path, tmp_path):
    prompt = tmp_path / "prompt.md"
    prompt.write_text("Review code.")
    saved = cli("agents", "edit", "Coder", "--model", "gpt-y", "--instructions-file", str(prompt))
    assert "version 2" in saved.stdout
    cli("agents", "edit", "Coder", "--name", "Senior Coder", "--set", "max_tokens=500")
    assert agent(db_path, "Senior Coder").max_tokens == 500

    listed = cli("agents", "versions", "Senior Coder").stdout.splitlines()
    assert listed[0].startswith("v3") and "changed" in listed[0] and "name" in listed[0] and "(current)" in listed[0]
    assert listed[-1].startswith("v1") and "created" in listed[-1]
    versions = as_json(cli("agents", "versions", "Senior Coder", "--json"))
    assert [v["version"] for v in versions] == [3, 2, 1] and versions[2]["data"]["model"] == "gpt-x"

    assert "as version 4" in cli("agents", "restore", "Senior Coder", "1").stdout
    restored = agent(db_path, "Coder")
    assert (restored.model, restored.instructions, restored.version) == ("gpt-x", "Write code.", 4)
    assert "no version 9" in one_error(cli("agents", "restore", "Coder", "9", check=False))
    assert "nothing to change" in one_error(cli("agents", "edit", "Coder", check=False))


def test_duplicate(cli, coder, db_path):
    assert "'Coder (copy)'" in cli("agents", "duplicate", "Coder").stdout
    copy = as_json(cli("agents", "duplicate", "Coder", "--name", "Pair", "--json"))
    assert copy["name"] == "Pair" and copy["model"] == "gpt-x"
    assert "already exists" in one_error(cli("agents", "duplicate", "Coder", "--name", "pair", check=False))


def test_an_agent_file_may_say_retired(cli, tmp_path, db_path):
    path = tmp_path / "old.toml"
    path.write_text('name = "Old hand"\nstatus = "retired"\n')
    cli("agents", "import", str(path))
    assert agent(db_path, "Old hand").status == "inactive"
    path.write_text('name = "Odd"\nstatus = "sleeping"\n')
    line = one_error(cli("agents", "import", str(path), check=False))
    assert "active, paused, retired" in line and "inactive" not in line


def test_the_tool_fields_are_set_and_read_plainly(cli, coder, db_path):
    cli("agents", "edit", "Coder", "--mcp-servers", "fs, web", "--allowed-tools", "fs.read,web.get",
        "--tool-approval", "auto")
    saved = agent(db_path, "Coder")
    assert (saved.mcp_servers, saved.allowed_tools, saved.tool_approval) == (["fs", "web"], ["fs.read", "web.get"],
                                                                            "auto")
    assert "mcp_servers: fs, web" in cli("agents", "show", "Coder").stdout
    cli("agents", "edit", "Coder", "--allowed-tools", "all")
    assert agent(db_path, "Coder").allowed_tools is None
    assert "allowed_tools: (every tool of its MCP servers)" in cli("agents", "show", "Coder").stdout
    assert "tool_approval" in one_error(cli("agents", "edit", "Coder", "--tool-approval", "maybe", check=False))
