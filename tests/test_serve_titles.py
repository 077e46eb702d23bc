"""`agentterm serve`'s titles: no model request for a session made without an id ([serve] titles)."""

from __future__ import annotations

import time

import pytest

from tests.openai_server import Complete, Stream
from tests.serve_helpers import LiveServer

AGENT = "Assistant"
PROMPT = "tell me about lighthouses\nand their keepers"


def _title(store, user: str, session: str) -> str:
    cid = store.owned_conversation(user, session).id
    for _ in range(600):  # the title is written after the answer, off the request's path
        title = store.get_conversation(cid).title
        if title:
            return title
        time.sleep(0.05)
    raise AssertionError("no title was written")


def _ask(srv, token: str, session: str | None = None) -> str:
    extra = {"extra_body": {"session_id": session}} if session else {}
    raw = srv.openai(token).chat.completions.with_raw_response.create(
        model=AGENT, messages=[{"role": "user", "content": PROMPT}], **extra)
    return raw.headers["x-session-id"]


@pytest.fixture
def shared(store):
    store.set_agent_owner(store.default_agent().id, None, shared=True)
    return store


def test_by_default_an_id_less_session_is_titled_from_its_prompt_and_one_with_an_id_by_the_model(
        shared, settings, client, server):
    store = shared
    token, _ = store.create_token("alice")
    server.script(Stream("Hello"), Stream("Hello"), Complete("Lighthouse keepers"))
    with LiveServer(store, settings, client) as srv:
        session = _ask(srv, token)
        assert _title(store, "alice", session) == "tell me about lighthouses"
        # The upstream saw the answer's request only: a stateless client pays no second one.
        assert [r.get("stream") for r in server.requests] == [True]
        named = _ask(srv, token, "my-notes")
        assert _title(store, "alice", named) == "Lighthouse keepers"
        assert [bool(r.get("stream")) for r in server.requests] == [True, True, False]


def test_titles_all_asks_the_model_for_every_new_session(shared, settings, client, server):
    store = shared
    settings.serve = {**(settings.serve or {}), "titles": "all"}
    token, _ = store.create_token("alice")
    server.script(Stream("Hello"), Complete("Lighthouse keepers"))
    with LiveServer(store, settings, client) as srv:
        assert _title(store, "alice", _ask(srv, token)) == "Lighthouse keepers"


def test_titles_prompt_never_asks_the_model(shared, settings, client, server):
    store = shared
    settings.serve = {**(settings.serve or {}), "titles": "prompt"}
    token, _ = store.create_token("alice")
    with LiveServer(store, settings, client) as srv:
        assert _title(store, "alice", _ask(srv, token, "my-notes")) == "tell me about lighthouses"
        assert [r.get("stream") for r in server.requests] == [True]


def test_an_unknown_titles_value_is_one_clear_config_error(tmp_path):
    from agentterm.config import ConfigError, load_settings

    path = tmp_path / "config.toml"
    path.write_text('[serve]\ntitles = "sometimes"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert "serve.titles" in str(raised.value) and '"sessions"' in str(raised.value)
