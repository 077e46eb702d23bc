"""Two (or eight) agentterm processes on one store lose nothing; a locked store is a clear message."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import timedelta

import pytest

from agentterm.config import load_settings
from agentterm.llm import LLMClient
from agentterm.store import Store
from tests.app_helpers import make_app, seed_conversation, settle, until
from tests.openai_server import Stream
from tests.reliability_helpers import (
    AGENTTERM,
    cli_env,
    one_error_line,
    read_rows,
    run_cli,
    write_config,
)


@pytest.fixture
def setup(tmp_path, server):
    db = tmp_path / "data" / "store.db"
    config = write_config(tmp_path / "config.toml", server.base_url)
    return db, config, cli_env(db, config)


def test_eight_asks_at_once_lose_nothing_and_never_say_locked(setup, server):
    db, _, env = setup
    server.default = Stream("A shared answer, streamed slowly.", chunk_size=3, delay=0.02)
    procs = [subprocess.Popen([*AGENTTERM, "ask", f"prompt {i}"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(8)]
    results = [(proc.wait(timeout=120), *proc.communicate()) for proc in procs]

    for code, out, err in results:
        assert code == 0, err.decode()
        assert b"locked" not in err and b"busy" not in err and b"Traceback" not in err
        assert out.decode().strip() == "A shared answer, streamed slowly."
    rows = read_rows(db, "SELECT c.title, m.role, m.status, m.content FROM messages m "
                         "JOIN conversations c ON c.id = m.conversation_id ORDER BY m.id")
    prompts = sorted(content for _, role, _, content in rows if role == "user")
    assert prompts == sorted(f"prompt {i}" for i in range(8))
    assert [status for _, _, status, _ in rows] == ["complete"] * 16
    assert all(title for title, *_ in rows)  # every conversation was titled too
    counts = read_rows(db, "SELECT message_count FROM conversations")
    assert counts == [(2,)] * 8


async def test_the_app_and_ask_at_once_both_keep_everything(setup, server, monkeypatch):
    db, config, env = setup
    monkeypatch.setenv("AGENTTERM_RELIABILITY_KEY", env["AGENTTERM_RELIABILITY_KEY"])
    store = Store(db)
    seed = seed_conversation(store, "Earlier", [("old prompt", "old answer")], age=timedelta(hours=2))
    server.script(Stream("From the app, slowly. " * 10, chunk_size=4, delay=0.02))
    server.default = Stream("From ask.", chunk_size=2, delay=0.05)
    settings = load_settings(config)
    app = make_app(settings, store, LLMClient(settings))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await app.main_screen.open_conversation(seed.id)
            await settle(pilot)
            await pilot.press(*"from the app", "enter")
            await until(pilot, lambda: len(store.all_messages(seed.id)) == 4)
            ask = subprocess.Popen([*AGENTTERM, "ask", "--no-title", "from ask"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            # The app keeps streaming while ask writes, and ask opening the store leaves the
            # app's live answer alone (it is not "interrupted" by another process's start).
            for _ in range(1200):
                if ask.poll() is not None:
                    break
                await pilot.pause(0.05)
            _, err = ask.communicate()
            assert ask.returncode == 0, err.decode()
            await until(pilot, lambda: not app.main_screen.chat_pane.streaming, attempts=1000)
            await settle(pilot)
            mine = store.all_messages(seed.id)
            assert [(m.role, m.status) for m in mine] == [("user", "complete"), ("assistant", "complete")] * 2
            assert mine[-1].content == "From the app, slowly. " * 10
            theirs = [c for c in store.list_conversations() if c.id != seed.id]
            assert [m.content for m in store.all_messages(theirs[0].id)] == ["from ask", "From ask."]
            # The sidebar shows the conversation ask made.
            app.main_screen.sidebar.refresh_list()
            await pilot.pause()
            assert theirs[0].id in [c.id for c in app.main_screen.sidebar.conversations]
    finally:
        store.close()


def hold_lock(db) -> sqlite3.Connection:
    """Another program holding the store's write lock (as sqlite3 or a backup tool might)."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=0)
    conn.execute("BEGIN EXCLUSIVE")
    return conn


def test_a_locked_store_on_the_command_line_is_one_clear_line(setup, server):
    db, _, env = setup
    assert run_cli("chats", "list", env=env).returncode == 0  # the store exists
    holder = hold_lock(db)
    try:
        result = run_cli("ask", "--no-title", "are you there", env=env)
    finally:
        holder.rollback()
        holder.close()
    line = one_error_line(result)
    assert str(db) in line and "busy" in line and "Try again" in line
    assert server.requests == []
    assert run_cli("ask", "--no-title", "are you there", env=env).returncode == 0


async def test_a_locked_store_in_the_app_is_a_notice_and_the_prompt_stays(setup, server, monkeypatch):
    db, config, env = setup
    monkeypatch.setenv("AGENTTERM_RELIABILITY_KEY", env["AGENTTERM_RELIABILITY_KEY"])
    settings = load_settings(config)
    store = Store(db)
    store.db.execute("PRAGMA busy_timeout = 200")  # the test need not wait the full 5 s
    seed = seed_conversation(store, "Earlier", [("old prompt", "old answer")], age=timedelta(hours=2))
    server.script(Stream("Sent after all."))
    app = make_app(settings, store, LLMClient(settings))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await app.main_screen.open_conversation(seed.id)
            await settle(pilot)
            holder = hold_lock(db)
            try:
                await pilot.press(*"do not lose me", "enter")
                await until(pilot, lambda: any("busy" in str(n.message) for n in app._notifications))
                await settle(pilot)
            finally:
                holder.rollback()
                holder.close()
            pane = app.main_screen.chat_pane
            assert pane.prompt_input.text == "do not lose me"
            assert app.is_running and not pane.streaming
            assert server.requests == []
            await pilot.press("enter")
            await until(pilot, lambda: store.all_messages(seed.id)[-1].content == "Sent after all.")
            assert pane.prompt_input.text == ""
            assert store.all_messages(seed.id)[-2].content == "do not lose me"
    finally:
        store.close()
