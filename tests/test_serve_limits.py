"""Per-token limits of `agentterm serve` (issue 10.3): requests per minute and concurrent streams,
each a 429 in OpenAI's shape with Retry-After; and the [serve] keys that set them."""

from __future__ import annotations

import time

import httpx2 as httpx
import openai
import pytest

from agentterm.config import ConfigError, load_settings
from agentterm.store.users import hash_token
from tests.openai_server import Stream
from tests.serve_helpers import LiveServer

AGENT = "Assistant"


def _wait(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition was not met in time"
        time.sleep(0.02)


@pytest.fixture
def limited(store, settings, client):
    def start(**serve):
        settings.serve = {**settings.serve, **serve}
        store.set_agent_owner(store.default_agent().id, None, shared=True)
        return LiveServer(store, settings, client)

    return start


def test_requests_over_the_minutes_allowance_are_429_with_retry_after(limited, store):
    alice, _ = store.create_token("alice")
    bob, _ = store.create_token("bob")
    with limited(requests_per_minute=3) as live:
        api = live.openai(alice)
        for _ in range(3):
            api.models.list()
        with pytest.raises(openai.RateLimitError) as refused:
            api.models.list()
        answer = refused.value.response
        assert answer.status_code == 429 and 1 <= int(answer.headers["retry-after"]) <= 60
        assert set(answer.json()["error"]) == {"message", "type", "param", "code"}
        assert answer.json()["error"]["code"] == "rate_limit_exceeded"
        assert "requests_per_minute" in answer.json()["error"]["message"]
        with pytest.raises(openai.RateLimitError):  # chat counts too
            api.chat.completions.create(model=AGENT, messages=[{"role": "user", "content": "x"}])
        assert [m.id for m in live.openai(bob).models.list()] == [AGENT]  # per token, not per server


def test_a_refused_token_gets_no_further_than_the_door(limited, store):
    token, _ = store.create_token("alice")
    with limited(requests_per_minute=1) as live:
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{live.base_url}/models", headers=auth).status_code == 200
        assert httpx.get(f"{live.base_url}/models", headers={"Authorization": "Bearer at_wrong"}).status_code == 401
        assert httpx.get(f"{live.base_url}/models", headers=auth).status_code == 429


def test_streams_over_the_tokens_allowance_are_429_until_one_ends(limited, store, server):
    token, _ = store.create_token("alice")
    other, _ = store.create_token("alice", name="second")
    slow = "word " * 400
    server.script(Stream(slow, chunk_size=5, delay=0.05), Stream(slow, chunk_size=5, delay=0.05))
    with limited(streams_per_token=2, requests_per_minute=0) as live:
        limits = live.app.state.parts.limits
        api = live.openai(token)
        first = api.chat.completions.create(model=AGENT, messages=[{"role": "user", "content": "1"}], stream=True)
        second = api.chat.completions.create(model=AGENT, messages=[{"role": "user", "content": "2"}], stream=True)
        next(iter(first)), next(iter(second))
        assert limits.streams_open(hash_token(token)) == 2
        with pytest.raises(openai.RateLimitError) as refused:
            api.chat.completions.create(model=AGENT, messages=[{"role": "user", "content": "3"}], stream=True)
        assert refused.value.response.headers["retry-after"] == "1"
        assert refused.value.response.json()["error"]["code"] == "too_many_streams"
        # A plain answer is no stream, and another token (even the same user's) has its own allowance.
        assert api.chat.completions.create(model=AGENT, messages=[{"role": "user", "content": "p"}]).choices
        assert "".join(c.choices[0].delta.content or "" for c in live.openai(other).chat.completions.create(
            model=AGENT, messages=[{"role": "user", "content": "o"}], stream=True) if c.choices)
        # One read to its end, one left by its client: both give their slot back.
        assert "".join(c.choices[0].delta.content or "" for c in first if c.choices) .strip()
        second.close()
        _wait(lambda: limits.streams_open(hash_token(token)) == 0)
        again = api.chat.completions.create(model=AGENT, messages=[{"role": "user", "content": "4"}], stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in again if c.choices)


def test_a_stream_refused_by_the_model_gives_its_slot_back(limited, store, server):
    from tests.openai_server import Error

    token, _ = store.create_token("alice")
    server.script(Error(400, "no"))
    with limited(streams_per_token=1) as live:
        with pytest.raises(openai.APIStatusError):
            live.openai(token).chat.completions.create(
                model=AGENT, messages=[{"role": "user", "content": "x"}], stream=True)
        assert live.app.state.parts.limits.streams_open(hash_token(token)) == 0


@pytest.mark.parametrize("line, fault", [
    ("requests_per_minute = -1", "serve.requests_per_minute: must be a whole number, 0 or more"),
    ('streams_per_token = "many"', "serve.streams_per_token: must be a whole number, 0 or more"),
    ("idle_timeout = 0", "serve.idle_timeout: must be a whole number, 1 or more"),
    ("stream_per_token = 3", 'did you mean "streams_per_token"'),
])
def test_bad_limits_in_the_config_name_the_key(tmp_path, line, fault):
    path = tmp_path / "config.toml"
    path.write_text(f"[serve]\n{line}\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert fault in str(error.value)


def test_the_limits_default_and_zero_means_none(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[serve]\nrequests_per_minute = 0\n")
    settings = load_settings(path)
    assert settings.serve_number("requests_per_minute") == 0
    assert settings.serve_number("streams_per_token") == 20
    assert settings.serve_number("idle_timeout") == 86_400
