"""MCPTools against real MCP servers (tests/mcp_servers/demo.py) over stdio and streamable HTTP."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from agentterm.config import load_settings
from agentterm.models import Agent
from agentterm.tools import MCPTools, ToolSpec
from tests.mcp_servers.helpers import DEMO, free_port, http_demo

TOKEN = "demo-token-SECRET-4242"


def agent(servers: list[str], allowed: list[str] | None = None) -> Agent:
    made = Agent(id=1, name="tester")
    # Set as attributes so this works before and after the store adds the fields to Agent.
    made.mcp_servers = servers
    made.allowed_tools = allowed
    return made


def write_config(path: Path, http_url: str = "http://127.0.0.1:9/mcp", extra: str = "") -> Path:
    py = json.dumps(sys.executable)
    path.write_text(f"""
max_tool_result_chars = 1000

[mcp_servers.demo]
command = {py}
args = [{json.dumps(str(DEMO))}]
env = {{ DEMO_VALUE = "given" }}
cwd = {json.dumps(str(path.parent))}
timeout = 4

[mcp_servers.web]
url = "{http_url}"
headers_env = {{ Authorization = "DEMO_AUTH" }}
timeout = 4
startup_timeout = 10

[mcp_servers.missing]
command = "agentterm-no-such-program"

[mcp_servers.quitter]
command = {py}
args = ["-c", "import sys; print('no database at /nowhere', file=sys.stderr); sys.exit(1)"]

[mcp_servers.sleeper]
command = {py}
args = ["-c", "import time; time.sleep(60)"]
startup_timeout = 1
{extra}
""", encoding="utf-8")
    return path


@pytest.fixture
def http_url(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_AUTH", f"Bearer {TOKEN}")
    with http_demo(token=TOKEN, log=tmp_path / "http.log") as url:
        yield url


@pytest.fixture
async def tools(tmp_path):
    provider = MCPTools(load_settings(write_config(tmp_path / "config.toml")), log_dir=tmp_path / "logs")
    yield provider
    await provider.aclose()


@pytest.fixture
async def web_tools(tmp_path, http_url):
    provider = MCPTools(load_settings(write_config(tmp_path / "config.toml", http_url)), log_dir=tmp_path / "logs")
    yield provider
    await provider.aclose()


def by_tool(specs: list[ToolSpec]) -> dict[str, ToolSpec]:
    return {spec.tool: spec for spec in specs}


# --- listing --------------------------------------------------------------------------------------


async def test_an_agent_with_no_servers_starts_nothing(tools):
    assert await tools.list_tools(agent([])) == []
    assert not any(c.running for c in tools.connections.values())


async def test_a_stdio_server_starts_on_first_use_and_lists_its_tools(tools):
    assert not tools.connections["demo"].running
    specs = by_tool(await tools.list_tools(agent(["demo"])))
    assert {"echo", "add", "fail", "hang", "big", "crash", "spawn", "whereami"} <= set(specs)
    echo = specs["echo"]
    assert echo.name == "demo__echo" and echo.qualified == "demo.echo" and echo.description == "Say the text back."
    assert echo.openai_tool()["function"]["parameters"]["required"] == ["text"]
    assert tools.spec_for("demo__echo") == echo
    assert tools.connections["demo"].running


async def test_allowed_tools_narrows_the_listing(tools):
    specs = await tools.list_tools(agent(["demo"], allowed=["demo.echo", "demo.add", "other.x"]))
    assert sorted(spec.qualified for spec in specs) == ["demo.add", "demo.echo"]


async def test_a_server_with_no_allowed_tool_is_not_started(tools):
    assert await tools.list_tools(agent(["demo"], allowed=["other.x"])) == []
    assert not tools.connections["demo"].running


async def test_a_server_that_cannot_start_is_left_out_with_its_reason(tools):
    specs = await tools.list_tools(agent(["missing", "demo", "nowhere"]))
    assert {spec.server for spec in specs} == {"demo"}
    assert tools.faults["missing"] == ('MCP server "missing" cannot start: "agentterm-no-such-program" was not found '
                                       f"(is it installed and on PATH?); its log: {tools.log_dir / 'mcp-missing.log'}")
    assert tools.faults["nowhere"].startswith('no MCP server named "nowhere" in the config (it defines: demo, web,')


# --- calls over stdio -----------------------------------------------------------------------------


async def test_a_call_answers_with_the_tools_text(tools):
    specs = by_tool(await tools.list_tools(agent(["demo"])))
    outcome = await tools.call(specs["echo"], {"text": "hello there"})
    assert (outcome.text, outcome.is_error) == ("hello there", False)
    outcome = await tools.call(specs["add"], {"a": 2, "b": 40})
    assert json.loads(outcome.text) == {"sum": 42} and not outcome.is_error


async def test_the_server_gets_its_env_and_cwd_but_not_our_secrets(tools, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-servers")
    specs = by_tool(await tools.list_tools(agent(["demo"])))
    seen = json.loads((await tools.call(specs["whereami"], {})).text)
    assert seen["value"] == "given" and seen["cwd"] == str(tmp_path)
    assert "sk-not-for-servers" not in Path(f"/proc/{seen['pid']}/environ").read_bytes().decode(errors="replace")


async def test_a_tool_error_is_an_outcome_and_the_server_goes_on(tools):
    specs = by_tool(await tools.list_tools(agent(["demo"])))
    outcome = await tools.call(specs["fail"], {"message": "disk on fire"})
    assert outcome.is_error and outcome.text == "demo.fail failed: Error executing tool fail: disk on fire"
    assert (await tools.call(specs["echo"], {"text": "still here"})).text == "still here"


async def test_bad_arguments_are_an_outcome(tools):
    specs = by_tool(await tools.list_tools(agent(["demo"])))
    outcome = await tools.call(specs["add"], {"a": "not a number"})
    assert outcome.is_error and outcome.text.startswith("demo.add failed:")


async def test_a_hanging_call_times_out_and_the_server_stays_usable(tools):
    specs = by_tool(await tools.list_tools(agent(["demo"])))
    outcome = await tools.call(specs["hang"], {"seconds": 30})
    assert outcome.is_error
    assert outcome.text == "demo.hang did not answer within 4 s (mcp_servers.demo.timeout); the call was given up"
    assert (await tools.call(specs["echo"], {"text": "awake"})).text == "awake"


async def test_a_large_result_is_cut_with_a_marker(tools):
    specs = by_tool(await tools.list_tools(agent(["demo"])))
    outcome = await tools.call(specs["big"], {"size": 50_000})
    assert not outcome.is_error
    assert outcome.text.startswith("0123456789" * 100)
    assert outcome.text.endswith("\n[result cut: 49,000 of 50,000 characters left out]")
    assert len(outcome.text) < 1100


async def test_a_crash_mid_call_is_one_line_and_the_next_call_restarts_the_server(tools):
    specs = by_tool(await tools.list_tools(agent(["demo"])))
    first_pid = json.loads((await tools.call(specs["whereami"], {})).text)["pid"]
    outcome = await tools.call(specs["crash"], {})
    assert outcome.is_error and "\n" not in outcome.text
    assert outcome.text.startswith('MCP server "demo" stopped during the call to crash (it said: demo: crashing on '
                                   "purpose); the next call starts it again; its log: ")
    second = json.loads((await tools.call(specs["whereami"], {})).text)
    assert second["pid"] != first_pid
    log = (tools.log_dir / "mcp-demo.log").read_text()
    assert log.count("demo: starting") == 2 and oct(os.stat(tools.log_dir / "mcp-demo.log").st_mode & 0o777) == "0o600"


async def test_a_server_that_exits_at_once_says_so_with_its_last_words(tools):
    spec = ToolSpec(server="quitter", tool="x", name="quitter__x")
    outcome = await tools.call(spec, {})
    assert outcome.is_error
    assert outcome.text == ('MCP server "quitter" exited before it answered (it said: no database at /nowhere); '
                            f"its log: {tools.log_dir / 'mcp-quitter.log'}")


async def test_a_server_that_never_answers_at_start_times_out(tools):
    outcome = await tools.call(ToolSpec(server="sleeper", tool="x", name="sleeper__x"), {})
    assert outcome.is_error and outcome.text.startswith(
        'MCP server "sleeper" did not answer within 1 s of starting (mcp_servers.sleeper.startup_timeout)')


async def test_a_call_to_an_unknown_server_or_tool_is_an_outcome(tools):
    outcome = await tools.call(ToolSpec(server="gone", tool="x", name="gone__x"), {})
    assert outcome.is_error and outcome.text == 'gone.x cannot be called: no MCP server named "gone" in the config'
    outcome = await tools.call(ToolSpec(server="demo", tool="nope", name="demo__nope"), {})
    assert outcome.is_error and outcome.text.startswith("demo.nope failed:")


async def test_aclose_ends_the_server_process(tools):
    specs = by_tool(await tools.list_tools(agent(["demo"])))
    pid = json.loads((await tools.call(specs["whereami"], {})).text)["pid"]
    await tools.aclose()
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    assert not tools.connections["demo"].running


async def test_the_servers_stderr_goes_to_its_log_not_ours(tools, capfd):
    specs = by_tool(await tools.list_tools(agent(["demo"])))
    await tools.call(specs["fail"], {})
    await tools.aclose()
    captured = capfd.readouterr()
    assert "demo: starting" not in captured.err + captured.out
    assert "demo: starting" in (tools.log_dir / "mcp-demo.log").read_text()


async def test_the_sdks_warnings_go_to_a_log_not_the_screen(web_tools, capfd):
    specs = by_tool(await web_tools.list_tools(agent(["web"])))
    await web_tools.call(specs["crash"], {})  # the SDK then warns that ending the session failed
    await web_tools.aclose()
    captured = capfd.readouterr()
    assert "Session termination failed" not in captured.err + captured.out
    assert "Session termination failed" in (web_tools.log_dir / "mcp.log").read_text()


# --- calls over streamable HTTP -------------------------------------------------------------------


async def test_an_http_server_lists_and_answers_with_headers_from_the_environment(web_tools):
    specs = by_tool(await web_tools.list_tools(agent(["web"])))
    assert specs["echo"].name == "web__echo"
    assert (await web_tools.call(specs["echo"], {"text": "over http"})).text == "over http"
    assert json.loads((await web_tools.call(specs["add"], {"a": 1, "b": 2})).text) == {"sum": 3}


async def test_http_faults_are_outcomes(web_tools):
    specs = by_tool(await web_tools.list_tools(agent(["web"])))
    fail = await web_tools.call(specs["fail"], {})
    assert fail.is_error and fail.text == "web.fail failed: Error executing tool fail: it went wrong"
    late = await web_tools.call(specs["hang"], {"seconds": 30})
    assert late.is_error and late.text.startswith("web.hang did not answer within 4 s")
    big = await web_tools.call(specs["big"], {"size": 5000})
    assert big.text.endswith("[result cut: 4,000 of 5,000 characters left out]")
    assert (await web_tools.call(specs["echo"], {"text": "still"})).text == "still"


async def test_an_http_server_that_crashes_gives_one_line(web_tools):
    specs = by_tool(await web_tools.list_tools(agent(["web"])))
    outcome = await web_tools.call(specs["crash"], {})
    assert outcome.is_error
    assert outcome.text == 'MCP server "web" closed the connection during the call to crash; the next call connects again'
    again = await web_tools.call(specs["echo"], {"text": "x"})
    assert again.is_error and again.text.startswith('MCP server "web" cannot be reached at http://127.0.0.1:')


async def test_a_wrong_token_is_refused_without_showing_it(tmp_path, http_url, monkeypatch):
    monkeypatch.setenv("DEMO_AUTH", "Bearer wrong-token-SHOWN-NOWHERE")
    provider = MCPTools(load_settings(write_config(tmp_path / "config.toml", http_url)), log_dir=tmp_path / "logs")
    try:
        assert await provider.list_tools(agent(["web"])) == []
        assert provider.faults["web"] == (f'MCP server "web" refused the request (HTTP 401) at {http_url}; '
                                          "check headers_env ($DEMO_AUTH)")
        assert "wrong-token" not in provider.faults["web"]
    finally:
        await provider.aclose()


async def test_an_unset_header_variable_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("DEMO_AUTH", raising=False)
    provider = MCPTools(load_settings(write_config(tmp_path / "config.toml")), log_dir=tmp_path / "logs")
    outcome = await provider.call(ToolSpec(server="web", tool="echo", name="web__echo"), {"text": "x"})
    await provider.aclose()
    assert outcome.is_error
    assert outcome.text == 'MCP server "web" cannot start: headers_env: Authorization comes from $DEMO_AUTH, which is not set'


async def test_nothing_listens_at_the_url(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_AUTH", "x")
    url = f"http://127.0.0.1:{free_port()}/mcp"
    provider = MCPTools(load_settings(write_config(tmp_path / "config.toml", url)), log_dir=tmp_path / "logs")
    outcome = await provider.call(ToolSpec(server="web", tool="echo", name="web__echo"), {"text": "x"})
    await provider.aclose()
    assert outcome.is_error and outcome.text.startswith(f'MCP server "web" cannot be reached at {url}:')


def gone(pid: int) -> bool:
    try:
        return "zombie" in Path(f"/proc/{pid}/status").read_text().lower() or \
            "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True


async def test_aclose_ends_what_the_server_started_too(tools):
    specs = by_tool(await tools.list_tools(agent(["demo"])))
    child = json.loads((await tools.call(specs["spawn"], {})).text)["pid"]
    server = json.loads((await tools.call(specs["whereami"], {})).text)["pid"]
    assert not gone(child)
    await tools.aclose()
    assert gone(server) and gone(child)


async def test_a_cancelled_call_leaves_the_server_usable(tools):
    import asyncio

    specs = by_tool(await tools.list_tools(agent(["demo"])))
    running = asyncio.create_task(tools.call(specs["hang"], {"seconds": 30}))
    await asyncio.sleep(0.5)
    running.cancel()  # what Escape does to a turn mid-call
    with pytest.raises(asyncio.CancelledError):
        await running
    assert (await tools.call(specs["echo"], {"text": "after cancel"})).text == "after cancel"


async def test_after_an_http_server_comes_back_the_next_call_connects_again(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_AUTH", f"Bearer {TOKEN}")
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    provider = MCPTools(load_settings(write_config(tmp_path / "config.toml", url)), log_dir=tmp_path / "logs")
    try:
        with http_demo(token=TOKEN, port=port):
            specs = by_tool(await provider.list_tools(agent(["web"])))
            await provider.call(specs["crash"], {})
        with http_demo(token=TOKEN, port=port):
            assert (await provider.call(specs["echo"], {"text": "back"})).text == "back"
    finally:
        await provider.aclose()


async def test_a_url_with_no_mcp_endpoint_says_so(tmp_path, http_url):
    url = http_url.replace("/mcp", "/not-mcp")
    provider = MCPTools(load_settings(write_config(tmp_path / "config.toml", url)), log_dir=tmp_path / "logs")
    try:
        assert await provider.list_tools(agent(["web"])) == []
        assert provider.faults["web"] == f'MCP server "web" has no MCP endpoint at {url} (HTTP 404); check its url'
    finally:
        await provider.aclose()
