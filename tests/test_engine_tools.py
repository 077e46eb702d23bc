"""The tool loop: calls assembled, approved or denied, run, their results stored and sent back."""

from __future__ import annotations

import asyncio
import json

import pytest

from agentterm.engine import (
    AnswerFailed,
    AnswerFinished,
    AnswerStarted,
    Approval,
    ApprovalAsked,
    ToolCallArguments,
    ToolCallReady,
    ToolCallRunning,
    ToolCallStarted,
    ToolResult,
    run_turn,
)
from tests.engine_helpers import ScriptedModel, ScriptedTools, call, calls_end, collect, last, text


@pytest.fixture
def agent(store):
    return store.create_agent("Clock", instructions="Use your tools.")


@pytest.fixture
def conversation(store, agent):
    return store.create_conversation(agent_id=agent.id)


def tool_exchange(request):
    """The assistant message asking for calls and the tool messages after it, from a request."""
    messages = request["messages"]
    start = next(i for i, m in enumerate(messages) if m.get("tool_calls"))
    return messages[start], messages[start + 1:]


async def test_a_call_split_in_pieces_runs_and_its_result_goes_back_to_the_model(store, conversation):
    model = ScriptedModel(
        [*call("now", '{"zone": "UTC", "format": "iso"}', split=5), *calls_end()],
        text("It is noon."),
    )
    tools = ScriptedTools(now=lambda args: f"12:00 in {args['zone']}")

    events = await collect(store, model, conversation.id, "what time is it?", tools=tools,
                           auto_approve=True)

    assert isinstance(last(events), AnswerFinished) and last(events).message.content == "It is noon."
    assert tools.calls == [("now", {"zone": "UTC", "format": "iso"})]
    pieces = "".join(e.text for e in events if isinstance(e, ToolCallArguments))
    assert pieces == '{"zone": "UTC", "format": "iso"}'
    kinds = [type(e) for e in events]
    assert (kinds.index(ToolCallStarted) < kinds.index(ToolCallReady) < kinds.index(ToolCallRunning)
            < kinds.index(ToolResult))
    running = next(e.call for e in events if isinstance(e, ToolCallRunning))
    assert running.status == "running" and running.started_at is not None
    assert [e.call.status for e in events if isinstance(e, ToolResult)] == ["done"]
    assert model.requests[0]["tools"][0]["function"]["name"] == "now"
    asked, results = tool_exchange(model.requests[1])
    assert asked["role"] == "assistant" and asked["tool_calls"][0]["id"] == "call_1"
    assert asked["tool_calls"][0]["function"] == {"name": "now", "arguments": '{"zone": "UTC", "format": "iso"}'}
    assert results == [{"role": "tool", "tool_call_id": "call_1", "content": "12:00 in UTC"}]
    stored = store.all_messages(conversation.id)
    assert [m.role for m in stored] == ["user", "assistant", "tool", "assistant"]
    assert stored[2].tool_call_id == "call_1" and stored[2].content == "12:00 in UTC"
    assert all(m.status == "complete" for m in stored)


async def test_two_calls_in_one_answer_each_get_their_result_in_order(store, conversation):
    model = ScriptedModel(
        [*call("add", '{"a": 1, "b": 2}', index=0, call_id="c1", split=3),
         *call("add", '{"a": 3, "b": 4}', index=1, call_id="c2", split=3), *calls_end()],
        text("3 and 7."),
    )
    tools = ScriptedTools(add=lambda args: str(args["a"] + args["b"]))

    events = await collect(store, model, conversation.id, "add", tools=tools, auto_approve=True)

    assert last(events).message.content == "3 and 7."
    asked, results = tool_exchange(model.requests[1])
    assert [c["id"] for c in asked["tool_calls"]] == ["c1", "c2"]
    assert [(r["tool_call_id"], r["content"]) for r in results] == [("c1", "3"), ("c2", "7")]


async def test_an_unknown_tool_and_bad_arguments_are_told_to_the_model_and_the_turn_goes_on(store, conversation):
    model = ScriptedModel(
        [*call("nope", "{}", index=0, call_id="c1"), *call("now", "{not json", index=1, call_id="c2"),
         *calls_end()],
        text("Sorry."),
    )
    tools = ScriptedTools(now=lambda args: "never")

    events = await collect(store, model, conversation.id, "go", tools=tools, auto_approve=True)

    assert isinstance(last(events), AnswerFinished)
    assert tools.calls == []
    results = [e.call for e in events if isinstance(e, ToolResult)]
    assert [c.status for c in results] == ["failed", "failed"]
    asked, sent = tool_exchange(model.requests[1])
    assert "no tool named 'nope'" in sent[0]["content"]
    assert "not a JSON object" in sent[1]["content"]
    # Arguments that are not JSON go back as {}: servers parse them.
    assert asked["tool_calls"][1]["function"]["arguments"] == "{}"


async def test_approval_once_runs_and_deny_sends_the_reason(store, conversation):
    model = ScriptedModel(
        [*call("rm", '{"path": "/"}', index=0, call_id="c1"), *call("ls", "{}", index=1, call_id="c2"),
         *calls_end()],
        text("As you wish."),
    )
    tools = ScriptedTools(rm=lambda args: "deleted", ls=lambda args: "a b c")
    decisions = {"rm": Approval("deny", "never delete the root"), "ls": Approval("once")}

    events = await collect(store, model, conversation.id, "clean up", tools=tools,
                           approve=lambda c: decisions[c.name])

    assert isinstance(last(events), AnswerFinished)
    asked = [e.call.name for e in events if isinstance(e, ApprovalAsked)]
    assert asked == ["rm", "ls"]
    assert tools.calls == [("ls", {})]
    results = {e.call.name: e.call for e in events if isinstance(e, ToolResult)}
    assert results["rm"].status == "denied" and results["rm"].reason == "never delete the root"
    _, sent = tool_exchange(model.requests[1])
    assert sent[0]["content"] == "Cancelled: the user denied this call: never delete the root"
    assert sent[1]["content"] == "a b c"


async def test_approval_always_is_remembered_for_the_agent(store, conversation, agent):
    if not hasattr(store, "allow_tool"):
        pytest.skip("the store cannot keep always-allowed tools yet")
    model = ScriptedModel([*call("ls"), *calls_end()], text("One."), [*call("ls"), *calls_end()], text("Two."))
    tools = ScriptedTools(ls=lambda args: "a")

    first = await collect(store, model, conversation.id, "list", tools=tools,
                          approve=lambda c: Approval("always"))
    second = await collect(store, model, conversation.id, "again", tools=tools)

    assert sum(isinstance(e, ApprovalAsked) for e in first) == 1
    assert not any(isinstance(e, ApprovalAsked) for e in second)
    assert "test.ls" in store.allowed_tools_for(agent.id)
    assert len(tools.calls) == 2


async def test_auto_approve_asks_nothing(store, conversation):
    model = ScriptedModel([*call("ls"), *calls_end()], text("Listed."))
    tools = ScriptedTools(ls=lambda args: "a")

    events = await collect(store, model, conversation.id, "list", tools=tools, auto_approve=True)

    assert not any(isinstance(e, ApprovalAsked) for e in events)
    assert tools.calls == [("ls", {})]


async def test_the_answer_row_stays_alive_while_a_tool_runs(store, conversation, db_path):
    from agentterm.store import Store

    release = asyncio.Event()

    async def slow(args):
        await release.wait()
        return "finally"

    model = ScriptedModel([*call("slow"), *calls_end()], text("Done."))
    tools = ScriptedTools(slow=slow)
    events = []

    async def consume():
        async for event in run_turn(store, model, conversation.id, "wait", tools=tools, auto_approve=True,
                                    flush_interval=0.1):
            events.append(event)

    task = asyncio.create_task(consume())
    while not tools.calls:
        await asyncio.sleep(0.02)
    other = Store(db_path)
    try:
        asking = [m for m in other.all_messages(conversation.id) if m.role == "assistant"][0]
        assert asking.status == "streaming"  # alive: a crash now would leave it to recovery
    finally:
        other.close()
    release.set()
    await task
    assert isinstance(events[-1], AnswerFinished)
    assert all(m.status == "complete" for m in store.all_messages(conversation.id))


async def test_a_stop_during_a_tool_call_marks_it_cancelled_and_keeps_the_record(store, conversation):
    started = asyncio.Event()

    async def hang(args):
        started.set()
        await asyncio.sleep(60)

    model = ScriptedModel([*call("hang"), *calls_end()])
    tools = ScriptedTools(hang=hang)

    async def consume():
        async for _ in run_turn(store, model, conversation.id, "hang", tools=tools, auto_approve=True):
            pass

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    asking = [m for m in store.all_messages(conversation.id) if m.role == "assistant"][0]
    assert asking.status == "interrupted"
    if hasattr(store, "add_tool_call"):
        assert [c.status for c in asking.tool_calls] == ["cancelled"]


async def test_a_model_that_never_stops_calling_ends_at_max_steps(store, conversation):
    model = ScriptedModel(*[[*call("ls", call_id=f"c{i}"), *calls_end()] for i in range(5)])
    tools = ScriptedTools(ls=lambda args: "again")

    events = await collect(store, model, conversation.id, "loop", tools=tools, auto_approve=True,
                           max_steps=3)

    failed = last(events)
    assert isinstance(failed, AnswerFailed) and failed.error.code == "max_steps"
    assert len(model.requests) == 3
    assert sum(isinstance(e, AnswerStarted) for e in events) == 3


async def test_calls_with_no_tools_offered_end_the_turn_with_a_clear_line(store, conversation):
    model = ScriptedModel([*call("ls"), *calls_end()])

    events = await collect(store, model, conversation.id, "list")

    failed = last(events)
    assert isinstance(failed, AnswerFailed) and failed.error.code == "no_tools"
    assert len(model.requests) == 1
    assert "tools" in failed.error.message


async def test_thinking_is_kept_apart_and_never_sent_back(store, conversation):
    from tests.engine_helpers import ThinkingDelta

    model = ScriptedModel([ThinkingDelta("Let me think. "), ThinkingDelta("Hmm."), *text("42.")],
                          text("Still 42."))

    first = await collect(store, model, conversation.id, "meaning?")
    await collect(store, model, conversation.id, "sure?")

    assert last(first).message.content == "42."
    assert "Hmm" not in json.dumps(model.requests[1]["messages"])
    assert model.requests[1]["messages"][-2] == {"role": "assistant", "content": "42."}
    if hasattr(last(first).message, "thinking"):
        assert store.get_message(last(first).message.id).thinking == "Let me think. Hmm."
