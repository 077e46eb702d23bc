"""`agentterm serve` cleans up after its clients (issue 10.1): id-less sessions idle past
[serve] idle_timeout go to the trash; a plain answer whose client left is stopped and kept interrupted."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from datetime import timedelta

import pytest

from agentterm.models import to_iso, utcnow
from tests.openai_server import Stream
from tests.serve_helpers import LiveServer

AGENT = "Assistant"


def _wait(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition was not met in time"
        time.sleep(0.05)


def _age(db_path, cid: int, hours: float) -> None:
    """As another process would: the conversation's last activity set `hours` back."""
    with sqlite3.connect(db_path, timeout=30) as db:
        db.execute("UPDATE conversations SET last_activity_at = ? WHERE id = ?",
                   [to_iso(utcnow() - timedelta(hours=hours)), cid])


def _trashed(store, cid: int) -> bool:
    return store.get_conversation(cid).deleted_at is not None


@pytest.fixture
def serve_with(store, settings, client):
    def start(**serve):
        settings.serve = {**settings.serve, **serve}
        store.set_agent_owner(store.default_agent().id, None, shared=True)
        return LiveServer(store, settings, client)

    return start


def test_idle_sessions_made_without_an_id_go_to_the_trash(serve_with, store, db_path):
    agent = store.default_agent().id
    old_ephemeral = store.create_owned_conversation(agent, "alice", "sess_old", ephemeral=True)
    old_named = store.create_owned_conversation(agent, "alice", "chat-42")
    old_app = store.create_conversation(agent)
    fresh_ephemeral = store.create_owned_conversation(agent, "alice", "sess_new", ephemeral=True)
    busy = store.create_owned_conversation(agent, "alice", "sess_busy", ephemeral=True)
    store.add_message(busy.id, "user", "go")
    store.add_message(busy.id, "assistant", "half", status="streaming")
    for conversation in (old_ephemeral, old_named, old_app, busy):
        _age(db_path, conversation.id, hours=2)
    token, _ = store.create_token("alice")
    with serve_with(idle_timeout=60) as live:  # a sweep every 6 s
        _wait(lambda: _trashed(store, old_ephemeral.id))  # at start, before any request
        # One made now through the API without a session id, then left alone for hours.
        raw = live.openai(token).chat.completions.with_raw_response.create(
            model=AGENT, messages=[{"role": "user", "content": "hi"}])
        made = store.owned_conversation("alice", raw.headers["x-session-id"])
        assert made is not None
        _age(db_path, made.id, hours=2)
        _wait(lambda: _trashed(store, made.id))  # by the periodic sweep
        assert not any(_trashed(store, c.id) for c in (old_named, old_app, fresh_ephemeral, busy))
    # To the trash, not gone: restorable until the trash's own purge.
    store.restore(made.id)
    assert [m.role for m in store.all_messages(made.id)] == ["user", "assistant"]


def test_the_sweep_interval_follows_the_timeout():
    from agentterm.server.cleanup import sweep_interval

    assert sweep_interval(3600) == 60 and sweep_interval(60) == 6 and sweep_interval(2) == 1


def test_a_plain_answer_whose_client_left_is_stopped_and_kept_interrupted(serve_with, store, server):
    token, _ = store.create_token("alice")
    long = "word " * 400
    server.script(Stream(long, chunk_size=5, delay=0.05))  # 20 s if nobody stops it
    with serve_with() as live:
        body = json.dumps({"model": AGENT, "session_id": "plain-1",
                           "messages": [{"role": "user", "content": "go"}]}).encode()
        sock = socket.create_connection(("127.0.0.1", live.port), timeout=30)
        try:
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Authorization: Bearer " + token.encode() + b"\r\nContent-Type: application/json\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

            def answer_begun():
                found = store.owned_conversation("alice", "plain-1")
                rows = store.all_messages(found.id) if found else []
                return len(rows) == 2 and rows[-1].status == "streaming" and rows[-1].content

            _wait(answer_begun)
        finally:
            sock.close()  # the client gives up before the answer is whole
        cid = store.owned_conversation("alice", "plain-1").id
        _wait(lambda: store.all_messages(cid)[-1].status != "streaming")
        answer = store.all_messages(cid)[-1]
        assert answer.role == "assistant" and answer.status == "interrupted"
        assert 0 < len(answer.content) < len(long)
        assert server.client_disconnected.wait(30)  # and the upstream request was let go
