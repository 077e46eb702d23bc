"""Liveness by heartbeat: a streaming answer is dead when, and only when, its heartbeat is stale."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from agentterm.store import Store
from tests.store_helpers import stale


def streaming(store: Store, owner: str | None = None):
    """A streaming answer with a tool call awaiting approval; `owner` as releases before
    heartbeats recorded it ("host:pid")."""
    conversation = store.create_conversation()
    store.add_message(conversation.id, "user", "Run it")
    answer = store.add_message(conversation.id, "assistant", "Let me", status="streaming")
    call = store.add_tool_call(answer.id, "c1", 0, "run", "sh", "run", "{}", status="approval")
    store.db.execute("UPDATE messages SET stream_owner = ? WHERE id = ?", [owner, answer.id])
    return answer, call


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


OWNERS = {
    # pid 1 is always alive: in a container the writer often was pid 1, and died with it.
    "pid 1 in a container": f"{socket.gethostname()}:1",
    # The writer's pid came back as another live process (here: this very one).
    "a reused pid": f"{socket.gethostname()}:{os.getpid()}",
    # The laptop got another hostname from DHCP; the old one is never "this host" again.
    "a changed hostname": "laptop-before-dhcp.local:4242",
}


@pytest.mark.parametrize("owner", OWNERS.values(), ids=OWNERS.keys())
def test_a_stale_answer_is_recovered_whatever_owner_it_names(store, store_target, owner):
    answer, call = streaming(store, owner)
    stale(store, answer.id)
    assert store.get_message(answer.id).is_stale
    with Store(store_target) as next_start:
        message = next_start.get_message(answer.id)
        assert (message.status, message.content, message.is_stale) == (
            "interrupted", "Let me", False)
        [interrupted] = message.tool_calls
        assert (interrupted.id, interrupted.status) == (call.id, "interrupted")
        assert interrupted.ended_at is not None


def test_a_beating_answer_is_left_alone_even_when_its_owner_is_dead(store, store_target):
    answer, call = streaming(store, f"{socket.gethostname()}:{dead_pid()}")
    with Store(store_target) as elsewhere:
        message = elsewhere.get_message(answer.id)
        assert (message.status, message.tool_calls[0].status) == ("streaming", "approval")
        assert not message.is_stale


def test_tool_calls_are_beats_and_open_calls_of_an_ended_answer_are_interrupted(store):
    answer, call = streaming(store)
    stale(store, answer.id)
    store.update_tool_call(call.id, status="running", started=True)  # a beat
    assert store.recover_interrupted() == 0
    stale(store, answer.id)
    store.add_tool_call(answer.id, "c2", 1, "run", "sh", "run", "{}")  # a beat too
    assert store.recover_interrupted() == 0
    # The answer ended while the calls were still open (a writer's fault): they are not running.
    store.update_message(answer.id, status="complete")
    assert store.recover_interrupted() == 0
    assert [c.status for c in store.get_message(answer.id).tool_calls] == [
        "interrupted", "interrupted"]


def test_a_done_call_keeps_its_status_when_its_answer_is_interrupted(store):
    answer, call = streaming(store)
    store.update_tool_call(call.id, status="done", result="ok", ended=True)
    stale(store, answer.id)
    assert store.recover_interrupted() == 1
    assert store.get_message(answer.id).tool_calls[0].status == "done"
