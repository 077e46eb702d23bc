"""Tool calls and thinking in the store: stored with their message, read with it, cascaded."""

from __future__ import annotations

import pytest

from agentterm.models import ToolCall
from agentterm.store import GoneError, Store


def exchange(store: Store):
    conversation = store.create_conversation()
    store.add_message(conversation.id, "user", "What time is it?")
    answer = store.add_message(conversation.id, "assistant", "", status="streaming")
    return conversation, answer


def test_a_tool_call_is_stored_updated_and_loaded_with_its_message(store):
    conversation, answer = exchange(store)
    call = store.add_tool_call(answer.id, "call_1", 0, "time__now", "time", "now", '{"tz": ')
    assert isinstance(call, ToolCall)
    assert (call.message_id, call.call_id, call.index, call.status) == (
        answer.id, "call_1", 0, "pending")
    assert call.qualified_name == "time.now" and call.started_at is None
    store.update_tool_call(call.id, arguments='{"tz": "UTC"}', status="approval")
    running = store.update_tool_call(call.id, status="running", started=True)
    assert running.started_at is not None and running.ended_at is None
    done = store.update_tool_call(call.id, status="done", result="12:00", ended=True)
    assert (done.status, done.result, done.arguments) == ("done", "12:00", '{"tz": "UTC"}')
    assert done.ended_at >= done.started_at
    second = store.add_tool_call(answer.id, "call_2", 1, "time__zone", "time", "zone", "{}")
    store.update_tool_call(second.id, status="denied", reason="not now", ended=True)
    [message] = [m for m in store.latest_messages(conversation.id) if m.id == answer.id]
    assert [(c.call_id, c.status, c.reason) for c in message.tool_calls] == [
        ("call_1", "done", None), ("call_2", "denied", "not now")]
    assert store.get_message(answer.id).tool_calls == message.tool_calls
    assert store.all_messages(conversation.id)[0].tool_calls == []  # the prompt has none


def test_a_bad_status_is_refused(store):
    _, answer = exchange(store)
    with pytest.raises(ValueError, match="status must be one of"):
        store.add_tool_call(answer.id, "c", 0, "f", status="finished")
    call = store.add_tool_call(answer.id, "c", 0, "f")
    with pytest.raises(ValueError, match="status must be one of"):
        store.update_tool_call(call.id, status="ok")


def test_tool_calls_go_with_their_message_and_conversation(store):
    conversation, answer = exchange(store)
    store.add_tool_call(answer.id, "c1", 0, "f")
    store.delete_message(answer.id)
    assert store.db.execute("SELECT count(*) FROM tool_calls").fetchone()[0] == 0
    other = store.add_message(conversation.id, "assistant", "")
    store.add_tool_call(other.id, "c2", 0, "f")
    store.purge(conversation.id)
    assert store.db.execute("SELECT count(*) FROM tool_calls").fetchone()[0] == 0


@pytest.mark.sqlite_only
def test_a_window_reads_its_tool_calls_in_one_query_not_one_per_message(store):
    conversation = store.create_conversation()
    for i in range(30):
        store.add_message(conversation.id, "user", f"q{i}")
        answer = store.add_message(conversation.id, "assistant", f"a{i}")
        store.add_tool_call(answer.id, f"c{i}", 0, "f")
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    try:
        window = store.latest_messages(conversation.id, 50)
        everything = store.all_messages(conversation.id)
    finally:
        store._conn.set_trace_callback(None)
    assert len(statements) == 2, statements  # one a window, whatever it holds
    assert sum(len(m.tool_calls) for m in window) == 25
    assert [m.tool_calls[0].call_id for m in everything if m.role == "assistant"] == [
        f"c{i}" for i in range(30)]


def test_thinking_is_stored_with_its_message(store):
    conversation, answer = exchange(store)
    assert answer.thinking == ""
    store.update_message(answer.id, thinking="The user wants the time.")
    store.update_message(answer.id, content="Noon.", status="complete")
    message = store.get_message(answer.id)
    assert (message.thinking, message.content) == ("The user wants the time.", "Noon.")
    kept = store.add_message(conversation.id, "assistant", "x", thinking="hmm")
    assert store.get_message(kept.id).thinking == "hmm"
    with pytest.raises(ValueError, match="thinking must be text"):
        store.update_message(answer.id, thinking=3)


def test_writes_to_a_purged_conversation_say_it_was_deleted(store, store_target):
    conversation, answer = exchange(store)
    call = store.add_tool_call(answer.id, "c1", 0, "f")
    with Store(store_target) as elsewhere:  # `agentterm chats purge` in another process
        elsewhere.purge(conversation.id)
    for write in (
        lambda: store.update_message(answer.id, content="more"),
        lambda: store.heartbeat(answer.id),
        lambda: store.add_tool_call(answer.id, "c2", 1, "f"),
        lambda: store.update_tool_call(call.id, status="done"),
        lambda: store.add_message(conversation.id, "assistant", "late"),
    ):
        with pytest.raises(GoneError, match="deleted") as raised:
            write()
        assert raised.value.message_id in (answer.id, None)
    with pytest.raises(GoneError) as raised:
        store.add_message(conversation.id, "user", "hello?")
    assert raised.value.conversation_id == conversation.id
