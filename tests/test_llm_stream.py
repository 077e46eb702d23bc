"""Streaming an answer from a loopback server: deltas, usage, finish, odd servers, cancelling."""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing

import pytest

from agentterm.llm import Delta, Finished, Usage
from tests.conftest import TEST_KEY
from tests.llm_helpers import HI, collect, text_of
from tests.openai_server import Error, Raw, Stream

# --- streaming ---------------------------------------------------------------------------------


async def test_a_normal_stream_yields_deltas_then_usage_then_finished(client, server):
    server.script(Stream("Hello there, friend.", chunk_size=3, usage=(11, 5)))

    events, error = await collect(client)

    assert error is None
    assert text_of(events) == "Hello there, friend."
    assert len([e for e in events if isinstance(e, Delta)]) == 7
    assert events[-2:] == [Usage(11, 5), Finished("stop", "test-model")]
    body = server.requests[0]
    assert body["model"] == "test-model" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert server.request_headers[0]["authorization"] == f"Bearer {TEST_KEY}"


async def test_the_role_only_first_chunk_yields_no_empty_delta(client, server):
    server.script(Stream("abc", role_chunk=True), Stream("abc", role_chunk=False))
    for _ in range(2):
        events, error = await collect(client)
        assert error is None
        assert [e for e in events if isinstance(e, Delta)] == [Delta("abc")]


async def test_a_server_without_usage_still_finishes(client, server):
    server.script(Stream("no counts here", usage=None, model="served-model"))
    events, error = await collect(client)
    assert error is None
    assert not any(isinstance(e, Usage) for e in events)
    assert events[-1] == Finished("stop", "served-model")


async def test_the_finish_reason_is_passed_on(client, server):
    server.script(Stream("cut by the limit", finish_reason="length"))
    events, _ = await collect(client)
    assert events[-1].finish_reason == "length"


async def test_a_model_id_that_is_a_file_path_is_sent_as_is(client, server):
    model = "/models/Llama-3.2-3B-Instruct-Q4_K_M.gguf"
    events, error = await collect(client, model=model)
    assert error is None and events[-1].model == model
    assert server.requests[0]["model"] == model


async def test_the_request_carries_the_system_message_and_the_agent_params(client, server):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    params = {"temperature": 0.2, "top_p": 0.9, "max_tokens": 64, "top_k": 40, "seed": None,
              "model": "not-this", "stream": False}

    events, error = await collect(client, messages, model="agent-model", params=params)

    assert error is None
    body = server.requests[0]
    assert body["messages"] == messages
    assert body["model"] == "agent-model" and body["stream"] is True
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["top_k"]) == (0.2, 0.9, 64, 40)
    assert "seed" not in body


async def test_a_server_that_refuses_stream_options_is_asked_again_without(client, server):
    server.script(Error(400, "Unrecognized request argument supplied: stream_options"), Stream("ok"))
    events, error = await collect(client)
    assert error is None and text_of(events) == "ok"
    assert "stream_options" in server.requests[0] and "stream_options" not in server.requests[1]


async def test_an_event_stream_with_another_content_type_is_read(client, server):
    chunk = ('{"id": "x", "object": "chat.completion.chunk", "model": "m", "choices": '
             '[{"index": 0, "delta": {"content": "plain"}, "finish_reason": "stop"}]}')
    server.script(Raw(200, f"data: {chunk}\n\ndata: [DONE]\n\n", "text/plain"))
    events, error = await collect(client)
    assert error is None and events == [Delta("plain"), Finished("stop", "m")]


async def test_a_json_completion_without_a_model_finishes_with_none(client, server):
    body = '{"choices": [{"message": {"content": "whole"}}]}'
    server.script(Raw(200, body, "application/json"))
    events, error = await collect(client)
    assert error is None and events == [Delta("whole"), Finished("stop", None)]


async def test_a_json_completion_instead_of_a_stream_is_accepted(client, server):
    body = ('{"id": "x", "object": "chat.completion", "model": "m", "choices": [{"index": 0, '
            '"message": {"role": "assistant", "content": "whole answer"}, "finish_reason": "stop"}], '
            '"usage": {"prompt_tokens": 3, "completion_tokens": 2}}')
    server.script(Raw(200, body, "application/json"))
    events, error = await collect(client)
    assert error is None
    assert events == [Delta("whole answer"), Usage(3, 2), Finished("stop", "m")]


# --- cancellation ------------------------------------------------------------------------------


async def test_cancelling_the_consumer_closes_the_stream_promptly(client, server):
    server.script(Stream("x" * 400, chunk_size=1, delay=0.02))
    got: list[str] = []

    async def consume():
        async for event in client.stream_chat(HI):
            if isinstance(event, Delta):
                got.append(event.text)

    task = asyncio.create_task(consume())
    for _ in range(300):
        if len(got) >= 3:
            break
        await asyncio.sleep(0.01)
    assert len(got) >= 3
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    cancelled_at = time.monotonic()
    assert await asyncio.to_thread(server.client_disconnected.wait, 2)
    assert time.monotonic() - cancelled_at < 1
    assert server.streams_finished == 0 and len(got) < 100


async def test_leaving_the_loop_early_closes_the_stream(client, server):
    server.script(Stream("y" * 400, chunk_size=1, delay=0.02))
    async with aclosing(client.stream_chat(HI)) as events:
        async for event in events:
            if isinstance(event, Delta):
                break
    assert await asyncio.to_thread(server.client_disconnected.wait, 2)


def test_one_client_serves_two_event_loops(client, server):
    """The CLI runs asyncio.run more than once; a cached connection must not outlive its loop."""
    first = asyncio.run(collect(client))
    second = asyncio.run(collect(client))
    assert first[1] is None and second[1] is None
    assert text_of(second[0]) == "Hello from the test server."
