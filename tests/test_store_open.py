"""Opening a store: creating and migrating it, refusing what is not ours, naming the file."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlite_utils import Database

from agentterm.models import to_iso, utcnow
from agentterm.store import Store, StoreError
from agentterm.store.sqlite import migrations
from agentterm.templates import load_template

# --- opening, files and migrations -----------------------------------------------------------


def table_names(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}


@pytest.mark.sqlite_only
def test_a_fresh_store_is_migrated_configured_and_seeded(store, db_path):
    assert migrations.schema_version(store.db) == migrations.latest_version() >= 2
    assert {"agents", "agent_versions", "conversations", "messages", "tags"} <= table_names(db_path)
    assert {"messages_fts", "conversations_fts"} <= table_names(db_path)
    pragma = lambda name: store.db.execute(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("synchronous") == 1  # NORMAL
    assert pragma("busy_timeout") == 5000
    [agent] = store.list_agents()
    assert agent.name == "Assistant"
    assert agent.instructions == load_template("assistant")["instructions"]
    assert store.default_agent().id == agent.id


@pytest.mark.sqlite_only
def test_the_file_is_private_in_a_private_directory(store, db_path):
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700


def test_reopening_keeps_everything_and_does_not_seed_again(store_target):
    with Store(store_target) as first:
        first.delete_agent(first.default_agent().id)
        first.create_agent("Mine")
    with Store(store_target) as second:
        assert [agent.name for agent in second.list_agents()] == ["Mine"]


def test_an_empty_file_opens_as_a_new_store(tmp_path):
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    with Store(path) as store:
        assert store.default_agent().name == "Assistant"


def build_first_schema(path: Path) -> None:
    """A store as the first release wrote it: migration 1 only, with some rows."""
    conn = sqlite3.connect(path, isolation_level=None)
    db = Database(conn)
    conn.execute("BEGIN IMMEDIATE")
    migrations.apply_migrations(db, target=1)
    now = to_iso(utcnow())
    conn.execute(
        "INSERT INTO conversations (id, title, created_at, last_activity_at)"
        " VALUES (1, 'Penguin facts', ?, ?)",
        [now, now],
    )
    conn.execute(
        "INSERT INTO messages (conversation_id, role, content, created_at)"
        " VALUES (1, 'user', 'Tell me about emperor penguins', ?)",
        [now],
    )
    conn.execute("COMMIT")
    conn.close()


def test_a_first_schema_store_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.db"
    build_first_schema(path)
    assert "messages_fts" not in table_names(path)
    with Store(path) as store:
        assert migrations.schema_version(store.db) == migrations.latest_version()
        [conversation] = store.list_conversations()
        assert conversation.title == "Penguin facts"
        assert conversation.message_count == 1
        # The upgrade indexed the rows that were already there.
        [hit] = [hit for hit in store.search("emperor") if hit.message_id]
        assert hit.conversation_id == 1
        assert [hit.message_id for hit in store.search("penguin")].count(None) == 1
        # An upgrade is not a fresh start: no agent is seeded into an existing store.
        assert store.list_agents() == []


def test_migrations_apply_in_order_and_only_once():
    db = Database(sqlite3.connect(":memory:", isolation_level=None))
    assert migrations.apply_migrations(db, target=1) == [1]
    assert migrations.schema_version(db) == 1
    assert migrations.apply_migrations(db) == list(range(2, migrations.latest_version() + 1))
    assert migrations.apply_migrations(db) == []


def test_a_store_from_a_newer_version_is_refused_and_left_untouched(db_path):
    Store(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {migrations.latest_version() + 1}")
    before = db_path.read_bytes()
    with pytest.raises(StoreError) as info:
        Store(db_path)
    assert "newer" in str(info.value)
    assert str(db_path) in str(info.value)
    assert db_path.read_bytes() == before


@pytest.mark.parametrize(
    "content",
    [
        b"These are my notes, not a database.\n" * 200,
        bytes(range(256)) * 64,
        b"SQLite format 3\x00" + b"\xff" * 4080,  # a damaged header
    ],
    ids=["text", "binary", "damaged"],
)
def test_a_file_that_is_not_a_store_is_refused_and_left_untouched(tmp_path, content):
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    with pytest.raises(StoreError) as info:
        Store(path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == content


def test_damage_past_the_first_page_is_reported_not_raised_raw(db_path):
    with Store(db_path) as store:
        assert store.check() == []
        cid = store.create_conversation().id
        for _ in range(200):
            store.add_message(cid, "user", "words " * 200)
    pages = db_path.stat().st_size // 4096
    with db_path.open("r+b") as file:
        file.seek(4096 * (pages // 2))
        file.write(b"\xff" * 4096)
    with Store(db_path) as store:
        assert store.check() != []
        with pytest.raises(StoreError, match="damaged"):
            store.all_messages(cid)


def test_another_programs_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not an agentterm store"):
        Store(path)
    assert path.read_bytes() == before
    assert table_names(path) == {"invoices"}


def test_an_unwritable_location_names_the_file(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    path = blocker / "agentterm.db"
    with pytest.raises(StoreError) as info:
        Store(path)
    assert str(path) in str(info.value)


def test_a_fifo_is_not_a_store_and_says_so(tmp_path):
    os.mkfifo(tmp_path / "fifo.db")
    with pytest.raises(StoreError, match="not a regular file"):
        Store(tmp_path / "fifo.db")


def test_a_directory_is_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="directory"):
        Store(tmp_path)


def test_an_in_memory_store_works():
    with Store(":memory:") as store:
        conversation = store.create_conversation()
        store.add_message(conversation.id, "user", "hi")
        assert store.count_messages(conversation.id) == 1
