"""Searching the store: FTS5 over messages and titles, snippets, bad syntax, the ranking cap."""

from __future__ import annotations

import pytest

from agentterm.store import SNIPPET_CLOSE, SNIPPET_OPEN

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


def test_search_ranks_only_the_newest_matches_past_the_cap(store, monkeypatch):
    import agentterm.store.search as search_module

    conversation = store.create_conversation()
    best_but_oldest = store.add_message(conversation.id, "user", "kiwi kiwi kiwi kiwi")
    newer = [store.add_message(conversation.id, "user", f"kiwi with many other words {i}")
             for i in range(4)]
    assert store.search("kiwi")[0].message_id == best_but_oldest.id
    monkeypatch.setattr(search_module, "SEARCH_RANKED", 3)
    ids = [hit.message_id for hit in store.search("kiwi")]
    assert sorted(ids) == [m.id for m in newer[-3:]]


def test_matching_conversations_are_those_the_filter_keeps_with_a_match(searchable):
    """The server's `q`: conversation ids only, read as search() reads the query."""
    store, penguins, cooking = searchable
    assert store.matching_conversations("penguin", "c.deleted_at IS NULL", []) == [penguins.id]
    assert store.matching_conversations("dinner OR antarctica", "1 = 1", []) == sorted(
        [penguins.id, cooking.id])  # a title, a message
    assert store.matching_conversations("prog*", "1 = 1", []) == [cooking.id]
    assert store.matching_conversations("penguin", "c.id = ?", [cooking.id]) == []
    assert store.matching_conversations('"emperor', "1 = 1", []) == [penguins.id]
    assert store.matching_conversations("   ", "1 = 1", []) == []
