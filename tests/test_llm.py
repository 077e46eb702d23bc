"""The LLM client against a real loopback server: streams, every fault, titles, models, the key."""

from __future__ import annotations

import asyncio
import io
import socket
import subprocess
import sys
import time
import traceback
from contextlib import aclosing

import pytest

from agentterm.llm import (
    AuthFailed,
    BadResponse,
    Delta,
    Finished,
    LLMClient,
    LLMError,
    ModelNotFound,
    NoAPIKey,
    RateLimited,
    RequestTimeout,
    ServerError,
    StreamCut,
    Unreachable,
    Usage,
    clean_title,
    fallback_title,
)
from tests.conftest import TEST_KEY
from tests.openai_server import Complete, Error, Hang, Raw, Stream

HI = [{"role": "user", "content": "hi"}]


async def collect(client: LLMClient, messages=HI, **kwargs):
    """(events, error): everything the stream yielded, and the LLMError that ended it, if any."""
    events: list = []
    try:
        async for event in client.stream_chat(messages, **kwargs):
            events.append(event)
    except LLMError as error:
        return events, error
    return events, None


def text_of(events) -> str:
    return "".join(e.text for e in events if isinstance(e, Delta))


@pytest.fixture
def fast_client(settings):
    """A client whose provider gives up after half a second of silence."""
    settings.providers["local"].timeout = 0.5
    return LLMClient(settings)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


async def test_a_json_completion_instead_of_a_stream_is_accepted(client, server):
    body = ('{"id": "x", "object": "chat.completion", "model": "m", "choices": [{"index": 0, '
            '"message": {"role": "assistant", "content": "whole answer"}, "finish_reason": "stop"}], '
            '"usage": {"prompt_tokens": 3, "completion_tokens": 2}}')
    server.script(Raw(200, body, "application/json"))
    events, error = await collect(client)
    assert error is None
    assert events == [Delta("whole answer"), Usage(3, 2), Finished("stop", "m")]


# --- faults ------------------------------------------------------------------------------------


async def test_a_refused_key_is_auth_failed(client, server):
    server.api_key = "sk-the-right-one"
    events, error = await collect(client)
    assert isinstance(error, AuthFailed) and not error.retryable
    assert "401" in error.message and "AGENTTERM_TEST_KEY" in error.hint


async def test_no_key_configured_sends_a_placeholder_and_a_401_is_no_api_key(settings, server, monkeypatch):
    monkeypatch.delenv("AGENTTERM_TEST_KEY")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak-to-other-servers")
    client = LLMClient(settings)

    events, error = await collect(client)  # a local server that wants no key: it just works
    assert error is None and text_of(events) == "Hello from the test server."
    assert server.request_headers[0]["authorization"] == "Bearer no-key"

    server.api_key = "sk-wanted"
    events, error = await collect(client)
    assert isinstance(error, NoAPIKey)
    assert "has none" in error.message and "AGENTTERM_TEST_KEY" in error.hint


async def test_a_key_set_after_a_refusal_is_used_on_the_next_request(settings, server, monkeypatch):
    monkeypatch.delenv("AGENTTERM_TEST_KEY")
    server.api_key = TEST_KEY
    client = LLMClient(settings)
    _, error = await collect(client)
    assert isinstance(error, NoAPIKey)
    monkeypatch.setenv("AGENTTERM_TEST_KEY", TEST_KEY)
    events, error = await collect(client)
    assert error is None and text_of(events)


async def test_a_failing_key_command_is_no_api_key(settings, server, monkeypatch):
    monkeypatch.delenv("AGENTTERM_TEST_KEY")
    settings.providers["local"].api_key_cmd = [sys.executable, "-c", "import sys; sys.exit(3)"]
    _, error = await collect(LLMClient(settings))
    assert isinstance(error, NoAPIKey) and "api_key_cmd" in error.hint
    assert server.requests == []


async def test_the_hosted_openai_without_a_key_fails_before_any_request(tmp_path):
    from agentterm.config import load_settings

    settings = load_settings(tmp_path / "none.toml")  # no file: the OPENAI_* fallback
    _, error = await collect(LLMClient(settings), model="gpt-4o-mini")
    assert isinstance(error, NoAPIKey) and "OPENAI_API_KEY" in error.hint


async def test_a_missing_model_is_named(client, server):
    server.script(Error(404, "The model `nope` does not exist", code="model_not_found"))
    _, error = await collect(client, model="nope")
    assert isinstance(error, ModelNotFound) and error.model == "nope"
    assert "'nope'" in error.message and "doctor" in error.hint


async def test_a_404_page_hints_at_the_base_url(client, server):
    server.script(Error(404, body="404 page not found"))
    _, error = await collect(client)
    assert isinstance(error, ModelNotFound) and "/v1" in error.hint


async def test_rate_limited_parses_retry_after(client, server):
    server.script(Error(429, "Rate limit reached", headers={"Retry-After": "7"}))
    started = time.monotonic()
    _, error = await collect(client)
    assert time.monotonic() - started < 2  # no silent wait behind the Retry-After
    assert isinstance(error, RateLimited) and error.retry_after == 7 and error.retryable
    assert "7 s" in error.message and "Rate limit reached" in error.message
    assert len(server.requests) == 1


async def test_rate_limited_parses_retry_after_ms_and_quota(client, server):
    server.script(
        Error(429, "slow down", headers={"retry-after-ms": "1500"}),
        Error(429, "You exceeded your current quota", code="insufficient_quota"),
    )
    _, error = await collect(client)
    assert isinstance(error, RateLimited) and error.retry_after == 1.5
    _, error = await collect(client)
    assert isinstance(error, RateLimited) and error.retry_after is None and not error.retryable
    assert "quota" in error.message


async def test_a_server_error_is_reported_once_without_retries(client, server):
    server.script(Error(500, "upstream exploded"))
    _, error = await collect(client)
    assert isinstance(error, ServerError) and error.retryable
    assert "500" in error.message and "upstream exploded" in error.message
    assert len(server.requests) == 1


async def test_a_bad_request_keeps_the_servers_words(client, server):
    server.script(Error(400, "max_tokens is too large: 999999"))
    _, error = await collect(client)
    assert type(error) is LLMError and "max_tokens is too large" in error.message


async def test_a_connection_dropped_mid_stream_keeps_the_deltas_then_is_stream_cut(client, server):
    server.script(Stream("abcdefghijkl", chunk_size=2, drop_after=3))
    events, error = await collect(client)
    assert text_of(events) == "abcdef"
    assert isinstance(error, StreamCut) and error.retryable and "dropped" in error.message
    assert not any(isinstance(e, Finished) for e in events)


async def test_a_stalled_stream_times_out_quickly(fast_client, server):
    server.script(Stream("abcdefgh", chunk_size=2, stall_after=2))
    started = time.monotonic()
    events, error = await collect(fast_client)
    elapsed = time.monotonic() - started
    assert text_of(events) == "abcd"
    assert isinstance(error, RequestTimeout) and "stalled" in error.message
    assert 0.4 < elapsed < 3


async def test_a_server_that_never_answers_times_out(fast_client, server):
    server.script(Hang(10))
    started = time.monotonic()
    _, error = await collect(fast_client)
    assert isinstance(error, RequestTimeout) and "0.5 s" in error.message
    assert time.monotonic() - started < 3


async def test_an_error_event_inside_the_stream_is_stream_cut(client, server):
    server.script(Stream("abcdef", chunk_size=2, error_event_after=1, error_message="GPU fell over"))
    events, error = await collect(client)
    assert text_of(events) == "ab"
    assert isinstance(error, StreamCut) and "GPU fell over" in error.message


async def test_a_stream_ending_without_done_or_finish_reason_is_stream_cut(client, server):
    server.script(Stream("abcdef", chunk_size=2, done=False, finish_reason=None))
    events, error = await collect(client)
    assert text_of(events) == "abcdef"
    assert isinstance(error, StreamCut) and "before it was finished" in error.message


async def test_a_stream_with_a_finish_reason_but_no_done_is_complete(client, server):
    server.script(Stream("abcdef", done=False))
    events, error = await collect(client)
    assert error is None and events[-1].finish_reason == "stop"


async def test_an_empty_event_stream_is_stream_cut(client, server):
    server.script(Raw(200, "", "text/event-stream"))
    events, error = await collect(client)
    assert events == [] and isinstance(error, StreamCut)


async def test_an_html_page_with_status_200_is_bad_response(client, server):
    server.script(Raw())
    _, error = await collect(client)
    assert isinstance(error, BadResponse) and "web page" in error.message and "/v1" in error.hint


@pytest.mark.parametrize("body,content_type", [
    ("{not json", "application/json"),
    ("data: {not json\n\n", "text/event-stream"),
    ('{"unexpected": true}', "application/json"),
])
async def test_malformed_json_is_bad_response(client, server, body, content_type):
    server.script(Raw(200, body, content_type))
    _, error = await collect(client)
    assert isinstance(error, BadResponse)


async def test_an_unreachable_port_is_unreachable(settings):
    settings.providers["local"].base_url = f"http://127.0.0.1:{free_port()}/v1"
    started = time.monotonic()
    _, error = await collect(LLMClient(settings))
    assert isinstance(error, Unreachable) and error.retryable
    assert "connection refused" in error.message and "base_url" in error.hint
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("base_url", ["localhost:8080/v1", "not a url", "ftp://host/v1", "http://[::1"])
async def test_a_malformed_base_url_is_a_clear_error(settings, base_url):
    settings.providers["local"].base_url = base_url
    _, error = await collect(LLMClient(settings))
    assert isinstance(error, Unreachable) and not error.retryable
    assert "base_url" in error.message and "base_url" in error.hint


async def test_an_unknown_provider_is_an_llm_error(client):
    _, error = await collect(client, provider="nowhere")
    assert type(error) is LLMError and "nowhere" in error.message


def test_resolve_model(client, settings):
    assert client.resolve_model(None, "given") == "given"
    assert client.resolve_model(None, None) == "test-model"
    assert client.resolve_model("local", "") == "test-model"
    settings.providers["local"].model = None
    with pytest.raises(LLMError) as caught:
        client.resolve_model("local", None)
    assert "No model" in caught.value.message and "model" in caught.value.hint


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


# --- the key is never shown --------------------------------------------------------------------

FAULTS = [
    # Servers do echo keys; the key comes first so that no truncated repr can hide it.
    Error(401, f"{TEST_KEY} is not a valid key"),
    Error(403, f"{TEST_KEY} may not use this model"),
    Error(404, f"{TEST_KEY} has no such model"),
    Error(429, f"{TEST_KEY} is going too fast", headers={"Retry-After": "1"}),
    Error(500, f"{TEST_KEY} crashed the server"),
    Error(400, body=f"{TEST_KEY} plain text"),
    Stream("abc", drop_after=1),
    Stream("abc", error_event_after=1, error_message=f"{TEST_KEY} bad key"),
    Stream("abc", done=False, finish_reason=None),
    Stream("abc", stall_after=1),
    Raw(),
    Raw(200, f"{{{TEST_KEY}", "application/json"),
    Raw(200, f'{{"error": "{TEST_KEY} rejected"}}', "application/json"),
]


def assert_no_key(error: BaseException) -> None:
    from rich.console import Console
    from rich.traceback import Traceback

    shown = [str(error), repr(error), getattr(error, "hint", ""), str(getattr(error, "to_dict", dict)())]
    shown.append("".join(traceback.format_exception(error)))
    console = Console(file=io.StringIO(), width=200)
    console.print(Traceback.from_exception(type(error), error, error.__traceback__, show_locals=True))
    shown.append(console.file.getvalue())
    pieces = [TEST_KEY[i : i + 8] for i in range(len("sk-test-"), len(TEST_KEY) - 7)]
    for text in shown:
        assert not [piece for piece in pieces if piece in text], text


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: type(f).__name__ + str(getattr(f, "status", "")))
async def test_the_key_never_appears_in_an_error(fast_client, server, fault):
    server.script(fault)
    _, error = await collect(fast_client)
    assert isinstance(error, LLMError)
    assert_no_key(error)


async def test_the_key_never_appears_for_unreachable_and_bad_urls(settings):
    settings.providers["local"].base_url = f"http://127.0.0.1:{free_port()}/v1"
    _, error = await collect(LLMClient(settings))
    assert isinstance(error, Unreachable)
    assert_no_key(error)
    settings.providers["local"].base_url = "http://[::1"
    _, error = await collect(LLMClient(settings))
    assert isinstance(error, Unreachable)
    assert_no_key(error)


async def test_the_key_never_appears_in_a_title_error(client, server):
    server.script(Error(401, f"bad {TEST_KEY}"))
    with pytest.raises(AuthFailed) as caught:
        await client.generate_title("hi", "hello")
    assert_no_key(caught.value)


def test_the_client_does_not_show_the_key_in_its_repr(client, settings):
    assert TEST_KEY not in repr(client) and TEST_KEY not in repr(settings)


# --- titles ------------------------------------------------------------------------------------


async def test_generate_title_asks_the_title_model_without_streaming(client, server):
    server.script(Complete('"Python Decorators Explained."'))
    title = await client.generate_title("How do decorators work in Python?", "They wrap functions.")
    assert title == "Python Decorators Explained"
    body = server.requests[0]
    assert body["model"] == "test-title-model" and not body.get("stream")
    assert body["messages"][0]["role"] == "system"
    assert "How do decorators work in Python?" in body["messages"][1]["content"]
    assert "They wrap functions." in body["messages"][1]["content"]


async def test_generate_title_uses_the_model_when_no_title_model(client, server, settings):
    settings.providers["local"].title_model = None
    await client.generate_title("hi", "hello")
    assert server.requests[0]["model"] == "test-model"


async def test_generate_title_falls_back_on_an_empty_answer(client, server):
    server.script(Complete("   \n"))
    assert await client.generate_title("Plan a trip to Lisbon\nin May", "Sure.") == "Plan a trip to Lisbon"


async def test_generate_title_from_a_stream_script_and_junk(client, server):
    server.script(Stream("Trip Planning"), Complete("***"))
    assert await client.generate_title("a", "b") == "Trip Planning"
    assert await client.generate_title("Fallback words here", "b") == "Fallback words here"


async def test_generate_title_faults_raise(client, server):
    server.script(Raw(), Error(500, "down"))
    with pytest.raises(BadResponse):
        await client.generate_title("a", "b")
    with pytest.raises(ServerError):
        await client.generate_title("a", "b")


@pytest.mark.parametrize("raw,expected", [
    ('"Quoted Title"', "Quoted Title"),
    ("“Curly quotes here”", "Curly quotes here"),
    ("'Single quoted title'", "Single quoted title"),
    ("Title: Rust Borrow Checker", "Rust Borrow Checker"),
    ("## **Bold Markdown Heading**", "Bold Markdown Heading"),
    ("[b]Rich[/b] [red]markup[/red] title", "Rich markup title"),
    ("[link=https://evil.example]Click me[/link] now", "Click me now"),
    ("<b>HTML</b> tags <i>removed</i>", "HTML tags removed"),
    ("[Markdown link](https://x.example) title", "Markdown link title"),
    ("Bell\x07 and \x1b[31mred\x1b[0m text", "Bell and red text"),
    ("Tab\tand\x00nul chars", "Tab and nul chars"),
    ("First line title\nSecond line ignored", "First line title"),
    ("\n\n  Leading blank lines  \n", "Leading blank lines"),
    ("<think>Let me think about it a lot</think>\nGarden Watering Schedule", "Garden Watering Schedule"),
    (" ".join(f"word{i}" for i in range(20)), "word0 word1 word2 word3 word4 word5"),
    ("Python's decorators explained", "Python's decorators explained"),
    ("C++ templates", "C++ templates"),
    ("Sure! Here's a title: Sourdough Starter Care", "Sourdough Starter Care"),
    ("Here is a concise title:\n\n**Sourdough Starter Care**", "Sourdough Starter Care"),
    ("Subtitle Editing Workflow", "Subtitle Editing Workflow"),
])
def test_clean_title(raw, expected):
    assert clean_title(raw, fallback="FALLBACK") == expected


@pytest.mark.parametrize("raw", ["", "   ", "\n\n", '""', "***", "...", "[b][/b]", "\x1b[2J", None])
def test_clean_title_falls_back_on_junk(raw):
    assert clean_title(raw, fallback="The fallback") == "The fallback"


def test_clean_title_caps_length():
    title = clean_title("Supercalifragilisticexpialidocious " * 6, fallback="x")
    assert len(title) <= 60 and title.endswith("…")
    assert len(clean_title("x", fallback="y" * 100)) <= 60


def test_fallback_title():
    assert fallback_title("\n\n  What is   the answer?  \nmore") == "What is the answer?"
    long = fallback_title("word " * 40)
    assert len(long) <= 60 and long.endswith("…") and long.startswith("word word")
    assert fallback_title("") == "New conversation"
    assert fallback_title("\x1b]52;c;ZXZpbA==\x07Copy this\x07") == "Copy this"


# --- models ------------------------------------------------------------------------------------


async def test_list_models(client, server):
    server.models = ["zeta", "alpha", "/models/llama.gguf"]
    assert await client.list_models() == ["/models/llama.gguf", "alpha", "zeta"]
    assert ("GET", "/v1/models") in server.hits


async def test_list_models_without_a_model_list_is_empty(client, server):
    server.models = None
    assert await client.list_models("local") == []


@pytest.mark.parametrize("reply,error_type", [
    (Raw(), BadResponse),
    (Raw(200, "{oops", "application/json"), BadResponse),
    (Raw(200, "[]", "application/json"), BadResponse),
    (Error(500, "down"), ServerError),
])
async def test_list_models_bad_replies(client, server, reply, error_type):
    server.models_response = reply
    with pytest.raises(error_type):
        await client.list_models()


async def test_list_models_faults_raise(client, server, settings):
    server.api_key = "sk-other"
    with pytest.raises(AuthFailed):
        await client.list_models()
    settings.providers["local"].base_url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(Unreachable):
        await LLMClient(settings).list_models()


# --- errors and imports ------------------------------------------------------------------------


def test_errors_carry_a_hint_and_serialize():
    error = RateLimited("Too fast.\nSecond line", retry_after=3)
    assert error.message == "Too fast. Second line" and error.hint and error.retryable
    assert error.to_dict() == {"type": "RateLimited", "message": "Too fast. Second line",
                               "hint": error.hint, "retryable": True, "retry_after": 3}
    assert not BadResponse("x").retryable and StreamCut("x").retryable
    assert "sk-abcdefghijkl" not in str(LLMError("oops sk-abcdefghijkl"))


def test_importing_the_package_does_not_import_openai():
    code = (
        "import sys, agentterm.llm, agentterm.llm.client\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('openai', 'httpx', 'httpx2', 'textual')]\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
