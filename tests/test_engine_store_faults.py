"""Every write of a turn made to fail (full, I/O, locked), at every step: the turn's promises still hold.

After each case: run_turn raised nothing and ended with AnswerFinished or AnswerFailed; the prompt
is kept (or the turn said it was not stored); each stored answer is a prefix of what was shown;
and once the store takes writes again (the next turn's first job, retry_pending), no message is
left streaming, no call left pending or running, and each answer holds exactly what was shown.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from agentterm.engine import AnswerFailed, AnswerFinished, PromptStored, TextDelta, retry_pending
from agentterm.store import Store
from tests.engine_helpers import ScriptedModel, ScriptedTools, ThinkingDelta, call, calls_end, collect, text
from tests.store_helpers import Faults

PROMPT = "what time is it?"


class Paced(ScriptedModel):
    """Pauses between pieces now and then, so the flush timer writes (and can fail) mid-answer."""

    async def stream_chat(self, messages, **options):
        async for item in super().stream_chat(messages, **options):
            yield item
            await asyncio.sleep(0.01)


def scripted() -> tuple[Paced, ScriptedTools]:
    model = Paced(
        [ThinkingDelta("Checking the clock. "), *text("Let me look. ")[:-1],
         *call("now", '{"zone": "UTC"}', split=4), *calls_end()],
        text("It is ", "noon ", "in ", "UTC."),
    )
    return model, ScriptedTools(now=lambda args: "12:00")


async def run_case(path, fault: str | None, nth: int, times: int | None):
    store = Store(path)
    agent = store.create_agent("Clock")
    conversation = store.create_conversation(agent_id=agent.id, title="Kept")
    faults = Faults.install(store)
    if fault:
        faults.fail(fault, nth=nth, times=times)
    model, tools = scripted()
    try:
        events = await collect(store, model, conversation.id, PROMPT, tools=tools, auto_approve=True,
                               flush_interval=0.015)
    finally:
        faults.remove()
    return store, conversation, events, len(faults.log)


def shown_by_message(events) -> dict[int, str]:
    shown: dict[int, str] = {}
    for event in events:
        if isinstance(event, TextDelta):
            shown[event.message_id] = shown.get(event.message_id, "") + event.text
    return shown


def check(store: Store, conversation, events) -> None:
    assert isinstance(events[-1], (AnswerFinished, AnswerFailed)), events[-1]
    stored = store.all_messages(conversation.id)
    if any(isinstance(e, PromptStored) for e in events):
        assert stored[0].role == "user" and stored[0].content == PROMPT
    else:
        failed = events[-1]
        assert isinstance(failed, AnswerFailed) and failed.message is None
        assert "Nothing was stored" in failed.error.hint  # the app keeps it in the box
    shown = shown_by_message(events)
    for message in stored:
        if message.role == "assistant":
            assert shown.get(message.id, "").startswith(message.content), (message.content, shown)


async def ended_cleanly(store: Store, conversation, events) -> None:
    assert await retry_pending(store)
    stored = store.all_messages(conversation.id)
    shown = shown_by_message(events)
    assert not [m for m in stored if m.status == "streaming"]
    for message in stored:
        if message.role == "assistant":
            assert message.content == shown.get(message.id, "")
        for tool_call in message.tool_calls:
            assert tool_call.status not in ("pending", "approval", "running"), tool_call


@pytest.fixture(scope="module")
def writes(tmp_path_factory) -> int:
    """How many write statements a whole faultless turn makes (it varies a little with timing)."""
    async def reference() -> int:
        store, conversation, events, count = await run_case(
            tmp_path_factory.mktemp("ref") / "store.db", None, 0, None)
        assert isinstance(events[-1], AnswerFinished)
        check(store, conversation, events)
        store.close()
        return count

    return asyncio.run(reference())


# Every step for a full disk; every third for the others (the same paths, worded differently),
# unless AGENTTERM_ALL_FAULTS=1 asks for every step of each (the longer profile).
EVERY = {"full": 1, "io": 1 if os.environ.get("AGENTTERM_ALL_FAULTS") else 3}
EVERY["locked"] = EVERY["io"]


@pytest.mark.parametrize("fault", ["full", "io", "locked"])
@pytest.mark.parametrize("times", [1, None], ids=["once", "from-then-on"])
async def test_a_fault_at_any_write_keeps_the_turns_promises(tmp_path, writes, fault, times, monkeypatch):
    # The turn's own retries of a refused final write would only slow each case down here:
    # what they would write is checked through retry_pending below.
    monkeypatch.setattr("agentterm.engine.turn.PENDING_RETRY_SECONDS", 0.0)
    # Writes before the turn (the agent, the conversation) are made before the fault is set.
    for nth in range(1, writes + 4, EVERY[fault]):
        store, conversation, events, _ = await run_case(tmp_path / f"{nth}.db", fault, nth, times)
        try:
            check(store, conversation, events)
            await ended_cleanly(store, conversation, events)
        except AssertionError as error:
            raise AssertionError(f"{fault} at write {nth} ({times=}): {error}") from None
        finally:
            store.close()
