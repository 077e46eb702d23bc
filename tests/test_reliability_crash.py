"""Crash safety: `kill -9` mid-answer loses neither the prompt nor the answer up to its last flush."""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from agentterm.config import load_settings
from agentterm.llm import LLMClient
from agentterm.models import STALE_AFTER, to_iso, utcnow
from agentterm.store import Store
from tests.app_helpers import make_app, settle, until
from tests.openai_server import Stream
from tests.reliability_helpers import (
    AGENTTERM,
    agentterm_pid,
    answers,
    cli_env,
    read_rows,
    run_cli,
    wait_until,
    write_config,
)
from tests.tmux import Tmux, ensure_tmux

WORDS = [f"w{i:03d} " for i in range(400)]
FULL = "".join(WORDS)
FLUSH_BOUND = 0.5 + 0.7  # the promise, plus slack for a loaded machine (a 2 s interval still fails)


def watch_disk(db, seconds: float) -> list[tuple[float, str]]:
    """Poll the streaming answer's stored text; (time, text) at each change."""
    seen: list[tuple[float, str]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rows = answers(db)
        text = rows[-1][2] if rows else ""
        if not seen or text != seen[-1][1]:
            seen.append((time.monotonic(), text))
        time.sleep(0.02)
    return seen


def gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()  # a zombie still counts as a live owner


def assert_flushed_every_half_second(seen: list[tuple[float, str]]) -> None:
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(seen)]
    assert len(seen) >= 3, seen
    assert max(gaps) <= FLUSH_BOUND, f"the stored answer went {max(gaps):.2f} s without a flush"


def assert_kept_after_kill(db, prompt: str, before_kill: str) -> tuple[int, str]:
    """The prompt and at least the text on disk just before the kill; the row left streaming."""
    assert read_rows(db, "SELECT content FROM messages WHERE role = 'user'") == [(prompt,)]
    [(answer_id, status, content)] = answers(db)
    assert status == "streaming"  # as the killed process left it
    assert FULL.startswith(content) and content.startswith(before_kill)
    assert 0 < len(content) < len(FULL)
    return answer_id, content


def as_if_stale(db) -> None:
    """Move the dead writer's last heartbeat STALE_AFTER into the past, instead of waiting."""
    conn = sqlite3.connect(db, timeout=5)
    with conn:
        conn.execute("UPDATE messages SET heartbeat_at = ? WHERE status = 'streaming'",
                     [to_iso(utcnow() - STALE_AFTER - timedelta(seconds=1))])
    conn.close()


@pytest.fixture
def setup(tmp_path, server):
    db = tmp_path / "data" / "store.db"
    config = write_config(tmp_path / "config.toml", server.base_url)
    return db, config, cli_env(db, config)


def test_kill_9_of_ask_keeps_the_prompt_and_the_streamed_text(setup, server):
    db, _, env = setup
    server.script(Stream(chunks=WORDS, delay=0.05), Stream(text="Answered again."))
    proc = subprocess.Popen([*AGENTTERM, "ask", "--no-title", "tell me"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env)
    printed: list[tuple[float, bytes]] = []

    def read() -> None:
        while chunk := os.read(proc.stdout.fileno(), 4096):
            printed.append((time.monotonic(), chunk))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_until(lambda: answers(db) and answers(db)[-1][2], what="the answer on disk")
        seen = watch_disk(db, 2.0)
        killed_at = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    reader.join(timeout=5)

    assert_flushed_every_half_second(seen)
    _, content = assert_kept_after_kill(db, "tell me", seen[-1][1])
    as_if_stale(db)
    # Everything printed more than a flush interval (and some slack) before the kill is stored.
    shown_before = b"".join(c for t, c in printed if t <= killed_at - FLUSH_BOUND).decode()
    assert len(shown_before) > 10 and content.startswith(shown_before)

    # The next start marks it interrupted, shows it, and offers the retry, which works.
    shown = run_cli("chats", "show", "1", env=env)
    text = shown.stdout.decode()
    assert shown.returncode == 0 and "## assistant (interrupted)" in text and content in text
    assert "agentterm chats regenerate 1" in text and "agentterm chats continue 1" in text
    retried = run_cli("ask", "--retry", env=env)
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.decode().strip() == "Answered again."
    # The retry never deletes: the cut answer stays, as the variant no longer shown.
    assert read_rows(db, "SELECT role, status, content FROM messages ORDER BY id") == [
        ("user", "complete", "tell me"), ("assistant", "interrupted", content),
        ("assistant", "complete", "Answered again.")]


async def test_an_answer_cut_by_a_crash_reads_as_interrupted_in_the_app_with_retry(setup, server):
    db, config, _ = setup
    store = Store(db)
    conversation = store.create_conversation(agent_id=store.default_agent().id)
    store.add_message(conversation.id, "user", "tell me")
    answer = store.add_message(conversation.id, "assistant", "w000 w001 ", status="streaming")
    store.close()
    as_if_stale(db)  # its writer was killed STALE_AFTER ago

    store = Store(db)  # the next start
    settings = load_settings(config)
    server.script(Stream(text="Answered again."))
    app = make_app(settings, store, LLMClient(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        view = app.main_screen.chat_pane.chat_view.view_for(answer.id)
        assert view.has_class("-interrupted")
        status = str(view.query_one(".message-status").render())
        assert "Interrupted" in status and "[retry]" in status
        view.focus()
        await pilot.pause()
        view._letters_armed = True  # the user is working the chat (tests/test_app_focus.py)
        await pilot.press("r")
        await until(pilot, lambda: [m.status for m in store.all_messages(conversation.id)]
                    == ["complete", "complete"])
        assert store.all_messages(conversation.id)[-1].content == "Answered again."
    store.close()


def test_kill_9_of_the_app_keeps_the_prompt_and_the_streamed_text(setup, server):
    if ensure_tmux() is None:
        pytest.skip("tmux is not available")
    db, _, env = setup
    server.script(Stream(chunks=WORDS, delay=0.05))
    session = Tmux(AGENTTERM, {k: env[k] for k in ("AGENTTERM_DB", "AGENTTERM_CONFIG", "HOME")}
                   | {"AGENTTERM_RELIABILITY_KEY": env["AGENTTERM_RELIABILITY_KEY"]})
    try:
        session.wait_for("Inbox", timeout=30)
        session.send("C-n")
        session.wait_for("Type to filter agents")  # the picker, the default agent highlighted
        session.send("Enter")
        session.wait_for("Type a prompt")
        session.type("tell me")
        session.send("Enter")
        try:
            wait_until(lambda: answers(db) and answers(db)[-1][2], what="the answer on disk")
        except AssertionError:
            raise AssertionError(session.screen()) from None
        seen = watch_disk(db, 2.0)
        pane_pid = int(session._tmux("list-panes", "-t", session.name, "-F", "#{pane_pid}").split()[0])
        pid = agentterm_pid(pane_pid)
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: gone(pid), what="the killed app gone")
    finally:
        session.close()

    assert_flushed_every_half_second(seen)
    answer_id, content = assert_kept_after_kill(db, "tell me", seen[-1][1])
    as_if_stale(db)
    store = Store(db)  # the next start recovers it
    try:
        message = store.get_message(answer_id)
        assert (message.status, message.content) == ("interrupted", content)
    finally:
        store.close()


def test_ctrl_c_in_ask_stores_the_partial_answer_as_interrupted(setup, server):
    db, _, env = setup
    server.script(Stream(chunks=WORDS, delay=0.05))
    proc = subprocess.Popen([*AGENTTERM, "ask", "--no-title", "tell me"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until(lambda: answers(db) and answers(db)[-1][2], what="the answer on disk")
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and err.decode().strip() == "agentterm: interrupted"
    [(_, status, content)] = answers(db)
    assert status == "interrupted" and FULL.startswith(content) and content.startswith(out.decode().strip())
