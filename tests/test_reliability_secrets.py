"""Secrets: whole sessions with a marker key, crashes included; no byte agentterm writes holds it."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import pytest

from agentterm.config import write_default_config
from agentterm.store import Store
from tests.openai_server import Complete, Error, Stream
from tests.reliability_helpers import (
    AGENTTERM,
    KEY_ENV,
    MARKER_KEY,
    PtyProcess,
    one_error_line,
    run_cli,
    wait_until,
    write_config,
)

# Loaded by every agentterm process of a session (PYTHONPATH): AGENTTERM_TEST_FAULT=worker makes
# the reply flow raise, =crash makes showing a message raise, each with the key in a local
# variable and in the message, as a careless library might.
FAULT_HOOK = f'''
import os
_fault = os.environ.get("AGENTTERM_TEST_FAULT")
if _fault:
    import agentterm.humanize, agentterm.engine.turn

    def _boom(*args, **kwargs):
        secret = os.environ["{KEY_ENV}"]
        raise RuntimeError(f"forced fault holding {{secret}}")

    if _fault == "worker":
        agentterm.engine.turn.request_messages = _boom
    elif _fault == "crash":
        agentterm.humanize.message_time = _boom
'''


class Session:
    """One user's world: home, config, store, temp and working directories under one root."""

    def __init__(self, root: Path, base_url: str) -> None:
        self.root = root
        self.home = root / "home"
        self.cwd = root / "cwd"
        for path in (self.home / "Downloads", self.cwd, root / "tmp", root / "hook"):
            path.mkdir(parents=True)
        (root / "hook" / "sitecustomize.py").write_text(FAULT_HOOK)
        self.db = self.home / ".local" / "share" / "agentterm" / "agentterm.db"
        self.config = write_config(self.home / ".config" / "agentterm" / "config.toml", base_url)
        self.written: list[bytes] = []  # everything shown on a terminal

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTTERM", "XDG_"))}
        # TEXTUAL_LOG: Textual's own log file, which logs every message and worker error.
        env.update(HOME=str(self.home), TMPDIR=str(self.root / "tmp"), PYTHONPATH=str(self.root / "hook"),
                   TEXTUAL_LOG=str(self.root / "tmp" / "textual.log"),
                   XDG_CONFIG_HOME=str(self.home / ".config"), XDG_DATA_HOME=str(self.home / ".local/share"))
        env[KEY_ENV] = MARKER_KEY
        env.update(extra)
        return env

    def cli(self, *args: str, ok: bool = True, **extra: str):
        previous = os.getcwd()
        os.chdir(self.cwd)
        try:
            result = run_cli(*args, env=self.env(**extra))
        finally:
            os.chdir(previous)
        self.written += [result.stdout, result.stderr]
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    def app(self, **extra: str) -> PtyProcess:
        previous = os.getcwd()
        os.chdir(self.cwd)
        try:
            return PtyProcess([*AGENTTERM], self.env(**extra))
        finally:
            os.chdir(previous)

    def assert_no_key_anywhere(self) -> list[Path]:
        files = [p for p in self.root.rglob("*") if p.is_file() and p.parent.name != "hook"]
        for path in files:
            assert MARKER_KEY.encode() not in path.read_bytes(), f"the key is in {path}"
        for data in self.written:
            assert MARKER_KEY.encode() not in data
        return files


@pytest.fixture
def session(tmp_path, server):
    return Session(tmp_path / "world", server.base_url)


def test_a_command_line_session_writes_the_key_nowhere(session, server, tmp_path):
    echo = f"Incorrect API key provided: {MARKER_KEY}. You can find your key at ..."
    server.script(Stream("Hello."), Complete("Greeting"), Error(401, echo))
    session.cli("ask", "hello")
    assert one_error_line(session.cli("ask", "-c", "again", ok=False))
    session.cli("chats", "show", "1")
    session.cli("chats", "export", "1", "-o", "chat.md")
    session.cli("chats", "export", "1", "-f", "json", "-o", "chat.json")
    session.cli("agents", "export", "Assistant", "-o", "agent.toml")
    session.cli("doctor", ok=False)
    # A bug holding the key in its message and its locals: one line, the key hidden.
    line = one_error_line(session.cli("ask", "-c", "boom", ok=False, AGENTTERM_TEST_FAULT="worker"))
    assert "forced fault holding [key hidden]" in line
    # A key command that fails after printing the key: its output is never shown.
    script = tmp_path / "leak.py"
    script.write_text(f"import sys\nprint({MARKER_KEY!r})\nsys.stderr.write({MARKER_KEY!r})\nsys.exit(3)\n")
    leaky = write_config(tmp_path / "leaky.toml", server.base_url, key_env=None,
                         extra=f'api_key_cmd = ["{sys.executable}", "{script}"]\n')
    line = one_error_line(session.cli("ask", "-c", "x", ok=False, AGENTTERM_CONFIG=str(leaky)))
    assert "exit status 3" in line
    broken = write_config(tmp_path / "broken.toml", "htp//not a url")
    one_error_line(session.cli("ask", "-c", "y", ok=False, AGENTTERM_CONFIG=str(broken)))

    files = session.assert_no_key_anywhere()
    assert {"agentterm.db", "chat.md", "chat.json", "agent.toml"} <= {p.name for p in files}
    with Store(session.db) as store:  # the session did happen
        assert [m.content for m in store.all_messages(1)][:2] == ["hello", "Hello."]


def test_app_sessions_with_an_echoed_key_a_failing_worker_and_a_crash_write_it_nowhere(session, server):
    echo = f"Incorrect API key provided: {MARKER_KEY}."
    server.script(Stream("Hello."), Complete("Greeting"), Error(401, echo))
    app = session.app()
    try:
        app.wait_for(b"ctrl+n", timeout=30)
        mark = len(app.output)
        app.send(b"\x0e")  # ctrl+n, then enter: the default agent
        app.wait_for(b"Type to filter agents", start=mark)
        mark = len(app.output)
        app.send(b"\r")
        app.wait_for(b"Type a prompt; enter sends", start=mark)
        time.sleep(0.3)
        app.type("hello")
        app.send(b"\r")
        wait_until(lambda: server.pending == 1, what="the answer and the title")
        time.sleep(0.5)
        mark = len(app.output)
        app.type("again")
        app.send(b"\r")
        app.wait_for(b"refused the API key", start=mark, timeout=20)
        app.send(b"\x10")  # ctrl+p: the command palette's screenshot
        time.sleep(0.5)
        app.type("Screenshot")
        time.sleep(0.5)
        app.send(b"\r")
        wait_until(lambda: list(session.home.rglob("*.svg")), what="the screenshot")
    finally:
        assert app.close() == 0
    session.written.append(app.output)

    # A worker that raises with the key: a notice, the key hidden, the app still running.
    app = session.app(AGENTTERM_TEST_FAULT="worker")
    try:
        app.wait_for(b"ctrl+n", timeout=30)
        app.send(b"\x1b[B")
        app.send(b"\r")
        app.wait_for(b"[edit]", timeout=20)
        time.sleep(0.3)
        app.type("boom")
        app.send(b"\r")
        app.wait_for(b"forced fault holding", timeout=20)
    finally:
        assert app.close() == 0
    session.written.append(app.output)

    # A crash (showing a message raises): the app ends with one line, no traceback, no locals.
    app = session.app(AGENTTERM_TEST_FAULT="crash")
    try:
        app.wait_for(b"ctrl+n", timeout=30)
        app.send(b"\x1b[B")
        app.send(b"\r")
        wait_until(lambda: app.proc.poll() is not None, what="the app ending")
    finally:
        code = app.close()
    session.written.append(app.output)
    assert code == 1
    assert b"agentterm: error: unexpected RuntimeError: forced fault holding [key hidden]" in app.output
    assert b"Traceback" not in app.output and b"locals" not in app.output
    assert b"errors shown" not in app.output  # one line, whatever followed the first error

    files = session.assert_no_key_anywhere()
    assert any(p.suffix == ".svg" for p in files) and session.db in files
    assert any(p.name == "textual.log" for p in files)


def test_the_store_and_the_config_are_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        store = Store(tmp_path / "new" / "dir" / "store.db")
        store.create_conversation(title="x")
        config = write_default_config(tmp_path / "cfg" / "sub" / "config.toml")
    finally:
        os.umask(old)
    for path in (store.path, config):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, path.parent
    for side in (Path(f"{store.path}-wal"), Path(f"{store.path}-shm")):
        if side.exists():
            assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0, side
    store.close()
