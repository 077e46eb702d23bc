"""Fault injection: a write of the store fails as SQLite's would, at a chosen step."""

from __future__ import annotations

import pytest

from agentterm.store import AsyncStore, Store, StoreError
from tests.store_helpers import Faults

# Faults are SQLite's own errors, word for word (tests/store_helpers.py).
pytestmark = pytest.mark.sqlite_only


def streaming_answer(store: Store):
    conversation = store.create_conversation(title="Faulty")
    prompt = store.add_message(conversation.id, "user", "Tell me")
    answer = store.add_message(conversation.id, "assistant", "Once", status="streaming")
    return conversation, prompt, answer


def real_disk_full_error(store: Store, cid: int) -> StoreError:
    """The StoreError SQLite's own SQLITE_FULL gives: the file may not grow a page more."""
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    try:
        with pytest.raises(StoreError) as raised:
            for _ in range(50):
                store.add_message(cid, "user", "y" * 20_000)
        return raised.value
    finally:
        store.db.execute("PRAGMA max_page_count = 1073741823")


def test_an_injected_full_disk_is_the_store_error_a_real_one_is(store):
    conversation, _, answer = streaming_answer(store)
    real = real_disk_full_error(store, conversation.id)
    faults = Faults.install(store)
    faults.fail("full", when="UPDATE messages")
    with pytest.raises(StoreError) as injected:
        store.update_message(answer.id, content="Once upon")
    assert str(injected.value) == str(real)
    assert faults.failed == [faults.log[1]] and faults.log[0] == "BEGIN IMMEDIATE"
    # Rolled back whole, and the next write goes through.
    assert store.get_message(answer.id).content == "Once"
    assert store.update_message(answer.id, content="Once upon").content == "Once upon"


@pytest.mark.parametrize(
    ("fault", "words"),
    [("full", "is full"), ("io", "failed: disk I/O error"), ("locked", "is busy")],
)
def test_the_nth_write_fails_with_the_faults_own_words_and_nothing_half_written(
    store, fault, words
):
    conversation, _, answer = streaming_answer(store)
    before = store.get_conversation(conversation.id)
    faults = Faults.install(store)
    # add_message is BEGIN, UPDATE conversations, INSERT messages, COMMIT: fail the INSERT.
    faults.fail(fault, nth=3)
    with pytest.raises(StoreError, match=words):
        store.add_message(conversation.id, "assistant", "Another", status="complete")
    assert faults.failed and faults.failed[0].startswith("INSERT INTO messages")
    after = store.get_conversation(conversation.id)
    assert (after.message_count, after.last_activity_at) == (
        before.message_count, before.last_activity_at)
    assert [m.content for m in store.all_messages(conversation.id)] == ["Tell me", "Once"]


def test_a_fault_at_commit_rolls_back_the_whole_write(store):
    conversation, _, answer = streaming_answer(store)
    faults = Faults.install(store)
    faults.fail("io", when="COMMIT")
    with pytest.raises(StoreError, match="disk I/O error"):
        store.add_tool_call(answer.id, "c1", 0, "f")
    assert store.get_message(answer.id).tool_calls == []
    faults.fail("locked", when="BEGIN", times=None)  # held for good
    for _ in range(3):
        with pytest.raises(StoreError, match="busy"):
            store.heartbeat(answer.id)
    faults.remove()
    store.heartbeat(answer.id)


def test_reads_are_never_failed(store):
    conversation, _, _ = streaming_answer(store)
    faults = Faults.install(store)
    faults.fail("io", times=None)
    assert len(store.all_messages(conversation.id)) == 2
    assert store.list_conversations()[0].title == "Faulty"
    with pytest.raises(StoreError):
        store.set_pinned(conversation.id, True)


async def test_faults_reach_writes_made_through_async_store(store):
    conversation, _, answer = streaming_answer(store)
    astore = AsyncStore(store)
    faults = Faults.install(store)
    faults.fail("full", when=lambda sql, params: "Once upon" in str(params))
    await astore.update_message(answer.id, content="Once more")  # not matched: it goes through
    with pytest.raises(StoreError, match="is full"):
        await astore.update_message(answer.id, content="Once upon a time")
    assert (await astore.get_message(answer.id)).content == "Once more"
