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


def test_a_fork_of_a_compacted_conversation_sends_what_its_parent_sends(store):
    # The fork copies every shown row; before this, it dropped the cut and sent all of them.
    conversation = store.create_conversation(title="Long")
    store.add_message(conversation.id, "user", "a" * 40)
    store.add_message(conversation.id, "assistant", "b" * 60, prompt_tokens=30, completion_tokens=15)
    second = store.add_message(conversation.id, "user", "c" * 100)
    answer = store.add_message(conversation.id, "assistant", "d" * 10)
    store.cut_context(conversation.id, second.id)
    store.add_message(conversation.id, "user", "e" * 5)
    last = store.add_message(conversation.id, "assistant", "f" * 7, prompt_tokens=9, completion_tokens=2)
    parent = store.context_size(conversation.id)

    fork = store.fork_conversation(conversation.id, last.id)
    size = store.context_size(fork.id)
    copies = [m.id for m in store.all_messages(fork.id)]
    assert fork.context_from == copies[2] and fork.context_cut_at == copies[3]
    assert (size.messages, size.chars, size.reported) == (parent.messages, parent.chars, parent.reported)
    assert [t.chars for t in store.turn_sizes(fork.id)] == [t.chars for t in store.turn_sizes(conversation.id)]

    # Forked at the cut's last row: the cut's start comes along, no report counts.
    early = store.fork_conversation(conversation.id, answer.id)
    early_copies = [m.id for m in store.all_messages(early.id)]
    assert (early.context_from, early.context_cut_at) == (early_copies[2], early_copies[3])
    assert store.context_size(early.id).messages == 2

    # Forked before the cut: every copied row was sent then, so the fork sends them all.
    before = store.fork_conversation(conversation.id, second.id - 1)
    assert before.context_from is None
    assert store.context_size(before.id).messages == 2
