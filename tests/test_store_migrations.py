"""Migrations recorded by name, and a store written by the previous release upgraded in place."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from agentterm.store import Store, StoreError
from agentterm.store.sqlite import migrations

# Written by agentterm at schema version 2 (the release before imports and tool calls), with its own code:
# agents "Assistant" and "Helper" (2 versions), "Penguins" (tags birds, Python; a finished
# answer and one left streaming by "otherhost:1") and "Empty chat".
STORE_V2 = Path(__file__).parent / "data" / "store-v2.db"


def old_store(tmp_path: Path) -> Path:
    path = tmp_path / "old.db"
    shutil.copyfile(STORE_V2, path)
    return path


@pytest.mark.sqlite_only
def test_a_new_store_records_each_migration_by_name_and_time(store):
    rows = migrations.applied_migrations(store.db)
    assert [(version, name) for version, name, _ in rows] == [
        (1, "m001_initial"),
        (2, "m002_full_text_search"),
        (3, "m003_import_sources"),
        (4, "m004_tools_thinking_variants"),
        (5, "m005_drafts_forks_overrides"),
        (6, "m006_users_tokens"),
        (7, "m007_context_cut"),
        (8, "m008_conversations_owner"),
    ]
    assert all(applied_at for _, _, applied_at in rows)
    assert [v for v, _, _ in rows] == list(range(1, migrations.latest_version() + 1))


def test_a_store_from_the_previous_release_is_upgraded_in_place(tmp_path):
    path = old_store(tmp_path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    with Store(path) as store:
        assert migrations.schema_version(store.db) == migrations.latest_version()
        rows = migrations.applied_migrations(store.db)
        # Those applied before names were recorded are listed without a time.
        assert [(v, name, bool(at)) for v, name, at in rows][:4] == [
            (1, "m001_initial", False),
            (2, "m002_full_text_search", False),
            (3, "m003_import_sources", True),
            (4, "m004_tools_thinking_variants", True),
        ]
        # Everything that was there still is.
        assert sorted(a.name for a in store.list_agents()) == ["Assistant", "Helper"]
        helper = store.get_agent_by_name("Helper")
        assert (helper.version, helper.extra, helper.temperature) == (2, {"seed": 7}, 0.5)
        assert (helper.mcp_servers, helper.allowed_tools, helper.tool_approval) == ([], None, "ask")
        penguins = next(c for c in store.list_conversations() if c.title == "Penguins")
        assert sorted(penguins.tags) == ["Python", "birds"]
        assert [c.id for c in store.list_conversations(tag="python")] == [penguins.id]
        assert (penguins.draft, penguins.parent_id, penguins.model) == ("", None, None)
        assert (penguins.message_count, penguins.tokens) == (4, 8)
        first, answer, second, cut = store.all_messages(penguins.id)
        # Old answers answer the prompt before them, so they can be retried as variants.
        assert (answer.reply_to, answer.variant, cut.reply_to) == (first.id, 1, second.id)
        assert first.reply_to is None and answer.tool_calls == [] and answer.thinking == ""
        # The stream from before heartbeats has none: nothing can be writing it any more.
        assert (cut.status, cut.content) == ("interrupted", "Fish and kr")
        assert [h.message_id for h in store.search("antarctica")] == [answer.id]
        # And the new parts work on it.
        call = store.add_tool_call(answer.id, "c1", 0, "time_now", "time", "now", "{}")
        assert store.get_message(answer.id).tool_calls == [call]
    with Store(path) as again:  # opening it again applies nothing
        assert len(migrations.applied_migrations(again.db)) == migrations.latest_version()


def test_an_upgrade_from_version_2_is_rolled_back_whole_on_a_fault(tmp_path, monkeypatch):
    path = old_store(tmp_path)
    before = path.read_bytes()

    def broken(db):
        raise RuntimeError("simulated fault")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, broken])
    try:
        Store(path)
    except Exception as error:
        assert "rolled back" in str(error)
    else:
        raise AssertionError("the broken migration did not fail the open")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "migrations" not in names and "tool_calls" not in names
    assert len(before) > 0


def test_a_store_at_version_3_records_its_migrations_without_times():
    db = Database(sqlite3.connect(":memory:", isolation_level=None))
    assert migrations.apply_migrations(db, target=3) == [1, 2, 3]
    assert migrations.applied_migrations(db) == []
    assert migrations.apply_migrations(db) == [4, 5, 6, 7, 8]
    assert [(v, bool(at)) for v, _, at in migrations.applied_migrations(db)] == [
        (1, False), (2, False), (3, False), (4, True), (5, True), (6, True), (7, True), (8, True)]
    assert migrations.apply_migrations(db) == []


def test_a_store_whose_migrations_go_by_other_names_is_refused_untouched(db_path):
    Store(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE migrations SET name = 'm004_something_else' WHERE version = 4")
    conn.close()
    before = db_path.read_bytes()
    try:
        Store(db_path)
    except StoreError as error:
        assert "another build of agentterm" in str(error) and "m004_something_else" in str(error)
    else:
        raise AssertionError("a store with a foreign migration opened")
    assert db_path.read_bytes() == before
