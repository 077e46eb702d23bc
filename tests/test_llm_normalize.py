"""Every delta normalised at the client's edge: text is str, counts are ints in range, odd types refused."""

from __future__ import annotations

import pytest

from agentterm.llm import BadResponse, Finished, TextDelta, ToolCallDelta, Usage
from tests.llm_helpers import collect, text_of
from tests.openai_responses import DONE, Events, chunk


def answer(*deltas: dict, finish: str = "stop", **extra) -> Events:
    return Events([*(chunk(d) for d in deltas), chunk({}, finish, **extra), DONE])


@pytest.mark.parametrize("content,text", [
    ([{"type": "text", "text": "Hello, "}, {"type": "text", "text": "world"}], "Hello, world"),
    (["Hello, ", "world"], "Hello, world"),
    ([{"type": "image_url", "image_url": {"url": "x"}}, {"type": "text", "text": "hi"}], "hi"),
])
async def test_content_as_a_list_of_parts_is_joined(client, server, content, text):
    server.script(answer({"content": content}))
    events, error = await collect(client)
    assert error is None and text_of(events) == text
    assert all(isinstance(e.text, str) for e in events if isinstance(e, TextDelta))


@pytest.mark.parametrize("content,kind", [(42, "a number"), (1.5, "a number"), (True, "a true/false value"),
                                          ({"text": "x"}, "an object"), ([7], "a number")])
async def test_content_that_is_not_text_is_bad_response_after_the_text_before(client, server, content, kind):
    server.script(answer({"content": "kept "}, {"content": content}))
    events, error = await collect(client)
    assert text_of(events) == "kept "
    assert isinstance(error, BadResponse)
    assert error.message == f"127.0.0.1:{server.port} sent a piece of the answer that is not text ({kind})."


async def test_a_lone_surrogate_is_replaced(client, server):
    server.script(Events([b'data: {"choices": [{"index": 0, "delta": {"content": "a\\ud800b"}}]}\n\n',
                          b'data: {"choices": [{"index": 0, "delta": {"content": "\\ud83d\\ude00"}}]}\n\n',
                          chunk({}, "stop"), DONE]))
    events, error = await collect(client)
    assert error is None and text_of(events) == "a\ufffdb\U0001f600"
    text_of(events).encode("utf-8")  # what the store and the terminal need


async def test_invalid_utf8_in_the_stream_is_decoded_with_replacement(client, server):
    server.script(Events([b'data: {"choices": [{"index": 0, "delta": {"content": "caf\xe9 \xff"}}]}\n\n',
                          chunk({}, "stop")]))
    events, error = await collect(client)
    assert error is None and text_of(events) == "caf\ufffd \ufffd"


@pytest.mark.parametrize("usage,expected", [
    ({"prompt_tokens": 10**30, "completion_tokens": 3}, Usage(None, 3)),
    ({"prompt_tokens": "12", "completion_tokens": 2.5}, Usage(None, None)),
    ({"prompt_tokens": True, "completion_tokens": -1}, Usage(None, None)),
    ({"prompt_tokens": {"n": 1}, "completion_tokens": [1]}, Usage(None, None)),
])
async def test_usage_numbers_that_are_not_ints_in_range_are_none(client, server, usage, expected):
    server.script(answer({"content": "x"}, usage=usage))
    events, error = await collect(client)
    assert error is None and expected in events


@pytest.mark.parametrize("model", [{"id": "m"}, 12, ["m"], "", None])
async def test_a_model_that_is_not_a_string_is_dropped(client, server, model):
    server.script(Events([chunk({"content": "x"}, model=model), chunk({}, "stop", model=model)]))
    events, error = await collect(client)
    assert error is None and events[-1] == Finished("stop", "test-model")  # the model asked for


async def test_a_usage_chunk_that_is_not_an_object_is_ignored(client, server):
    server.script(answer({"content": "x"}, usage=[1, 2]))
    events, error = await collect(client)
    assert error is None and not any(isinstance(e, Usage) for e in events)


@pytest.mark.parametrize("finish,expected", [(5, "unknown"), ({"r": 1}, "unknown"), ("x" * 500, "x" * 64)])
async def test_an_odd_finish_reason_is_a_short_string(client, server, finish, expected):
    server.script(Events([chunk({"content": "x"}), chunk(choices=[{"index": 0, "delta": {}, "finish_reason": finish}])]))
    events, error = await collect(client)
    assert error is None and events[-1].finish_reason == expected


@pytest.mark.parametrize("payload", [b"42", b'"text"', b"[1, 2]", b"null", b"[" * 100_000 + b"]" * 100_000])
async def test_a_chunk_that_is_not_an_object_is_bad_response(client, server, payload):
    server.script(Events([chunk({"content": "kept"}), b"data: " + payload + b"\n\n", chunk({}, "stop")]))
    events, error = await collect(client)
    assert text_of(events) == "kept" and isinstance(error, BadResponse)


async def test_odd_tool_call_pieces_are_normalised(client, server):
    server.script(Events([
        chunk({"tool_calls": [{"index": "0", "id": 5, "function": {"name": {"n": 1}, "arguments": 3}},
                              "not a call", {"index": 10**9, "id": "c\ud800", "function": "f"}]}),
        chunk({}, "tool_calls")]))
    events, error = await collect(client)
    assert error is None
    assert events[:2] == [ToolCallDelta(0, None, None, "3"), ToolCallDelta(2, "c\ufffd", None, "")]


async def test_a_surrogate_pair_split_between_two_chunks_is_made_whole(client, server):
    def raw(content_json: str) -> bytes:
        return b'data: {"choices": [{"index": 0, "delta": {"content": ' + content_json.encode() + b"}}]}\n\n"

    server.script(Events([raw('"smile \\ud83d"'), raw('"\\ude00 ok"'), raw('"end \\ud83d"'), chunk({}, "stop")]))
    events, error = await collect(client)
    assert error is None and text_of(events) == "smile \U0001f600 okend \ufffd"
