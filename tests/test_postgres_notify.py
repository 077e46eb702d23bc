"""LISTEN/NOTIFY on a PostgreSQL store (issue 11.4): a write by another Store on the same database
is heard by this one's listener, which connects again after a server restart. The app's 1 s poll
stays as the fallback (tests/test_postgres_live.py covers what the app shows)."""

from __future__ import annotations

import queue
import time

from agentterm.store import Store

WAIT = 60  # seconds; generous: the machine may be loaded. What is asserted is what arrives.


def _heard(notes: queue.Queue, want: str) -> list:
    """Notifications until `want` arrives (a re-connect's None and other payloads are kept too)."""
    seen: list = []
    deadline = time.monotonic() + WAIT
    while want not in seen:
        seen.append(notes.get(timeout=max(0.1, deadline - time.monotonic())))
    return seen


def _until(condition) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def test_a_write_by_another_store_is_heard_with_its_conversation_id(pg_url):
    mine, other = Store(pg_url), Store(pg_url)
    notes: queue.Queue = queue.Queue()
    listener = mine.listen_changes(notes.put)
    try:
        assert listener.connected.wait(WAIT)
        conversation = other.create_conversation(other.default_agent().id, title="From the laptop")
        cid = str(conversation.id)
        _heard(notes, cid)
        prompt = other.add_message(conversation.id, "user", "hello")
        _heard(notes, cid)
        answer = other.add_message(conversation.id, "assistant", "Once", status="streaming", reply_to=prompt.id)
        _heard(notes, cid)
        while not notes.empty():
            notes.get()
        other.update_message(answer.id, content="Once upon")  # a streaming flush
        _heard(notes, "")  # the flush names only the message: "", read again
        other.update_message(answer.id, content="Once upon a time.", status="complete")
        _heard(notes, cid)
        other.trash(conversation.id)
        _heard(notes, cid)
        other.purge(conversation.id)
        _heard(notes, cid)
    finally:
        listener.stop()
        mine.close()
        other.close()


def test_a_write_inside_a_transaction_is_heard_only_once_it_commits(pg_url):
    mine, other = Store(pg_url), Store(pg_url)
    notes: queue.Queue = queue.Queue()
    listener = mine.listen_changes(notes.put)
    try:
        assert listener.connected.wait(WAIT)
        agent = other.default_agent().id
        try:
            with other._write():
                other.create_conversation(agent, title="Rolled back")
                raise RuntimeError("changed my mind")
        except RuntimeError:
            pass
        kept = other.create_conversation(agent, title="Kept")
        seen = _heard(notes, str(kept.id))
        assert seen == [None, str(kept.id)]  # the connect's tick, then only the committed one
    finally:
        listener.stop()
        mine.close()
        other.close()


def test_the_listener_connects_again_after_a_server_restart(pg_cluster, pg_url):
    mine = Store(pg_url)
    notes: queue.Queue = queue.Queue()
    listener = mine.listen_changes(notes.put)
    try:
        assert listener.connected.wait(WAIT)
        assert listener.connections == 1
        pg_cluster.restart()
        _until(lambda: listener.connections >= 2 and listener.connected.is_set())
        other = Store(pg_url)
        try:
            after = other.create_conversation(other.default_agent().id, title="After the restart")
        finally:
            other.close()
        _heard(notes, str(after.id))
    finally:
        listener.stop()
        mine.close()
    _until(lambda: not listener.alive)  # stop() ends its thread on its own


def test_sqlite_has_no_listener(tmp_path):
    store = Store(tmp_path / "one.db")
    try:
        assert store.listen_changes(lambda payload: None) is None
    finally:
        store.close()
