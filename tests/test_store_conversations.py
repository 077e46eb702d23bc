"""Conversations in the store: the sidebar's order and views, titles, tags, trash, stats."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from agentterm.models import to_iso, utcnow
from agentterm.store import Store, StoreError
from tests.store_helpers import age

# --- conversations ---------------------------------------------------------------------------


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


@pytest.mark.sqlite_only
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


@pytest.mark.sqlite_only
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


@pytest.mark.sqlite_only
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


def test_control_characters_never_make_a_tag(store):
    conversation = store.create_conversation()
    store.set_tags(conversation.id, ["\x00", "\x1b[31m", "wo\u202erk", "\u200b", "ok"])
    assert store.get_conversation(conversation.id).tags == ["[31m", "ok", "work"]


def test_an_id_beyond_64_bits_finds_nothing(store):
    # sqlite3 raised OverflowError for it ('this is a bug' in the CLI, a 500 from serve).
    assert store.get_conversation(10**23) is None and store.get_message(10**23) is None


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
