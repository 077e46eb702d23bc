"""The context's size and start, on both backends: numbers summed in SQL, nothing deleted by a cut."""

from __future__ import annotations


def test_sizes_reports_turns_and_a_cut(store):
    agent = store.default_agent()
    conversation = store.create_conversation(agent_id=agent.id, title="Sizes")
    first = store.add_message(conversation.id, "user", "x" * 40)
    store.add_message(conversation.id, "assistant", "y" * 60, prompt_tokens=30, completion_tokens=15)
    second = store.add_message(conversation.id, "user", "z" * 100)
    size = store.context_size(conversation.id)
    assert (size.start, size.messages, size.chars, size.reported) == (0, 3, 100, 45)
    assert [(t.first_id, t.chars) for t in store.turn_sizes(conversation.id)] == [
        (first.id, 100), (second.id, 100)]
    store.cut_context(conversation.id, second.id)
    cut = store.get_conversation(conversation.id)
    assert cut.context_from == second.id and cut.context_cut_at == second.id
    size = store.context_size(conversation.id)
    assert (size.start, size.messages, size.chars, size.reported) == (second.id, 1, 100, None)
    summary = store.add_message(conversation.id, "system", "the gist", extra={"summary": {"turns": 1}})
    assert store.context_size(conversation.id).summary_id == summary.id
    assert [t.first_id for t in store.turn_sizes(conversation.id)] == [second.id]  # a summary is no turn
    assert store.count_messages(conversation.id) == 4
    store.restore_context(conversation.id)
    assert store.context_size(conversation.id).messages == 4
    assert [row["model"] for row in store.usage_by_model(conversation.id)] == [None]
