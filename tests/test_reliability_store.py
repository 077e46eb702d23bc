"""Store faults: a clear message naming the file, the file unchanged, no traceback, the app alive."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from agentterm.config import load_settings
from agentterm.llm import LLMClient
from agentterm.store import Store, StoreError
from agentterm.store.sqlite import migrations
from tests.app_helpers import make_app, settle, until
from tests.openai_server import Stream
from tests.reliability_helpers import (
    cli_env,
    one_error_line,
    read_rows,
    run_cli,
    write_config,
)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_store(path: Path, messages: int = 3) -> Path:
    store = Store(path)
    conversation = store.create_conversation(agent_id=store.default_agent().id, title="Kept")
    for i in range(messages):
        store.add_message(conversation.id, "user", f"message {i} " + "x" * 500)
    store.close()  # checkpoints the WAL into the file
    return path


def not_a_database(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"These are my notes, not a database.\n" * 200)
    return path


def damaged(path: Path) -> Path:
    make_store(path, messages=60)
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xde\xad\xbe\xef" * ((len(data) - 4096) // 4)  # every page but the header's
    path.write_bytes(bytes(data))
    return path


def newer(path: Path) -> Path:
    make_store(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrations.latest_version() + 5}")
    conn.close()
    return path


def other_database(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    return path


FAULTS = {
    "not a database": (not_a_database, "is not an agentterm store, or it is damaged"),
    "damaged": (damaged, "damaged"),
    "newer version": (newer, "newer agentterm"),
    "another program's database": (other_database, "not an agentterm store"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_bad_store_is_one_clear_line_and_left_unchanged(fault, tmp_path):
    make, words = FAULTS[fault]
    path = make(tmp_path / "data" / "store.db")
    before = digest(path)

    with pytest.raises(StoreError) as raised:
        Store(path)
    assert str(path) in str(raised.value) and words in str(raised.value)

    env = cli_env(path, tmp_path / "no-config.toml")
    for args in (["chats", "list"], ["ask", "hi"], []):  # [] is the app itself
        line = one_error_line(run_cli(*args, env=env))
        assert str(path) in line and words in line
    assert digest(path) == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["store.db"]


@contextlib.contextmanager
def read_only_dir(path: Path):
    """A directory no one may write, root included (a read-only mount when running as root)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        path.chmod(0o500)
        try:
            yield path
        finally:
            path.chmod(0o700)
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(path)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip("cannot make a read-only directory as root without mount")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_a_store_in_a_read_only_directory_is_one_clear_line(tmp_path):
    with read_only_dir(tmp_path / "ro") as directory:
        path = directory / "store.db"
        with pytest.raises(StoreError, match="Cannot create the store"):
            Store(path)
        env = cli_env(path, tmp_path / "no-config.toml")
        for args in (["chats", "list"], []):
            line = one_error_line(run_cli(*args, env=env))
            assert str(path) in line and "writable" in line
        assert not path.exists()


def full(store: Store) -> None:
    """No more pages: what a full disk does to SQLite (SQLITE_FULL)."""
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")


def test_a_full_disk_is_a_store_error_and_nothing_half_written(tmp_path):
    store = Store(tmp_path / "store.db")
    conversation = store.create_conversation(title="Kept")
    full(store)
    with pytest.raises(StoreError, match="full.*Free some space") as raised:
        for _ in range(50):
            store.add_message(conversation.id, "user", "y" * 20_000)
    assert str(store.path) in str(raised.value)
    # Each write is whole or absent: the counters agree with the rows.
    assert store.get_conversation(conversation.id).message_count == store.count_messages(conversation.id)
    store.close()


async def test_a_full_disk_while_answering_is_a_notice_and_the_app_runs_on(tmp_path, server, monkeypatch):
    config = write_config(tmp_path / "config.toml", server.base_url)
    monkeypatch.setenv("AGENTTERM_RELIABILITY_KEY", "sk-irrelevant-here")
    settings = load_settings(config)
    store = Store(tmp_path / "store.db")
    server.script(Stream("z" * 200_000, chunk_size=20_000), Stream("Fine now."))
    app = make_app(settings, store, LLMClient(settings))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            full(store)
            await pilot.press(*"big", "enter")
            await until(pilot, lambda: any("Free some space" in str(n.message) for n in app._notifications))
            await settle(pilot)
            assert app.is_running and app.return_code is None
            assert not app.main_screen.chat_pane.streaming
            # Room again: the same app sends fine.
            store.db.execute("PRAGMA max_page_count = 1073741823")
            await pilot.press(*"again", "enter")
            await until(pilot, lambda: store.all_messages(store.list_conversations()[0].id)[-1].content
                        == "Fine now.")
    finally:
        store.close()


def test_a_full_disk_on_the_command_line_is_one_clear_line(tmp_path, server):
    if os.geteuid() != 0:
        pytest.skip("needs a small mount")
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                      capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot mount a small file system")
    try:
        path = make_store(mount / "store.db", messages=1)
        stat = os.statvfs(mount)
        # Room for the prompt (and the pages its write touches in the WAL), none for the answer.
        (mount / "filler").write_bytes(b"\0" * max(0, stat.f_bavail * stat.f_frsize - 600 * 1024))
        server.script(Stream("w" * 1_500_000, chunk_size=50_000))
        env = cli_env(path, write_config(tmp_path / "config.toml", server.base_url))
        result = run_cli("ask", "--no-title", "fill it", env=env)
        line = one_error_line(result)
        assert str(path) in line and "Free some space" in line
        assert ("fill it",) in read_rows(path, "SELECT content FROM messages WHERE role = 'user'")
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_failed_migration_is_rolled_back_and_the_file_unchanged(tmp_path, monkeypatch):
    path = make_store(tmp_path / "store.db")
    before = digest(path)

    def broken(db) -> None:
        db.execute("CREATE TABLE half_done (id INTEGER)")
        db.execute("UPDATE messages SET content = 'changed'")
        raise RuntimeError("the upgrade hit a bug")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, broken])
    with pytest.raises(StoreError) as raised:
        Store(path)
    message = str(raised.value)
    assert str(path) in message and "rolled back" in message and "the upgrade hit a bug" in message
    monkeypatch.undo()
    assert digest(path) == before
    assert read_rows(path, "SELECT name FROM sqlite_master WHERE name = 'half_done'") == []
    assert all(c.startswith("message") for (c,) in read_rows(path, "SELECT content FROM messages"))
    with Store(path) as store:  # and the old agentterm still opens it
        assert store.list_conversations()[0].title == "Kept"


async def test_a_store_fault_in_a_background_load_is_a_notice_and_the_app_runs_on(settings, store, client,
                                                                                  monkeypatch):
    from datetime import timedelta

    from tests.app_helpers import seed_conversation

    long = seed_conversation(store, "Long", [(f"q{i}", f"a{i}") for i in range(60)], age=timedelta(hours=1))

    def damaged_now(*args, **kwargs):
        raise StoreError(f"The store {store.path} is damaged (database disk image is malformed).")

    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(long.id)
        await settle(pilot)
        monkeypatch.setattr(store, "messages_before", damaged_now)
        app.main_screen.chat_pane.chat_view.focus()
        await pilot.press("home")  # scrolling up loads earlier messages in a worker
        await until(pilot, lambda: any("damaged" in str(n.message) for n in app._notifications))
        await settle(pilot)
        assert app.is_running and app.return_code is None
        monkeypatch.undo()
        await pilot.press("end", "home")
        await settle(pilot)
        assert app.is_running
