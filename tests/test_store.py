"""The store on real SQLite files: schema and migrations, agents, conversations, messages,
search, import and export, recovery, and two writers at once."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from agentterm.models import to_iso, utcnow
from agentterm.store import (
    SNIPPET_CLOSE,
    SNIPPET_OPEN,
    Store,
    StoreError,
    ValidationError,
    migrations,
)
from agentterm.templates import list_templates, load_template

# --- opening, files and migrations -----------------------------------------------------------


def table_names(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}


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


def test_the_file_is_private_in_a_private_directory(store, db_path):
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700


def test_reopening_keeps_everything_and_does_not_seed_again(db_path):
    with Store(db_path) as first:
        first.delete_agent(first.default_agent().id)
        first.create_agent("Mine")
    with Store(db_path) as second:
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


def test_a_directory_is_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="directory"):
        Store(tmp_path)


def test_an_in_memory_store_works():
    with Store(":memory:") as store:
        conversation = store.create_conversation()
        store.add_message(conversation.id, "user", "hi")
        assert store.count_messages(conversation.id) == 1


# --- agents ----------------------------------------------------------------------------------


def test_create_get_and_list_agents(store):
    coder = store.create_agent("Coder", model="gpt-4o", temperature=0.2, extra={"seed": 7})
    store.create_agent("builder", status="paused")
    assert store.get_agent(coder.id) == coder
    assert coder.version == 1 and coder.params() == {"temperature": 0.2, "seed": 7}
    assert store.get_agent_by_name("coder").id == coder.id  # names ignore case
    assert store.get_agent_by_name("nobody") is None
    assert store.get_agent(9999) is None
    assert [a.name for a in store.list_agents()] == ["Assistant", "builder", "Coder"]
    assert [a.name for a in store.list_agents(["paused"])] == ["builder"]
    assert store.list_agents([]) == []


def test_every_save_is_a_version_and_one_can_be_restored(store):
    agent = store.create_agent("Poet", instructions="Rhyme.", temperature=1.0)
    agent = store.update_agent(agent.id, instructions="Write free verse.")
    agent = store.set_agent_status(agent.id, "paused")
    assert agent.version == 3 and agent.status == "paused"
    versions = store.agent_versions(agent.id)
    assert [v.version for v in versions] == [3, 2, 1]
    assert versions[-1].data["instructions"] == "Rhyme."
    assert versions[-1].data["temperature"] == 1.0
    assert set(versions[0].data) >= {"name", "status", "model", "extra", "max_tokens"}

    restored = store.restore_agent_version(agent.id, 1)
    assert restored.version == 4
    assert restored.instructions == "Rhyme." and restored.status == "active"
    assert store.agent_versions(agent.id)[0].data == versions[-1].data
    with pytest.raises(StoreError):
        store.restore_agent_version(agent.id, 99)


def test_a_save_that_changes_nothing_makes_no_version(store):
    agent = store.create_agent("Same", model="m")
    assert store.update_agent(agent.id, model="m").version == 1
    assert len(store.agent_versions(agent.id)) == 1


def test_duplicate_names_copies_in_turn(store):
    agent = store.create_agent("Coder", instructions="Code.")
    first = store.duplicate_agent(agent.id)
    second = store.duplicate_agent(agent.id)
    named = store.duplicate_agent(agent.id, name="Coder 2")
    assert (first.name, second.name, named.name) == ("Coder (copy)", "Coder (copy 2)", "Coder 2")
    assert first.instructions == "Code." and first.id != agent.id and first.version == 1
    long = store.create_agent("x" * 80)
    assert len(store.duplicate_agent(long.id).name) <= 80


def test_deleting_an_agent_can_keep_its_conversations(store):
    agent = store.create_agent("Gone")
    conversation = store.create_conversation(agent.id)
    store.delete_agent(agent.id, keep_conversations=True)
    assert store.get_agent(agent.id) is None
    assert store.agent_versions(agent.id) == []
    kept = store.get_conversation(conversation.id)
    assert kept.agent_id is None and kept.agent_name == "Gone" and kept.deleted_at is None


def test_deleting_an_agent_with_its_conversations_moves_them_to_the_trash(store):
    agent = store.create_agent("Gone")
    conversation = store.create_conversation(agent.id)
    other = store.create_conversation()
    store.delete_agent(agent.id, keep_conversations=False)
    assert [c.id for c in store.list_conversations(view="trash")] == [conversation.id]
    assert [c.id for c in store.list_conversations()] == [other.id]
    with pytest.raises(StoreError):
        store.delete_agent(agent.id)


def test_renaming_an_agent_renames_it_in_its_conversations(store):
    agent = store.create_agent("Old name")
    conversation = store.create_conversation(agent.id)
    store.update_agent(agent.id, name="New name")
    assert store.get_conversation(conversation.id).agent_name == "New name"


def test_agent_usage_sums_its_conversations(store):
    agent = store.create_agent("Busy")
    assert store.agent_usage(agent.id).conversations == 0
    assert store.agent_usage(agent.id).last_used_at is None
    one = store.create_conversation(agent.id)
    two = store.create_conversation(agent.id)
    store.create_conversation()  # someone else's
    store.add_message(one.id, "user", "a")
    store.add_message(one.id, "assistant", "b", prompt_tokens=10, completion_tokens=5)
    store.add_message(two.id, "user", "c")
    usage = store.agent_usage(agent.id)
    assert (usage.conversations, usage.messages, usage.tokens) == (2, 3, 15)
    assert usage.last_used_at == store.get_conversation(two.id).last_activity_at


def test_the_default_agent_survives_a_rename_and_a_delete(store):
    seeded = store.default_agent()
    store.update_agent(seeded.id, name="Helper")
    assert store.default_agent().id == seeded.id
    store.delete_agent(seeded.id)
    assert store.list_agents() == []
    again = store.default_agent()
    assert again.name == "Assistant" and again.id != seeded.id


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": "bell\x07"}, "name"),
        ({"name": "two\nlines"}, "name"),
        ({"name": 7}, "name"),
        ({"status": "asleep"}, "status"),
        ({"temperature": 2.01}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"temperature": float("inf")}, "temperature"),
        ({"temperature": True}, "temperature"),
        ({"temperature": "warm"}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_p": False}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": -5}, "max_tokens"),
        ({"max_tokens": 1.5}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({"extra": [1, 2]}, "extra"),
        ({"extra": "[1, 2]"}, "extra"),
        ({"extra": "{not json"}, "extra"),
        ({"extra": {"x": float("nan")}}, "extra"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_agent_fields_are_named(store, fields, field):
    errors = store.validate_agent_fields(fields)
    assert list(errors) == [field]
    assert errors[field]


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "x" * 80},
        {"temperature": 0, "top_p": 1, "max_tokens": 1},
        {"temperature": 2, "top_p": 0.0},
        {"temperature": "0.7", "max_tokens": "256"},  # straight from a form
        {"temperature": "", "top_p": None, "max_tokens": ""},
        {"extra": '{"seed": 7}'},
        {"extra": {}},
        {"status": "inactive"},
    ],
)
def test_valid_agent_fields_pass(store, fields):
    assert store.validate_agent_fields(fields) == {}


def test_form_text_is_stored_as_numbers_and_json(store):
    agent = store.create_agent("Form", temperature="0.5", max_tokens="100", extra='{"a": 1}')
    assert (agent.temperature, agent.max_tokens, agent.extra) == (0.5, 100, {"a": 1})


def test_names_are_unique_regardless_of_case(store):
    agent = store.create_agent("Unique")
    assert store.validate_agent_fields({"name": "UNIQUE"}) == {
        "name": "is already used by another agent"
    }
    assert store.validate_agent_fields({"name": "unique"}, agent_id=agent.id) == {}
    with pytest.raises(ValidationError) as info:
        store.create_agent("unique")
    assert info.value.errors == {"name": "is already used by another agent"}


def test_an_invalid_save_raises_with_the_reasons_and_writes_nothing(store):
    agent = store.create_agent("Valid")
    with pytest.raises(ValidationError) as info:
        store.create_agent("Broken", temperature=5, max_tokens=True)
    assert set(info.value.errors) == {"temperature", "max_tokens"}
    assert isinstance(info.value, StoreError)
    assert "temperature" in str(info.value)
    assert store.get_agent_by_name("Broken") is None
    with pytest.raises(ValidationError):
        store.update_agent(agent.id, name="")
    assert store.get_agent(agent.id).name == "Valid"
    assert len(store.agent_versions(agent.id)) == 1


# --- templates -------------------------------------------------------------------------------


def test_the_built_in_templates_are_valid_agents(store):
    names = list_templates()
    assert {"assistant", "coder", "writer", "reviewer"} <= set(names)
    for name in names:
        fields = load_template(name)
        fields["name"] = f"From {name}"
        assert store.validate_agent_fields(fields) == {}, name
        assert store.create_agent(**fields).instructions


def test_an_unknown_template_names_the_ones_there_are():
    with pytest.raises(ValueError, match="coder"):
        load_template("nope")


# --- conversations ---------------------------------------------------------------------------


def age(store: Store, cid: int, **delta: float) -> None:
    """Move a conversation's last activity into the past."""
    moment = to_iso(utcnow() - timedelta(**delta))
    store.db.execute("UPDATE conversations SET last_activity_at = ? WHERE id = ?", [moment, cid])


def test_a_conversation_records_its_agent(store):
    agent = store.default_agent()
    conversation = store.create_conversation(agent.id)
    assert (conversation.agent_id, conversation.agent_name) == (agent.id, "Assistant")
    general = store.create_conversation()
    assert (general.agent_id, general.agent_name, general.title) == (None, None, "")
    with pytest.raises(StoreError):
        store.create_conversation(agent_id=9999)
    assert store.get_conversation(9999) is None


def test_the_sidebar_order_is_pinned_first_then_last_activity(store):
    old, middle, new = (store.create_conversation(title=t) for t in ("old", "middle", "new"))
    age(store, old.id, days=3)
    age(store, middle.id, days=2)
    age(store, new.id, days=1)
    assert [c.title for c in store.list_conversations()] == ["new", "middle", "old"]
    store.set_pinned(old.id, True)
    assert [c.title for c in store.list_conversations()] == ["old", "new", "middle"]
    store.add_message(middle.id, "user", "bump")
    assert [c.title for c in store.list_conversations()] == ["old", "middle", "new"]
    assert [c.title for c in store.list_conversations(limit=2, offset=1)] == ["middle", "new"]
    assert store.list_conversations()[0].pinned is True


def test_views_archive_and_trash(store):
    inbox, archived, trashed = (store.create_conversation(title=t) for t in "abc")
    store.archive(archived.id)
    store.trash(trashed.id)
    titles = lambda view: [c.title for c in store.list_conversations(view=view)]  # noqa: E731
    assert titles("inbox") == ["a"]
    assert titles("archive") == ["b"]
    assert titles("trash") == ["c"]
    assert sorted(titles("all")) == ["a", "b"]
    assert [store.count_conversations(v) for v in ("inbox", "archive", "trash", "all")] == [
        1,
        1,
        1,
        2,
    ]
    assert store.get_conversation(archived.id).archived_at is not None
    store.unarchive(archived.id)
    store.restore(trashed.id)
    assert sorted(titles("inbox")) == ["a", "b", "c"]
    with pytest.raises(ValueError):
        store.list_conversations(view="everything")
    with pytest.raises(StoreError):
        store.trash(9999)


def test_filters_by_agent_tag_and_title(store):
    agent = store.create_agent("Coder")
    one = store.create_conversation(agent.id, title="Fix the parser")
    two = store.create_conversation(title="100% sure_thing")
    store.create_conversation(title="Holiday plans")
    store.set_tags(one.id, ["work", "rust"])
    store.set_tags(two.id, ["work"])
    ids = lambda **kw: {c.id for c in store.list_conversations(**kw)}  # noqa: E731
    assert ids(agent_id=agent.id) == {one.id}
    assert ids(tag="work") == {one.id, two.id}
    assert ids(tag="rust", agent_id=agent.id) == {one.id}
    assert ids(query="PARSER") == {one.id}
    assert ids(query="%") == {two.id}  # a literal percent sign, not a wildcard
    assert ids(query="x_t") == set()  # a literal underscore too ("Fix the" has "x t")
    assert ids(query="  ") == ids()


def test_the_sidebar_never_reads_message_bodies(store):
    conversation = store.create_conversation(title="Private")
    store.add_message(conversation.id, "user", "secret body")

    def no_message_bodies(action, table, column, *_):
        if action == sqlite3.SQLITE_READ and table == "messages" and column == "content":
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    store._conn.set_authorizer(no_message_bodies)
    try:
        [listed] = store.list_conversations()
        assert listed.message_count == 1
        assert store.get_conversation(conversation.id).title == "Private"
        assert store.count_conversations() == 1
        assert store.count_messages(conversation.id) == 1
        with pytest.raises(StoreError, match="prohibited"):  # the guard itself works
            store.all_messages(conversation.id)
    finally:
        store._conn.set_authorizer(None)


def query_plan(store: Store, sql: str, params=()) -> str:
    return " | ".join(row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}", params))


@pytest.mark.parametrize("view", ["inbox", "archive", "trash", "all"])
def test_a_sidebar_page_is_an_index_walk(store, view):
    where, params = store._conversation_filter(view, None, None, None)
    plan = query_plan(
        store,
        f"SELECT id FROM conversations c WHERE {where}"
        " ORDER BY c.pinned DESC, c.last_activity_at DESC, c.id DESC LIMIT 50",
        params,
    )
    assert "USING INDEX conversations_" in plan
    assert "TEMP B-TREE" not in plan  # no sort: the index is already in sidebar order


def test_a_message_window_uses_the_conversation_index(store):
    plan = query_plan(
        store, "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT 50", [1]
    )
    assert "messages_conversation" in plan and "TEMP B-TREE" not in plan


def test_a_user_title_is_never_replaced_by_an_automatic_one(store):
    conversation = store.create_conversation()
    assert store.set_auto_title(conversation.id, "Penguins\n in   Antarctica") is True
    renamed = store.get_conversation(conversation.id)
    assert (renamed.title, renamed.title_source) == ("Penguins in Antarctica", "auto")
    store.rename_conversation(conversation.id, "My penguins")
    assert store.set_auto_title(conversation.id, "Something else") is False
    kept = store.get_conversation(conversation.id)
    assert (kept.title, kept.title_source) == ("My penguins", "user")
    # Clearing the title hands it back to the automatic one.
    assert store.rename_conversation(conversation.id, "  ").title_source is None
    assert store.set_auto_title(conversation.id, "Back again") is True
    assert store.set_auto_title(9999, "Nobody") is False
    assert store.set_auto_title(conversation.id, "  ") is False


def test_a_title_is_one_clean_line(store):
    conversation = store.create_conversation()
    renamed = store.rename_conversation(conversation.id, "a\x1b[31mred\x1b[0m\tand\nmore")
    assert renamed.title == "a[31mred[0m and more"


def test_tags_are_trimmed_unique_and_sorted(store):
    conversation = store.create_conversation()
    store.set_tags(conversation.id, [" work ", "Ideas", "work", "", "ideas", "a  b"])
    assert store.get_conversation(conversation.id).tags == ["Ideas", "a b", "work"]
    store.set_tags(conversation.id, [])
    assert store.get_conversation(conversation.id).tags == []
    with pytest.raises(StoreError):
        store.set_tags(9999, ["x"])


def test_purge_deletes_for_good_with_the_messages(store):
    conversation = store.create_conversation()
    message = store.add_message(conversation.id, "user", "bye")
    store.set_tags(conversation.id, ["t"])
    store.purge(conversation.id)
    assert store.get_conversation(conversation.id) is None
    assert store.get_message(message.id) is None
    assert store.db.execute("SELECT count(*) FROM tags").fetchone()[0] == 0
    with pytest.raises(StoreError):
        store.purge(conversation.id)


def test_purge_trash_deletes_only_what_is_old_enough(store):
    old, recent, kept = (store.create_conversation(title=t) for t in ("old", "recent", "kept"))
    store.trash(old.id)
    store.trash(recent.id)
    long_ago = to_iso(utcnow() - timedelta(days=31))
    store.db.execute("UPDATE conversations SET deleted_at = ? WHERE id = ?", [long_ago, old.id])
    assert store.purge_trash(30) == 1
    assert store.get_conversation(old.id) is None
    assert store.get_conversation(recent.id) is not None
    assert store.purge_trash(0) == 1
    assert [c.id for c in store.list_conversations(view="all")] == [kept.id]


def test_clear_messages_keeps_the_conversation(store):
    conversation = store.create_conversation(title="Keep me")
    for text in ("one", "two", "three"):
        store.add_message(conversation.id, "user", text, prompt_tokens=2)
    assert store.clear_messages(conversation.id) == 3
    cleared = store.get_conversation(conversation.id)
    assert (cleared.title, cleared.message_count, cleared.tokens) == ("Keep me", 0, 0)
    assert store.all_messages(conversation.id) == []
    assert store.search("three") == []


def test_relink_moves_a_conversation_to_another_agent(store):
    conversation = store.create_conversation(store.default_agent().id)
    coder = store.create_agent("Coder")
    store.relink_conversation(conversation.id, coder.id)
    moved = store.get_conversation(conversation.id)
    assert (moved.agent_id, moved.agent_name) == (coder.id, "Coder")
    store.relink_conversation(conversation.id, None)
    moved = store.get_conversation(conversation.id)
    assert (moved.agent_id, moved.agent_name) == (None, None)
    with pytest.raises(StoreError):
        store.relink_conversation(conversation.id, 9999)


def test_stats_count_for_the_dashboard(store):
    store.create_agent("Paused", status="paused")
    one, two, three = (store.create_conversation() for _ in range(3))
    store.add_message(one.id, "user", "q", prompt_tokens=3)
    store.add_message(one.id, "assistant", "a", completion_tokens=4)
    store.archive(two.id)
    store.trash(three.id)
    store.add_message(three.id, "user", "in the trash")
    assert store.stats() == {
        "agents": {"active": 1, "paused": 1, "inactive": 0},
        "conversations": 2,
        "archived": 1,
        "trashed": 1,
        "messages": 2,
        "tokens": 7,
    }


# --- messages --------------------------------------------------------------------------------


def test_add_update_and_delete_a_message(store):
    conversation = store.create_conversation()
    age(store, conversation.id, hours=2)
    before = store.get_conversation(conversation.id).last_activity_at
    message = store.add_message(
        conversation.id,
        "assistant",
        "",
        status="streaming",
        model="m1",
        agent_version=3,
        extra={"finish_reason": None},
    )
    assert store.get_conversation(conversation.id).last_activity_at > before
    assert (message.status, message.model, message.agent_version) == ("streaming", "m1", 3)
    assert message.extra == {"finish_reason": None}

    age(store, conversation.id, hours=2)
    before = store.get_conversation(conversation.id).last_activity_at
    flushed = store.update_message(message.id, content="Hello")
    assert flushed.content == "Hello" and flushed.status == "streaming"
    assert store.get_conversation(conversation.id).last_activity_at == before  # a flush is quiet

    done = store.update_message(
        message.id,
        content="Hello there",
        status="complete",
        extra={"finish_reason": "stop"},
        prompt_tokens=12,
        completion_tokens=3,
    )
    assert (done.status, done.prompt_tokens, done.completion_tokens) == ("complete", 12, 3)
    assert done.edited_at is None and done.extra == {"finish_reason": "stop"}
    assert store.get_conversation(conversation.id).last_activity_at > before
    assert store.get_conversation(conversation.id).tokens == 15

    edited = store.update_message(message.id, content="Hi", edited=True)
    assert edited.edited_at is not None and edited.model == "m1"

    store.delete_message(message.id)
    assert store.get_message(message.id) is None
    assert store.get_conversation(conversation.id).tokens == 0
    with pytest.raises(StoreError):
        store.delete_message(message.id)
    with pytest.raises(StoreError):
        store.update_message(message.id, content="x")


def test_a_message_needs_a_real_conversation_and_valid_values(store):
    with pytest.raises(StoreError):
        store.add_message(9999, "user", "lost")
    assert store.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    conversation = store.create_conversation()
    with pytest.raises(ValueError):
        store.add_message(conversation.id, "narrator", "x")
    with pytest.raises(ValueError):
        store.add_message(conversation.id, "user", "x", status="done")
    with pytest.raises(ValueError):
        store.add_message(conversation.id, "user", "x", extra=[1])


def test_counts_stay_in_step_with_the_messages(store):
    conversation = store.create_conversation()
    ids = [
        store.add_message(conversation.id, "user", f"m{i}", prompt_tokens=i).id for i in range(5)
    ]
    store.delete_message(ids[0])
    store.update_message(ids[1], prompt_tokens=10, completion_tokens=1)
    row = store.db.execute(
        "SELECT count(*), sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0))"
        " FROM messages WHERE conversation_id = ?",
        [conversation.id],
    ).fetchone()
    current = store.get_conversation(conversation.id)
    assert (current.message_count, current.tokens) == tuple(row) == (4, 20)
    assert store.count_messages(conversation.id) == 4


def test_message_windows(store):
    conversation = store.create_conversation()
    other = store.create_conversation()
    ids = []
    for i in range(20):
        ids.append(store.add_message(conversation.id, "user", f"m{i}").id)
        store.add_message(other.id, "user", f"other {i}")
    contents = lambda messages: [m.content for m in messages]  # noqa: E731
    assert contents(store.latest_messages(conversation.id, 3)) == ["m17", "m18", "m19"]
    assert contents(store.messages_before(conversation.id, ids[17], 3)) == ["m14", "m15", "m16"]
    assert contents(store.messages_before(conversation.id, ids[1], 5)) == ["m0"]
    around = contents(store.messages_around(conversation.id, ids[10], 5))
    assert around == ["m8", "m9", "m10", "m11", "m12"]
    assert contents(store.messages_around(conversation.id, ids[0], 4)) == ["m0", "m1", "m2", "m3"]
    assert contents(store.all_messages(conversation.id)) == [f"m{i}" for i in range(20)]
    assert store.latest_messages(9999) == []


# --- interrupted answers -----------------------------------------------------------------------


CRASH_WHILE_STREAMING = """
import os, signal, sys
from agentterm.store import Store
store = Store(sys.argv[1])
conversation = store.create_conversation(title="Crashed")
store.add_message(conversation.id, "user", "Tell me a story")
answer = store.add_message(conversation.id, "assistant", "", status="streaming")
store.update_message(answer.id, content="Once upon a time")
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_an_answer_cut_off_by_kill_9_is_interrupted_on_the_next_open(db_path):
    Store(db_path).close()
    result = subprocess.run([sys.executable, "-c", CRASH_WHILE_STREAMING, str(db_path)])
    assert result.returncode == -9
    with Store(db_path) as store:
        [conversation] = store.list_conversations()
        user, answer = store.all_messages(conversation.id)
        assert (answer.status, answer.content) == ("interrupted", "Once upon a time")
        assert user.status == "complete"
        assert store.recover_interrupted() == 0


def test_an_answer_streaming_in_a_live_process_is_left_alone(store, db_path):
    conversation = store.create_conversation()
    answer = store.add_message(conversation.id, "assistant", "so far", status="streaming")
    with Store(db_path) as other:  # opening it again, as a second window would
        assert other.get_message(answer.id).status == "streaming"
    store.update_message(answer.id, status="complete")
    store.db.execute(
        "UPDATE messages SET status = 'streaming', stream_owner = NULL WHERE id = ?", [answer.id]
    )
    assert store.recover_interrupted() == 1  # no owner recorded: nobody is streaming it
    assert store.get_message(answer.id).status == "interrupted"


# --- search ----------------------------------------------------------------------------------


@pytest.fixture
def searchable(store):
    penguins = store.create_conversation(title="Penguin facts")
    store.add_message(penguins.id, "user", "Where do emperor penguins live?")
    store.add_message(penguins.id, "assistant", "Emperor penguins live in Antarctica.")
    cooking = store.create_conversation(title="Dinner")
    store.add_message(cooking.id, "user", "A recipe for programming-friendly snacks")
    return store, penguins, cooking


def test_search_finds_messages_and_titles_with_snippets(searchable):
    store, penguins, _ = searchable
    hits = store.search("antarctica")
    assert [(h.conversation_id, h.role) for h in hits] == [(penguins.id, "assistant")]
    assert f"{SNIPPET_OPEN}Antarctica{SNIPPET_CLOSE}" in hits[0].snippet
    assert hits[0].conversation_title == "Penguin facts"
    assert hits[0].created_at is not None

    title_hits = [h for h in store.search("facts") if h.message_id is None]
    assert [h.conversation_id for h in title_hits] == [penguins.id]
    assert title_hits[0].snippet == f"Penguin {SNIPPET_OPEN}facts{SNIPPET_CLOSE}"
    assert {h.message_id is None for h in store.search("penguin")} == {True, False}
    assert len(store.search("penguin", limit=1)) == 1


def test_search_speaks_fts5_syntax(searchable):
    store, _, cooking = searchable
    assert [h.conversation_id for h in store.search("prog*")] == [cooking.id]
    assert len(store.search('"emperor penguins live"')) == 2
    assert store.search('"penguins emperor"') == []
    assert {h.conversation_id for h in store.search("recipe OR antarctica")} == {
        cooking.id,
        searchable[1].id,
    }


@pytest.mark.parametrize(
    "query", ['"emperor', "emperor AND", "AND", "NOT", "(emperor", "emperor:", "*", '"', "^"]
)
def test_bad_search_syntax_is_searched_as_plain_words(searchable, query):
    hits = searchable[0].search(query)
    if "emperor" in query:
        assert hits and all("mperor" in hit.snippet for hit in hits)
    else:
        assert isinstance(hits, list)


def test_search_follows_edits_deletes_and_the_trash(searchable):
    store, penguins, cooking = searchable
    [snack] = store.all_messages(cooking.id)
    store.update_message(snack.id, content="A recipe for soup")
    assert store.search("snacks") == []
    assert len(store.search("soup")) == 1
    store.delete_message(snack.id)
    assert store.search("soup") == []
    store.rename_conversation(penguins.id, "Birds")
    assert [h for h in store.search("facts") if h.message_id is None] == []
    store.trash(penguins.id)
    assert store.search("emperor") == [] and store.search("birds") == []
    assert store.search("   ") == []


# --- import and export -----------------------------------------------------------------------


def test_export_and_import_round_trip(store):
    agent = store.default_agent()
    conversation = store.create_conversation(agent.id)
    store.rename_conversation(conversation.id, "Round trip")
    store.set_tags(conversation.id, ["keep"])
    store.set_pinned(conversation.id, True)
    store.add_message(conversation.id, "system", "Be brief.")
    store.add_message(conversation.id, "user", "Hi")
    store.add_message(
        conversation.id,
        "assistant",
        "Hello!",
        model="m",
        agent_version=1,
        extra={"usage": {"total": 5}},
        prompt_tokens=3,
        completion_tokens=2,
    )
    data = store.export_conversation(conversation.id)
    assert (data["format"], data["version"]) == ("agentterm", 1)
    data = json.loads(json.dumps(data))  # as it goes through a file

    copy = store.import_conversation(data)
    assert copy.id != conversation.id
    assert (copy.title, copy.title_source, copy.tags, copy.pinned) == (
        "Round trip",
        "user",
        ["keep"],
        True,
    )
    assert (copy.agent_id, copy.agent_name) == (agent.id, "Assistant")
    assert (copy.message_count, copy.tokens) == (3, 5)
    assert copy.created_at == store.get_conversation(conversation.id).created_at
    strip = lambda m: (m.role, m.content, m.model, m.extra, m.created_at)  # noqa: E731
    assert [strip(m) for m in store.all_messages(copy.id)] == [
        strip(m) for m in store.all_messages(conversation.id)
    ]
    with pytest.raises(StoreError):
        store.export_conversation(9999)


def test_an_import_into_another_store_keeps_the_agent_name(store, tmp_path):
    conversation = store.create_conversation(store.create_agent("Elsewhere").id)
    data = store.export_conversation(conversation.id)
    with Store(tmp_path / "other.db") as other:
        copy = other.import_conversation(data)
        assert (copy.agent_id, copy.agent_name) == (None, "Elsewhere")


def chatgpt_conversation() -> dict:
    """One conversation from ChatGPT's conversations.json, with an edited prompt (a branch)."""

    def node(id, parent, children, role=None, text=None, t=None, **metadata):
        message = None
        if role:
            message = {
                "id": id,
                "author": {"role": role},
                "create_time": t,
                "content": {"content_type": "text", "parts": [text]},
                "metadata": metadata,
            }
        return {"id": id, "message": message, "parent": parent, "children": children}

    return {
        "title": "Capital of France",
        "create_time": 1700000000.0,
        "update_time": 1700000100.5,
        "current_node": "a2",
        "mapping": {
            "root": node("root", None, ["sys"]),
            "sys": node("sys", "root", ["u1", "u1b"], "system", "", 1700000000.0),
            "u1": node("u1", "sys", ["a1"], "user", "Capital of Frnace?", 1700000001.0),
            "a1": node("a1", "u1", [], "assistant", "Did you mean France?", 1700000002.0),
            "u1b": node("u1b", "sys", ["tool"], "user", "Capital of France?", 1700000050.0),
            "tool": node("tool", "u1b", ["a2"], "tool", "browsing...", 1700000051.0),
            "a2": node("a2", "tool", [], "assistant", "Paris.", 1700000100.5, model_slug="gpt-4o"),
        },
    }


def test_a_chatgpt_conversation_is_imported_along_its_current_branch(store):
    conversation = store.import_conversation(chatgpt_conversation())
    assert conversation.title == "Capital of France"
    assert conversation.created_at.timestamp() == 1700000000.0
    assert conversation.last_activity_at.timestamp() == 1700000100.5
    messages = store.all_messages(conversation.id)
    assert [(m.role, m.content) for m in messages] == [
        ("user", "Capital of France?"),
        ("assistant", "Paris."),
    ]
    assert messages[1].model == "gpt-4o"
    assert messages[0].created_at.timestamp() == 1700000050.0


def test_a_chatgpt_conversation_without_current_node_follows_the_newest_branch(store):
    data = chatgpt_conversation()
    del data["current_node"]
    conversation = store.import_conversation(data)
    assert [m.content for m in store.all_messages(conversation.id)] == [
        "Capital of France?",
        "Paris.",
    ]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"format": "something else"},
        {"format": "agentterm", "version": 2, "conversation": {}, "messages": []},
        {"format": "agentterm", "version": 1, "messages": [{"role": "narrator"}]},
        {"format": "agentterm", "version": 1, "messages": [{"role": "user", "content": 5}]},
        {"format": "agentterm", "version": 1, "messages": ["hello"]},
        {"format": "agentterm", "version": 1, "messages": {"role": "user"}},
    ],
)
def test_a_bad_import_is_refused_and_writes_nothing(store, data):
    with pytest.raises(StoreError, match="Cannot import"):
        store.import_conversation(data)
    assert store.count_conversations("all") == 0


def test_an_imported_streaming_answer_arrives_interrupted(store):
    data = {
        "format": "agentterm",
        "version": 1,
        "conversation": {"title": "x"},
        "messages": [{"role": "assistant", "content": "half", "status": "streaming"}],
    }
    conversation = store.import_conversation(data)
    [message] = store.all_messages(conversation.id)
    assert message.status == "interrupted"


# --- transactions and concurrency ------------------------------------------------------------


def test_a_write_waits_for_another_writer_instead_of_failing(store, db_path):
    conversation = store.create_conversation()
    blocker = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    threading.Timer(0.5, blocker.execute, ["COMMIT"]).start()
    started = time.monotonic()
    store.add_message(conversation.id, "user", "patient")
    assert time.monotonic() - started >= 0.4
    assert store.count_messages(conversation.id) == 1
    blocker.close()


def test_a_store_locked_too_long_says_so(db_path, monkeypatch):
    from agentterm.store import store as store_module

    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_SECONDS", 0.2)
    with Store(db_path) as store:
        conversation = store.create_conversation()
        blocker = sqlite3.connect(db_path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError, match="busy"):
                store.add_message(conversation.id, "user", "impatient")
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert store.count_messages(conversation.id) == 0


def test_two_stores_on_one_file_writing_at_once_lose_nothing(db_path):
    first, second = Store(db_path), Store(db_path)
    conversation = first.create_conversation()
    errors = []

    def write(store: Store, name: str) -> None:
        try:
            for i in range(100):
                store.add_message(conversation.id, "user", f"{name} {i}")
                if i % 10 == 0:
                    store.create_agent(f"{name} {i}")
        except Exception as error:  # reported below, with the thread's name
            errors.append(error)

    threads = [
        threading.Thread(target=write, args=(s, n)) for s, n in ((first, "a"), (second, "b"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert first.count_messages(conversation.id) == second.count_messages(conversation.id) == 200
    assert len(first.all_messages(conversation.id)) == 200
    assert len(second.list_agents()) == 1 + 20
    first.close()
    second.close()


def test_one_store_shared_by_threads_keeps_reads_out_of_writes(store):
    conversation = store.create_conversation()
    errors = []

    def work(name: str) -> None:
        try:
            for i in range(100):
                store.add_message(conversation.id, "user", f"{name} {i}")
                store.list_conversations(limit=5)
                store.latest_messages(conversation.id, 3)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(name,)) for name in "abc"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count_messages(conversation.id) == len(store.all_messages(conversation.id)) == 300


def write_from_another_process(path: str, cid: int, name: str) -> None:
    with Store(path) as store:
        for i in range(100):
            store.add_message(cid, "user", f"{name} {i}")
        for i in range(5):
            store.create_agent(f"{name} {i}")


def test_two_processes_writing_at_once_lose_nothing(db_path):
    with Store(db_path) as store:
        cid = store.create_conversation().id
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=write_from_another_process, args=(str(db_path), cid, name))
        for name in ("left", "right", "middle")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    with Store(db_path) as store:
        assert store.count_messages(cid) == len(store.all_messages(cid)) == 300
        assert len(store.list_agents()) == 1 + 15
        assert len(store.search("middle")) >= 1


def test_two_processes_opening_a_new_store_at_once_migrate_it_once(tmp_path):
    path = tmp_path / "new" / "agentterm.db"
    script = f"from agentterm.store import Store; Store({str(path)!r}).close()"
    processes = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(4)]
    assert [p.wait(timeout=60) for p in processes] == [0, 0, 0, 0]
    with Store(path) as store:
        assert [agent.name for agent in store.list_agents()] == ["Assistant"]


def test_the_store_can_be_read_with_sqlite_utils(store, db_path):
    conversation = store.create_conversation(title="Readable")
    store.add_message(conversation.id, "user", "find me with sqlite-utils")
    db = Database(db_path)
    assert db["messages"].detect_fts() == "messages_fts"
    assert db["conversations"].detect_fts() == "conversations_fts"
    [row] = db["messages"].search("sqlite")
    assert row["content"] == "find me with sqlite-utils"
    assert os.access(db_path, os.R_OK)


def test_search_ranks_only_the_newest_matches_past_the_cap(store, monkeypatch):
    import agentterm.store.store as store_module

    conversation = store.create_conversation()
    best_but_oldest = store.add_message(conversation.id, "user", "kiwi kiwi kiwi kiwi")
    newer = [store.add_message(conversation.id, "user", f"kiwi with many other words {i}")
             for i in range(4)]
    assert store.search("kiwi")[0].message_id == best_but_oldest.id
    monkeypatch.setattr(store_module, "SEARCH_RANKED", 3)
    ids = [hit.message_id for hit in store.search("kiwi")]
    assert sorted(ids) == [m.id for m in newer[-3:]]
