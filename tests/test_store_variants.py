"""Answer variants: a retry adds a variant, never deletes; one variant is the context."""

from __future__ import annotations

import pytest

from agentterm.store import StoreError


def answered(store, text="First answer."):
    conversation = store.create_conversation()
    prompt = store.add_message(conversation.id, "user", "Tell me a joke")
    answer = store.add_message(conversation.id, "assistant", text)
    return conversation, prompt, answer


def context(store, cid):
    return [m.content for m in store.all_messages(cid)]


def test_an_answer_answers_the_prompt_before_it_as_variant_1(store):
    conversation, prompt, answer = answered(store)
    assert (answer.reply_to, answer.variant, answer.superseded) == (prompt.id, 1, False)
    assert store.variants(prompt.id) == [1] and store.new_variant(prompt.id) == 2
    tool = store.add_message(conversation.id, "tool", "12:00", tool_call_id="c1")
    assert (tool.reply_to, tool.variant) == (prompt.id, 1)  # the same turn's rows share it
    assert prompt.reply_to is None


def test_a_retry_keeps_the_old_answer_shown_until_its_first_token(store):
    conversation, prompt, old = answered(store, "Old, cut off")
    store.update_message(old.id, status="interrupted")
    n = store.new_variant(prompt.id)
    retry = store.add_message(conversation.id, "assistant", "", status="streaming",
                              reply_to=prompt.id, variant=n)
    assert retry.superseded and context(store, conversation.id) == ["Tell me a joke", "Old, cut off"]
    store.update_message(retry.id, content="New")  # the first token
    assert context(store, conversation.id) == ["Tell me a joke", "New"]
    assert store.get_message(old.id).superseded
    assert [m.content for m in store.latest_messages(conversation.id)] == ["Tell me a joke", "New"]
    assert store.variants(prompt.id) == [1, 2]
    # Browsing back: the old one is the context again, the new one kept.
    store.select_variant(prompt.id, 1)
    assert context(store, conversation.id) == ["Tell me a joke", "Old, cut off"]
    assert [m.content for m in store.variant_messages(prompt.id, 2)] == ["New"]
    assert store.shown_variant(prompt.id) == 1


def test_a_retry_that_fails_before_any_token_leaves_the_old_answer(store):
    conversation, prompt, old = answered(store, "Kept")
    retry = store.add_message(conversation.id, "assistant", "", status="streaming",
                              reply_to=prompt.id, variant=store.new_variant(prompt.id))
    store.update_message(retry.id, status="error", extra={"error": "server down"})
    assert context(store, conversation.id) == ["Tell me a joke", "Kept"]
    assert store.get_message(old.id).content == "Kept"
    assert store.variants(prompt.id) == [1, 2]  # the failed try is browsable


def test_a_retry_whose_first_act_is_a_tool_call_is_shown_from_then(store):
    conversation, prompt, old = answered(store)
    retry = store.add_message(conversation.id, "assistant", "", status="streaming",
                              reply_to=prompt.id, variant=store.new_variant(prompt.id))
    store.add_tool_call(retry.id, "c1", 0, "time__now", "time", "now", "{}")
    assert [m.id for m in store.all_messages(conversation.id)] == [prompt.id, retry.id]


def test_selecting_a_variant_that_is_not_there_is_refused(store):
    _, prompt, _ = answered(store)
    with pytest.raises(StoreError, match="no answer variant 5"):
        store.select_variant(prompt.id, 5)
    assert store.shown_variant(prompt.id) == 1


@pytest.mark.sqlite_only
def test_the_context_reads_walk_the_context_index(store):
    """A 10,000-message conversation opens as fast as before: no scan, no sort."""
    conversation, prompt, answer = answered(store)
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    try:
        store.latest_messages(conversation.id, 50)
        store.messages_before(conversation.id, answer.id, 50)
    finally:
        store._conn.set_trace_callback(None)
    reads = statements
    assert len(reads) == 2  # one statement a window, tool calls included
    for sql in reads:
        plan = " ".join(row[-1] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "USING INDEX messages_context" in plan and "TEMP B-TREE" not in plan, plan


def test_search_finds_the_variant_shown_not_the_superseded_ones(store):
    conversation, prompt, old = answered(store, "An albatross joke")
    retry = store.add_message(conversation.id, "assistant", "", status="streaming",
                              reply_to=prompt.id, variant=store.new_variant(prompt.id))
    store.update_message(retry.id, content="A penguin joke", status="complete")
    assert [hit.message_id for hit in store.search("penguin")] == [retry.id]
    assert store.search("albatross") == []
    store.select_variant(prompt.id, 1)
    assert [hit.message_id for hit in store.search("albatross")] == [old.id]


def test_deleting_the_answer_shown_shows_the_newest_other_variant(store):
    conversation, prompt, first = answered(store, "one")
    for text in ("two", "three"):
        retry = store.add_message(conversation.id, "assistant", "", status="streaming",
                                  reply_to=prompt.id, variant=store.new_variant(prompt.id))
        store.update_message(retry.id, content=text, status="complete")
    store.select_variant(prompt.id, 2)
    [shown] = store.variant_messages(prompt.id, 2)
    store.delete_message(shown.id)
    assert context(store, conversation.id) == ["Tell me a joke", "three"]
    store.delete_message(first.id)  # a superseded one: the shown one stays
    assert context(store, conversation.id) == ["Tell me a joke", "three"]
    assert store.variants(prompt.id) == [3]
