"""Typed deltas: thinking (fields and a leading <think> block), tool-call pieces, the tools sent, the end."""

from __future__ import annotations

import pytest

from agentterm.llm import (
    BadResponse,
    Delta,
    Finished,
    StreamCut,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
)
from tests.llm_helpers import collect, text_of
from tests.openai_responses import DONE, Events, chunk


def thinking_of(events) -> str:
    return "".join(e.text for e in events if isinstance(e, ThinkingDelta))


def content_stream(*pieces: str, finish: str = "stop") -> Events:
    return Events([chunk({"role": "assistant", "content": ""}),
                   *(chunk({"content": p}) for p in pieces), chunk({}, finish), DONE])


def test_delta_is_the_text_delta():
    assert Delta is TextDelta and Delta("x") == TextDelta("x")


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_fields_are_thinking(client, server, field):
    server.script(Events([chunk({field: "Let me "}), chunk({field: "see."}),
                          chunk({"content": "Four."}), chunk({}, "stop"), DONE]))
    events, error = await collect(client)
    assert error is None
    assert events[:3] == [ThinkingDelta("Let me "), ThinkingDelta("see."), TextDelta("Four.")]
    assert events[-1] == Finished("stop", "test-model")


async def test_both_reasoning_fields_at_once_are_thinking_once(client, server):
    server.script(Events([chunk({"reasoning_content": "hm", "reasoning": "hm"}),
                          chunk({"content": "ok"}), chunk({}, "stop")]))
    events, _ = await collect(client)
    assert thinking_of(events) == "hm"


@pytest.mark.parametrize("pieces", [
    ["<think>I should add.</think>\n\nFour."],
    ["<think>", "I should add.", "</think>", "\n\n", "Four."],
    ["<", "thi", "nk>I sh", "ould add.</", "thi", "nk", ">", "\nFo", "ur."],
    ["\n <think>I should add.<", "/think>Four."],
])
async def test_a_leading_think_block_is_thinking_even_when_its_tags_are_split(client, server, pieces):
    server.script(content_stream(*pieces))
    events, error = await collect(client)
    assert error is None
    assert thinking_of(events) == "I should add."
    assert text_of(events) == "Four."


async def test_a_think_tag_after_the_start_is_answer_text(client, server):
    server.script(content_stream("Use ", "<think>", " tags like </think> this."))
    events, error = await collect(client)
    assert error is None and thinking_of(events) == ""
    assert text_of(events) == "Use <think> tags like </think> this."


@pytest.mark.parametrize("pieces,text", [(["<thi"], "<thi"), (["<", "b>bold</b>"], "<b>bold</b>")])
async def test_text_that_only_looks_like_a_tag_start_is_kept(client, server, pieces, text):
    server.script(content_stream(*pieces))
    events, error = await collect(client)
    assert error is None and text_of(events) == text and thinking_of(events) == ""


async def test_an_unclosed_think_block_is_all_thinking_and_an_empty_answer(client, server):
    server.script(content_stream("<think>still going</th"))
    events, error = await collect(client)
    assert thinking_of(events) == "still going</th"
    assert isinstance(error, BadResponse) and "empty answer" in error.message


def call_piece(index, id=None, name=None, arguments=None):
    function = {k: v for k, v in (("name", name), ("arguments", arguments)) if v is not None}
    piece = {"index": index, "type": "function", "function": function}
    if id is not None:
        piece["id"] = id
    return piece


async def test_tool_calls_come_in_pieces_and_end_normally(client, server):
    server.script(Events([
        chunk({"role": "assistant", "content": None}),
        chunk({"tool_calls": [call_piece(0, "call_a", "get_time", "")]}),
        chunk({"tool_calls": [call_piece(0, arguments='{"tz": ')]}),
        chunk({"tool_calls": [call_piece(0, arguments='"UTC"}')]}),
        chunk({"tool_calls": [call_piece(1, "call_b", "add", '{"a": 1,')]}),
        chunk({"tool_calls": [call_piece(1, arguments=' "b": 2}')]}),
        chunk({}, "tool_calls"),
        chunk(usage={"prompt_tokens": 9, "completion_tokens": 4}),
        DONE,
    ]))
    events, error = await collect(client)
    assert error is None
    assert events == [
        ToolCallDelta(0, "call_a", "get_time", ""),
        ToolCallDelta(0, None, None, '{"tz": '),
        ToolCallDelta(0, None, None, '"UTC"}'),
        ToolCallDelta(1, "call_b", "add", '{"a": 1,'),
        ToolCallDelta(1, None, None, ' "b": 2}'),
        Usage(9, 4),
        Finished("tool_calls", "test-model"),
    ]


async def test_two_calls_in_one_chunk_and_arguments_sent_as_an_object(client, server):
    server.script(Events([
        chunk({"tool_calls": [{"id": "c1", "function": {"name": "a", "arguments": {"x": 1}}},
                              {"id": "c2", "function": {"name": "b", "arguments": "{}"}}]}),
        chunk({}, "tool_calls"),
    ]))
    events, error = await collect(client)
    assert error is None
    assert events[:2] == [ToolCallDelta(0, "c1", "a", '{"x": 1}'), ToolCallDelta(1, "c2", "b", "{}")]


async def test_tools_are_sent_when_given_and_not_otherwise(client, server):
    tools = [{"type": "function", "function": {"name": "get_time", "description": "now",
                                               "parameters": {"type": "object", "properties": {}}}}]
    _, error = await collect(client, tools=tools)
    assert error is None and server.requests[0]["tools"] == tools
    _, error = await collect(client)
    assert error is None and "tools" not in server.requests[1]


@pytest.mark.parametrize("events", [
    [chunk({"role": "assistant", "content": ""}), chunk({}, "stop"), DONE],
    [chunk({"content": None}), chunk({}, "stop")],
    [chunk({"reasoning_content": "only thinking"}), chunk({}, "length"), DONE],
])
async def test_a_stream_with_no_text_and_no_tool_call_is_an_empty_answer(client, server, events):
    server.script(Events(events))
    _, error = await collect(client)
    assert isinstance(error, BadResponse) and "sent an empty answer" in error.message


async def test_a_done_without_a_finish_reason_is_still_cut(client, server):
    server.script(Events([chunk({"content": "half"}), DONE]))
    events, error = await collect(client)
    assert text_of(events) == "half" and isinstance(error, StreamCut)


async def test_thinking_and_text_in_one_delta_are_both_kept(client, server):
    server.script(Events([chunk({"content": "Hi"}), chunk({"reasoning_content": "hm", "content": " there"}),
                          chunk({"role": "assistant", "content": "!"}), chunk({}, "stop")]))
    events, error = await collect(client)
    assert error is None
    assert events[:4] == [TextDelta("Hi"), ThinkingDelta("hm"), TextDelta(" there"), TextDelta("!")]
