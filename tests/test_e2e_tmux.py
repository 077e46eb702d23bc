"""End to end: the installed `agentterm` command in a real terminal (tmux), driven by its keys."""

from __future__ import annotations

import os
import shutil
import sys
import time

import pytest

from agentterm.store import Store
from tests.conftest import TEST_KEY
from tests.openai_server import Complete, Stream
from tests.tmux import Tmux, ensure_tmux


@pytest.fixture
def terminal(db_path, config_path):
    if ensure_tmux() is None:
        pytest.fail("tmux is needed for the end-to-end tests and could not be installed")
    command = shutil.which("agentterm")
    argv = [command] if command else [sys.executable, "-m", "agentterm"]
    env = {
        "AGENTTERM_DB": str(db_path),
        "AGENTTERM_CONFIG": str(config_path),
        "AGENTTERM_TEST_KEY": TEST_KEY,
        "HOME": os.environ["HOME"],
        "PATH": os.environ["PATH"],
        "TERM": "xterm-256color",
    }
    session = Tmux(argv, env)
    yield session
    session.close()


def ask(terminal: Tmux, prompt: str) -> None:
    terminal.send("C-n")
    terminal.wait_for("(default)")
    terminal.send("Enter")  # the default agent is preselected
    terminal.wait_gone("Show retired")
    terminal.type(prompt)
    terminal.send("Enter")


def test_chat_titles_switching_and_quit_in_a_real_terminal(terminal, server, db_path):
    server.script(
        Stream(text="Paris is the capital of France."), Complete("French Capital City"),
        Stream(text="Berlin is the capital of Germany."), Complete("German Capital City"),
    )
    terminal.wait_for("ctrl+n")

    ask(terminal, "What is the capital of France?")
    terminal.wait_for("Paris is the capital of France.")
    terminal.wait_for("French Capital City")

    ask(terminal, "And of Germany?")
    terminal.wait_for("Berlin is the capital of Germany.")
    terminal.wait_for("German Capital City")

    # The sidebar lists the newest first: ctrl+down goes to the older conversation.
    terminal.send("C-down")
    screen = terminal.wait_for("Paris is the capital of France.")
    assert "Berlin is the capital" not in screen
    terminal.send("C-up")
    screen = terminal.wait_for("Berlin is the capital of Germany.")
    assert "Paris is the capital" not in screen

    terminal.send("C-q")
    deadline = time.monotonic() + 10
    while terminal.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not terminal.alive(), "ctrl+q did not quit the app"

    store = Store(db_path)
    try:
        titles = [c.title for c in store.list_conversations()]
        assert titles == ["German Capital City", "French Capital City"]
    finally:
        store.close()


def test_a_broken_config_is_said_in_the_app_which_opens_once_it_is_fixed(db_path, config_path, tmp_path):
    if ensure_tmux() is None:
        pytest.fail("tmux is needed for the end-to-end tests and could not be installed")
    good = config_path.read_text(encoding="utf-8")
    config_path.write_text(good + "\n[providers.broken\n", encoding="utf-8")
    command = shutil.which("agentterm")
    argv = [command] if command else [sys.executable, "-m", "agentterm"]
    env = {"AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path), "AGENTTERM_TEST_KEY": TEST_KEY,
           "HOME": os.environ["HOME"], "PATH": os.environ["PATH"], "TERM": "xterm-256color"}
    session = Tmux(argv, env)
    try:
        screen = session.wait_for("The config cannot be read")
        assert "not valid TOML" in screen and "line" in screen and "Traceback" not in screen
        config_path.write_text(good, encoding="utf-8")
        session.send("r")
        session.wait_for("ctrl+n")  # the app itself, on its store
        assert not db_path.exists() or Store(db_path).count_conversations("all") == 0
    finally:
        session.close()
