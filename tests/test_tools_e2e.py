"""`agentterm ask` with an agent whose MCP server is real: the model calls its tool and answers from the result."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from agentterm.store import Store
from tests.conftest import TEST_KEY
from tests.mcp_servers.helpers import DEMO, http_demo
from tests.openai_responses import DONE, Events, chunk
from tests.openai_server import Stream

TOKEN = "e2e-token-SECRET-31337"


def tool_call(name: str, arguments: dict) -> Events:
    call = {"index": 0, "id": "call_1", "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)}}
    return Events([chunk({"role": "assistant", "tool_calls": [call]}), chunk(None, "tool_calls"), DONE])


@pytest.fixture
def mcp_env(db_path, config_path, tmp_path):
    def make(http_url: str | None = None) -> dict[str, str]:
        server = (f'url = "{http_url}"\nheaders_env = {{ Authorization = "E2E_AUTH" }}' if http_url else
                  f"command = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(DEMO))}]")
        with open(config_path, "a", encoding="utf-8") as handle:
            handle.write(f"\n[mcp_servers.demo]\n{server}\ntimeout = 10\n")
        with Store(db_path) as store:
            store.create_agent("Echoer", mcp_servers=["demo"], allowed_tools=["demo.echo", "demo.fail"])
        return {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path),
                "E2E_AUTH": f"Bearer {TOKEN}", "XDG_DATA_HOME": str(tmp_path / "data")}
    return make


def ask(env, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "agentterm", "ask", "--no-title", *args], capture_output=True,
                            text=True, env=env, timeout=120, start_new_session=True)
    assert "Traceback" not in result.stderr
    assert TEST_KEY not in result.stdout + result.stderr and TOKEN not in result.stdout + result.stderr
    return result


def calls(db_path) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT name, server, tool, status, result FROM tool_calls ORDER BY id").fetchall()


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_ask_calls_the_mcp_tool_and_answers_from_its_result(transport, mcp_env, server, db_path, tmp_path):
    server.script(tool_call("demo__echo", {"text": "pong from MCP"}), Stream(text="The tool said pong."))
    if transport == "http":
        with http_demo(token=TOKEN) as url:
            result = ask(mcp_env(url), "--yes", "-a", "Echoer", "ping the tool")
    else:
        result = ask(mcp_env(), "--yes", "-a", "Echoer", "ping the tool")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("The tool said pong.")
    offered = [tool["function"]["name"] for tool in server.requests[0]["tools"]]
    assert sorted(offered) == ["demo__echo", "demo__fail"]  # allowed_tools narrowed the seven
    tool_message = server.requests[1]["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["content"] == "pong from MCP"
    assert calls(db_path) == [("demo__echo", "demo", "echo", "done", "pong from MCP")]


def test_a_failing_tool_is_told_to_the_model_and_the_turn_goes_on(mcp_env, server, db_path):
    server.script(tool_call("demo__fail", {"message": "quota exceeded"}), Stream(text="It failed, sorry."))
    result = ask(mcp_env(), "--yes", "-a", "Echoer", "try it")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("It failed, sorry.")
    assert server.requests[1]["messages"][-1]["content"] == "demo.fail failed: Error executing tool fail: quota exceeded"
    [(_, _, _, status, text)] = calls(db_path)
    assert status == "failed" and "quota exceeded" in text


def test_a_server_that_cannot_start_is_named_and_the_turn_goes_on(server, db_path, config_path, tmp_path):
    with open(config_path, "a", encoding="utf-8") as handle:
        handle.write('\n[mcp_servers.broken]\ncommand = "agentterm-no-such-mcp-server"\ntimeout = 10\n')
    with Store(db_path) as store:
        store.create_agent("Broken", mcp_servers=["broken"])
    env = {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path),
           "XDG_DATA_HOME": str(tmp_path / "data")}
    server.script(Stream(text="Answered without tools."))

    result = ask(env, "--yes", "-a", "Broken", "use your tools")

    assert result.returncode == 0, result.stderr
    assert "Answered without tools." in result.stdout
    lines = [line for line in result.stderr.splitlines() if "'broken'" in line]
    assert len(lines) == 1 and "unavailable" in lines[0], result.stderr
    assert "tools" not in server.requests[-1]  # nothing offered that cannot run
