"""`agentterm ask` asking approval for a real MCP server's calls: on a terminal, with no terminal, with --yes."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import sqlite3
import subprocess
import sys
import termios
import time

import pytest

from agentterm.store import Store
from tests.mcp_servers.helpers import DEMO
from tests.openai_responses import DONE, Events, chunk
from tests.openai_server import Stream


def tool_call(name: str, arguments: dict) -> Events:
    call = {"index": 0, "id": "call_1", "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)}}
    return Events([chunk({"role": "assistant", "tool_calls": [call]}), chunk(None, "tool_calls"), DONE])


@pytest.fixture
def env(db_path, config_path, tmp_path):
    with open(config_path, "a", encoding="utf-8") as handle:
        handle.write(f"\n[mcp_servers.demo]\ncommand = {json.dumps(sys.executable)}\n"
                     f"args = [{json.dumps(str(DEMO))}]\ntimeout = 10\n")
    with Store(db_path) as store:
        store.create_agent("Echoer", mcp_servers=["demo"])
    return {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path),
            "XDG_DATA_HOME": str(tmp_path / "data")}


def calls(db_path) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT tool, status, reason, result FROM tool_calls ORDER BY id").fetchall()


def test_with_no_terminal_and_no_yes_a_call_is_denied_never_run_and_ask_fails(env, server, db_path):
    server.script(tool_call("demo__echo", {"text": "pong"}), Stream(text="I could not call it."))

    result = subprocess.run([sys.executable, "-m", "agentterm", "ask", "--no-title", "-a", "Echoer", "ping"],
                            capture_output=True, text=True, env=env, timeout=120, start_new_session=True)

    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if "denied" in line]
    assert "no terminal" in line and "--yes" in line
    assert result.stdout.strip() == "I could not call it."  # the turn went on
    [(tool, status, reason, _)] = calls(db_path)
    assert (tool, status) == ("echo", "denied") and "no terminal" in reason
    sent = server.requests[-1]["messages"][-1]
    assert sent["role"] == "tool" and sent["content"].startswith("Cancelled: the user denied this call")


class Terminal:
    """`ask` with a pseudo-terminal as its controlling terminal, so /dev/tty is the one we type on."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()

        def controlling() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     preexec_fn=controlling, close_fds=True)
        os.close(slave)
        self.master = master
        self.output = b""

    def read_until(self, needle: bytes, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            assert time.monotonic() < deadline, (needle, self.output)
            try:
                self.output += os.read(self.master, 65536)
            except OSError:
                time.sleep(0.05)

    def finish(self) -> int:
        code = self.proc.wait(timeout=60)
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                break
            if not data:
                break
            self.output += data
        os.close(self.master)
        return code


@pytest.mark.parametrize("answer", ["y", "a", "n not that one"])
def test_on_a_terminal_each_call_is_asked_y_a_or_n(env, server, db_path, answer):
    server.script(tool_call("demo__echo", {"text": "pong"}), Stream(text="Done."))
    term = Terminal([sys.executable, "-m", "agentterm", "ask", "--no-title", "-a", "Echoer", "ping"], env)
    term.read_until(b"[y/a/N]")
    assert b"demo.echo" in term.output and b"pong" in term.output
    os.write(term.master, answer.encode() + b"\n")
    code = term.finish()

    [(tool, status, reason, result)] = calls(db_path)
    with Store(db_path) as store:
        allowed = store.allowed_tools_for(store.get_agent_by_name("Echoer").id)
    if answer == "n not that one":
        assert (status, reason) == ("denied", "not that one") and code == 0
        assert server.requests[-1]["messages"][-1]["content"].endswith(": not that one")
    else:
        assert (status, result, code) == ("done", "pong", 0)
        assert allowed == ({"demo.echo"} if answer == "a" else set())
    assert b"Done." in term.output


def test_keys_typed_before_the_question_do_not_answer_it(env, server, db_path):
    """A `y` typed ahead (while the answer streamed) must not run the tool: only a key typed after."""
    server.script(tool_call("demo__echo", {"text": "pong"}), Stream(text="Done."))
    term = Terminal([sys.executable, "-m", "agentterm", "ask", "--no-title", "-a", "Echoer", "ping"], env)
    os.write(term.master, b"y\n")  # before the process has even started asking
    term.read_until(b"[y/a/N]")
    os.write(term.master, b"n\n")
    code = term.finish()

    [(tool, status, reason, result)] = calls(db_path)
    assert (tool, status, code) == ("echo", "denied", 0), term.output
