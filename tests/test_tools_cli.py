"""`agentterm mcp list|tools` and what `doctor` says about providers, models, the schema and MCP servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from agentterm.store import Store
from tests.conftest import TEST_KEY
from tests.mcp_servers.helpers import DEMO

SECRET = "env-SECRET-value-1234567"


@pytest.fixture
def mcp_config(config_path):
    py = json.dumps(sys.executable)
    with open(config_path, "a", encoding="utf-8") as handle:
        handle.write(f"""
[mcp_servers.demo]
command = {py}
args = [{json.dumps(str(DEMO))}]
env = {{ DEMO_VALUE = "{SECRET}" }}

[mcp_servers.web]
url = "http://127.0.0.1:9/mcp"
headers_env = {{ Authorization = "WEB_TOKEN" }}
startup_timeout = 5

[mcp_servers.missing]
command = "agentterm-no-such-program"
""")
    return config_path


@pytest.fixture
def run(db_path, mcp_config):
    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(mcp_config), "WEB_TOKEN": "x" * 9}
        result = subprocess.run([sys.executable, "-m", "agentterm", *args], capture_output=True, text=True,
                                env=env, timeout=120)
        if check:
            assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        for secret in (TEST_KEY, SECRET, "x" * 9):
            assert secret not in result.stdout + result.stderr
        return result

    return run


def test_mcp_list_shows_each_server_its_transport_and_its_agents(run, db_path):
    with Store(db_path) as store:
        store.create_agent("Timekeeper", mcp_servers=["demo", "ghost"])
        store.create_agent("Reader", mcp_servers=["demo"])
    lines = run("mcp", "list").stdout.splitlines()
    assert lines[0] == f"demo  stdio  {sys.executable} {DEMO}"
    assert lines[1] == "    used by: Reader, Timekeeper"
    assert lines[2] == "web  http  http://127.0.0.1:9/mcp (headers from the environment: Authorization)"
    assert lines[3] == "    used by: no agent"
    assert 'warning: agents Timekeeper name "ghost", which the config does not define' in lines
    [demo, *_] = json.loads(run("mcp", "list", "--json").stdout)
    assert demo["transport"] == "stdio" and demo["env"] == ["DEMO_VALUE"] and demo["agents"] == ["Reader", "Timekeeper"]


def test_mcp_tools_starts_the_server_and_lists_its_tools(run, tmp_path):
    lines = run("mcp", "tools", "demo").stdout.splitlines()
    assert "demo.echo" in lines and lines[lines.index("demo.echo") + 1] == "    Say the text back."
    tools = {tool["name"]: tool for tool in json.loads(run("mcp", "tools", "demo", "--json").stdout)}
    assert tools["add"]["function"] == "demo__add"
    assert tools["add"]["input_schema"]["required"] == ["a", "b"]


def test_mcp_tools_of_a_server_that_fails_is_one_line(run):
    result = run("mcp", "tools", "missing", check=False)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith('agentterm: error: MCP server "missing" cannot start: '
                                    '"agentterm-no-such-program" was not found')
    result = run("mcp", "tools", "nope", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == ('agentterm: error: no MCP server named "nope" in the config '
                                     "(it defines: demo, web, missing) Run `agentterm mcp list` to see them.")


def test_doctor_names_urls_models_schema_and_servers(run, server, db_path):
    server.models = ["test-model"]  # the title model "test-title-model" is not listed
    with Store(db_path) as store:
        store.create_agent("Wrong", model="no-such-model")
    result = run("doctor", check=False)
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert any(line.startswith(f"ok   provider local (default): {server.base_url}; key set; reached, 1 models")
               for line in lines), lines
    assert 'FAIL provider local: model "test-title-model" (its title_model) is not among the models it lists' in lines
    assert 'FAIL provider local: model "no-such-model" (agent Wrong) is not among the models it lists' in lines
    assert 'FAIL provider local: model "test-model"' not in result.stdout
    assert any(line.startswith("ok   store opened (0 conversations), schema version ") for line in lines)
    demo = next(line for line in lines if line.startswith("ok   mcp server demo (stdio): "))
    assert demo.startswith("ok   mcp server demo (stdio): 8 tools: echo, add, fail")
    assert any(line.startswith('FAIL mcp server web (http): MCP server "web" cannot be reached at '
                               "http://127.0.0.1:9/mcp") for line in lines)
    assert any(line.startswith('FAIL mcp server missing (stdio): MCP server "missing" cannot start') for line in lines)


def test_doctor_passes_when_every_model_is_listed(db_path, config_path, server):
    server.models = ["test-model", "test-title-model"]
    env = {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path)}
    result = subprocess.run([sys.executable, "-m", "agentterm", "doctor"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0, result.stdout
    assert "FAIL" not in result.stdout and "mcp server" not in result.stdout
