"""The LLM client's faults, each mapped to one of our errors with a hint; no openai on import."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from agentterm.llm import (
    AuthFailed,
    BadResponse,
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
)
from tests.conftest import TEST_KEY
from tests.llm_helpers import collect, free_port, text_of
from tests.openai_server import Error, Hang, Raw, Stream

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
