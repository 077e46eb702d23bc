"""The request builder and the tool-call assembler: what a strict OpenAI server is sent."""

from __future__ import annotations

from dataclasses import dataclass, field

from agentterm.engine.assemble import ToolCallAssembler
from agentterm.engine.request import request_messages
from agentterm.models import Agent, Message
from tests.engine_helpers import ToolCallDelta


@dataclass
class Call:
    call_id: str
    name: str
    arguments: str = "{}"
    status: str = "done"
    result: str | None = None
    error: str | None = None
    reason: str | None = None


@dataclass
class Row(Message):
    tool_calls: list = field(default_factory=list)
    thinking: str = ""
    superseded: bool = False


def rows(*specs) -> list[Row]:
    return [Row(id=i + 1, conversation_id=1, **spec) for i, spec in enumerate(specs)]


def check_valid(messages: list[dict]) -> None:
    """What a strict server checks: every tool message answers a call asked just before it."""
    open_calls: list[str] = []
    for message in messages:
        if message["role"] == "tool":
            assert message["tool_call_id"] in open_calls, messages
            open_calls.remove(message["tool_call_id"])
        else:
            assert not open_calls, f"calls left unanswered before {message}"
            open_calls = [c["id"] for c in message.get("tool_calls", [])]
    assert not open_calls


def test_a_tool_exchange_goes_out_as_calls_then_their_results():
    history = rows(
        {"role": "user", "content": "time?"},
        {"role": "assistant", "content": "", "tool_calls": [Call("c1", "now"), Call("c2", "zone")]},
        {"role": "tool", "content": "UTC", "tool_call_id": "c2", "tool_name": "zone"},
        {"role": "tool", "content": "noon", "tool_call_id": "c1", "tool_name": "now"},
        {"role": "assistant", "content": "Noon UTC.", "thinking": "they want the time"},
    )
    messages = request_messages(Agent(id=1, name="A", instructions="Be brief."), history)
    check_valid(messages)
    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert messages[2]["content"] is None
    assert [(m["tool_call_id"], m["content"]) for m in messages[3:5]] == [("c1", "noon"), ("c2", "UTC")]
    assert messages[-1] == {"role": "assistant", "content": "Noon UTC."}
    assert "they want" not in repr(messages)


def test_an_imported_tool_exchange_is_ordered_validly():
    # As a ChatGPT or agentterm export brings it: the result with no assistant call before it.
    history = rows(
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "weather?"},
        {"role": "tool", "content": "sunny", "tool_call_id": "w1", "tool_name": "weather"},
        {"role": "tool", "content": "20C", "tool_call_id": None, "tool_name": "temp"},
        {"role": "assistant", "content": "Sunny, 20C."},
    )
    messages = request_messages(None, history)
    check_valid(messages)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "tool", "assistant"]
    assert [c["function"]["name"] for c in messages[2]["tool_calls"]] == ["weather", "temp"]


def test_a_call_without_a_result_gets_one_and_superseded_variants_and_failures_are_left_out():
    history = rows(
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": "old answer", "superseded": True},
        {"role": "assistant", "content": "", "status": "error"},
        {"role": "assistant", "content": "Let me look.", "status": "interrupted",
         "tool_calls": [Call("c1", "look", status="interrupted"),
                        Call("c2", "rm", status="denied", reason="no")]},
    )
    messages = request_messages(None, history)
    check_valid(messages)
    assert "old answer" not in repr(messages)
    assert messages[1]["content"] == "Let me look."
    assert "interrupted" in messages[2]["content"]
    assert messages[3]["content"] == "Cancelled: the user denied this call: no"


def test_pieces_are_merged_by_index_and_by_id():
    assembler = ToolCallAssembler()
    pieces = [
        ToolCallDelta(0, "a", "first", '{"x"'),
        ToolCallDelta(1, "b", "second", ""),
        ToolCallDelta(0, None, None, ": 1}"),
        ToolCallDelta(1, "b", None, '{"y": 2}'),   # some servers repeat the id on every piece
        ToolCallDelta(0, "c", "third", "{}"),      # some reuse index 0 with a new id
        ToolCallDelta(0, None, None, ""),
    ]
    started = [assembler.add(piece)[1] for piece in pieces]
    calls = assembler.finish()
    assert started == [True, True, False, False, True, False]
    assert [(c.call_id, c.name, c.arguments) for c in calls] == [
        ("a", "first", '{"x": 1}'), ("b", "second", '{"y": 2}'), ("c", "third", "{}")]


def test_a_call_without_an_id_gets_one():
    assembler = ToolCallAssembler()
    assembler.add(ToolCallDelta(0, None, "ls", "{}"))
    assembler.add(ToolCallDelta(1, None, "ls", "{}"))
    first, second = assembler.finish()
    assert first.call_id and second.call_id and first.call_id != second.call_id
