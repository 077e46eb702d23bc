"""Messages in the store: writes, counts, windows, and answers cut off mid-stream."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agentterm.store import Store, StoreError
from tests.store_helpers import age, stale

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
def test_an_answer_cut_off_by_kill_9_is_interrupted_once_its_heartbeat_is_stale(store_target):
    Store(store_target).close()
    result = subprocess.run([sys.executable, "-c", CRASH_WHILE_STREAMING, str(store_target)])
    assert result.returncode == -9
    with Store(store_target) as store:
        [conversation] = store.list_conversations()
        user, answer = store.all_messages(conversation.id)
        # Its last heartbeat is a moment ago: it reads as streaming, not yet as dead.
        assert (answer.status, answer.is_stale) == ("streaming", False)
        stale(store, answer.id)  # STALE_AFTER later
        assert store.get_message(answer.id).is_stale
    with Store(store_target) as store:  # the next start
        user, answer = store.all_messages(conversation.id)
        assert (answer.status, answer.content) == ("interrupted", "Once upon a time")
        assert user.status == "complete" and not answer.is_stale
        assert store.recover_interrupted() == 0


def test_an_answer_whose_writer_beats_is_left_alone(store, store_target):
    conversation = store.create_conversation()
    answer = store.add_message(conversation.id, "assistant", "so far", status="streaming")
    with Store(store_target) as other:  # opening it again, as a second window would
        assert other.get_message(answer.id).status == "streaming"
    stale(store, answer.id)
    store.heartbeat(answer.id)  # the writer's flush timer, with no new token
    assert store.recover_interrupted() == 0
    stale(store, answer.id)
    store.update_message(answer.id, content="so far, and more")  # a flush is a heartbeat too
    assert store.recover_interrupted() == 0
    stale(store, answer.id)
    assert store.recover_interrupted() == 1
    assert store.get_message(answer.id).status == "interrupted"
    store.heartbeat(answer.id)  # too late: an ended answer is not revived
    assert store.get_message(answer.id).heartbeat_at is None
