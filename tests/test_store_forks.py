"""Forks, drafts, per-conversation overrides, and tags matched ignoring case."""

from __future__ import annotations

import pytest

from agentterm.store import Store, StoreError


def chat(store: Store, turns: int = 3):
    agent = store.create_agent("Forker")
    conversation = store.create_conversation(agent_id=agent.id, title="Penguins")
    store.set_tags(conversation.id, ["birds"])
    ids = []
    for i in range(turns):
        ids.append(store.add_message(conversation.id, "user", f"q{i}").id)
        ids.append(store.add_message(conversation.id, "assistant", f"a{i}", model="m1",
                                     thinking=f"t{i}", completion_tokens=2).id)
    return conversation, ids


def test_a_fork_keeps_the_context_up_to_the_message_and_links_its_parent(store):
    conversation, ids = chat(store)
    fork = store.fork_conversation(conversation.id, ids[3])  # up to and including a1
    assert (fork.parent_id, fork.forked_from_message_id) == (conversation.id, ids[3])
    assert (fork.title, fork.agent_id, fork.tags) == (
        "Penguins (fork)", conversation.agent_id, ["birds"])
    copied = store.all_messages(fork.id)
    assert [(m.role, m.content, m.thinking, m.model) for m in copied] == [
        ("user", "q0", "", None), ("assistant", "a0", "t0", "m1"),
        ("user", "q1", "", None), ("assistant", "a1", "t1", "m1")]
    # The copies answer the copied prompts, so a retry in the fork makes variants there.
    assert [m.reply_to for m in copied] == [None, copied[0].id, None, copied[2].id]
    assert (fork.message_count, fork.tokens) == (4, 4)
    # The parent is untouched; the fork is its own from now on.
    store.add_message(fork.id, "user", "only in the fork")
    assert len(store.all_messages(conversation.id)) == 6
    assert store.new_variant(copied[2].id) == 2


def test_a_fork_copies_the_shown_variant_and_its_tool_calls(store):
    conversation = store.create_conversation()
    prompt = store.add_message(conversation.id, "user", "What time is it?")
    store.add_message(conversation.id, "assistant", "old try")
    retry = store.add_message(conversation.id, "assistant", "", status="streaming",
                              reply_to=prompt.id, variant=store.new_variant(prompt.id))
    call = store.add_tool_call(retry.id, "c1", 0, "time__now", "time", "now", "{}")
    store.update_tool_call(call.id, status="done", result="noon", ended=True)
    store.add_tool_call(retry.id, "c2", 1, "time__zone", "time", "zone", "{}", status="running")
    tool = store.add_message(conversation.id, "tool", "noon", tool_call_id="c1")
    fork = store.fork_conversation(conversation.id, tool.id)
    user, answer, result = store.all_messages(fork.id)
    assert (answer.status, [(c.call_id, c.status, c.result) for c in answer.tool_calls]) == (
        "interrupted", [("c1", "done", "noon"), ("c2", "interrupted", None)])
    assert (result.role, result.tool_call_id, result.reply_to) == ("tool", "c1", user.id)
    assert store.variants(user.id) == [1]  # the old try stays in the parent only


def test_forking_at_a_message_of_another_conversation_is_refused(store):
    conversation, ids = chat(store, 1)
    other = store.create_conversation()
    with pytest.raises(StoreError, match="has no message"):
        store.fork_conversation(other.id, ids[0])
    with pytest.raises(StoreError):
        store.fork_conversation(9999, ids[0])


def test_purging_the_parent_unlinks_the_fork(store):
    conversation, ids = chat(store, 1)
    fork = store.fork_conversation(conversation.id, ids[1])
    store.purge(conversation.id)
    kept = store.get_conversation(fork.id)
    assert kept.parent_id is None and [m.content for m in store.all_messages(fork.id)] == [
        "q0", "a0"]


@pytest.mark.sqlite_only
def test_forking_10000_messages_is_one_copy_not_one_write_per_message(store):
    conversation = store.create_conversation(title="Long")
    rows = [(conversation.id, "user" if i % 2 == 0 else "assistant", f"m{i}") for i in range(10_000)]
    with store._write():  # one transaction, as an import makes them
        store._run_many(
            "INSERT INTO messages (conversation_id, role, content, created_at)"
            " VALUES (?, ?, ?, '2026-01-01T00:00:00.000+00:00')", rows)
    last = store.latest_messages(conversation.id, 1)[0]
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    try:
        fork = store.fork_conversation(conversation.id, last.id)
    finally:
        store._conn.set_trace_callback(None)
    assert fork.message_count == 10_000
    # (The trace repeats a statement for each trigger step it runs: count distinct ones.)
    distinct = {sql for sql in statements if not sql.startswith("--")}
    assert sum(sql.startswith("INSERT INTO messages (") for sql in distinct) == 1
    assert len(distinct) < 20, distinct


def test_a_draft_stays_with_its_conversation_and_is_not_activity(store, store_target):
    conversation, _ = chat(store, 1)
    before = store.get_conversation(conversation.id).last_activity_at
    store.set_draft(conversation.id, "half a thought")
    with Store(store_target) as after_restart:
        kept = after_restart.get_conversation(conversation.id)
        assert (kept.draft, kept.last_activity_at) == ("half a thought", before)
    store.set_draft(conversation.id, "")
    assert store.get_conversation(conversation.id).draft == ""
    with pytest.raises(StoreError):
        store.set_draft(9999, "x")


def test_a_conversation_overrides_its_agents_model_provider_and_instructions(store):
    conversation, _ = chat(store, 1)
    changed = store.override_conversation(conversation.id, model=" gpt-x ", provider="local",
                                          instructions_override="Answer in French.")
    assert (changed.model, changed.provider, changed.instructions_override) == (
        "gpt-x", "local", "Answer in French.")
    assert store.get_agent(conversation.agent_id).model is None  # the agent is untouched
    back = store.override_conversation(conversation.id, model=None)
    assert (back.model, back.provider) == (None, "local")
    with pytest.raises(ValueError, match="cannot override"):
        store.override_conversation(conversation.id, temperature="1")


def test_a_tag_filter_ignores_case(store):
    conversation = store.create_conversation(title="Snakes")
    store.set_tags(conversation.id, ["python"])
    assert [c.id for c in store.list_conversations(tag="Python")] == [conversation.id]
    assert [c.id for c in store.list_conversations(tag="PYTHON ")] == [conversation.id]
    assert store.list_conversations(tag="pythons") == []
