"""SIGTERM and SIGHUP end the real `agentterm` as ctrl+q does: terminal restored, answer kept (issue 8.16)."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from agentterm.store import Store
from tests.conftest import TEST_KEY
from tests.openai_server import Stream
from tests.tmux import Tmux, ensure_tmux

ANSWER = "One two three four five six seven eight nine ten. " * 8


def command() -> str:
    # This checkout's command (the venv running the tests), not whichever is first on PATH.
    mine = Path(sys.executable).parent / "agentterm"
    return str(mine) if mine.exists() else (shutil.which("agentterm") or "")


@pytest.fixture
def shell(db_path, config_path):
    """A tmux pane running the app from a shell that, once it ends, prints the terminal's state."""
    if ensure_tmux() is None:
        pytest.fail("tmux is needed for the end-to-end tests and could not be installed")
    argv = shlex.quote(command()) if command() else f"{shlex.quote(sys.executable)} -m agentterm"
    script = f'{argv}; echo "APP ENDED $?"; stty -a; echo "STTY DONE"; sleep 60'
    env = {"AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path),
           "AGENTTERM_TEST_KEY": TEST_KEY, "HOME": os.environ["HOME"], "PATH": os.environ["PATH"],
           "TERM": "xterm-256color"}
    session = Tmux(["sh", "-c", script], env)
    yield session
    session.close()


def app_pid(session: Tmux) -> int:
    """The app's process: the one child of the pane's shell."""
    shell_pid = session._tmux("display-message", "-p", "-t", session.name, "#{pane_pid}").strip()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = Path(f"/proc/{shell_pid}/task/{shell_pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise AssertionError("the app did not start")


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_the_app_like_ctrl_q(shell, server, db_path, signal_number):
    server.script(Stream(text=ANSWER, chunk_size=5, delay=0.15))
    shell.wait_for("ctrl+n")
    shell.send("C-n")
    shell.wait_for("(default)")
    shell.send("Enter")
    shell.wait_gone("Show retired")
    shell.type("count for me")
    shell.send("Enter")
    shell.wait_for("One two three four")  # streaming now
    os.kill(app_pid(shell), signal_number)

    screen = shell.wait_for("STTY DONE")
    assert "APP ENDED 0" in screen  # the same exit as ctrl+q
    state = shell._tmux("display-message", "-p", "-t", shell.name,
                        "#{alternate_on} #{mouse_any_flag} #{mouse_button_flag} #{cursor_flag}").split()
    assert state == ["0", "0", "0", "1"], state  # main screen, no mouse tracking, cursor shown
    settings = " ".join(screen.split())
    assert " echo " in f" {settings} " and " icanon " in f" {settings} ", screen  # cooked again

    store = Store(db_path)
    try:
        conversation = store.list_conversations()[0]
        user, answer = store.all_messages(conversation.id)
        assert user.content == "count for me"
        assert answer.status == "interrupted" and answer.content
        assert ANSWER.startswith(answer.content) and answer.content != ANSWER
    finally:
        store.close()
