"""`agentterm serve`: the real server, the official openai client, the loopback upstream (issue 10.1)."""

from __future__ import annotations

import httpx2 as httpx
import openai
import pytest

from tests.serve_helpers import live  # noqa: F401 - the fixture
from tests.openai_server import Error

AGENT = "Assistant"


def test_a_streamed_and_a_plain_answer_continue_one_session(live, store, server):  # noqa: F811
    token, _ = store.create_token("alice")
    api = live.openai(token)
    raw = api.chat.completions.with_raw_response.create(
        model=AGENT, messages=[{"role": "user", "content": "hi"}])
    session = raw.headers["x-session-id"]
    answer = raw.parse()
    assert answer.choices[0].message.content == "Hello from the test server."
    assert answer.model_extra["session_id"] == session
    chunks = list(api.chat.completions.create(
        model=AGENT, messages=[{"role": "user", "content": "again"}], stream=True,
        stream_options={"include_usage": True}, extra_body={"session_id": session}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the test server."
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    # The second request carried the stored first turn as its history.
    chat = [r for r in server.requests if r.get("stream")]
    sent = [(m["role"], m["content"]) for m in chat[-1]["messages"] if m["role"] != "system"]
    assert sent == [("user", "hi"), ("assistant", "Hello from the test server."), ("user", "again")]
    conversation = store.owned_conversation("alice", session)
    assert conversation is not None and conversation.agent_name == AGENT
    assert [m.role for m in store.all_messages(conversation.id)] == ["user", "assistant"] * 2


def test_a_resent_whole_history_neither_duplicates_nor_loses(live, store):  # noqa: F811
    token, _ = store.create_token("alice")
    api = live.openai(token)
    history = [{"role": "user", "content": "one"}]
    raw = api.chat.completions.with_raw_response.create(model=AGENT, messages=history)
    session = raw.headers["x-session-id"]
    history += [{"role": "assistant", "content": raw.parse().choices[0].message.content},
                {"role": "user", "content": "two"}]
    api.chat.completions.create(model=AGENT, messages=history, extra_body={"session_id": session})
    cid = store.owned_conversation("alice", session).id
    assert [(m.role, m.content) for m in store.all_messages(cid)] == [
        ("user", "one"), ("assistant", "Hello from the test server."),
        ("user", "two"), ("assistant", "Hello from the test server.")]


def test_two_users_see_only_their_own_sessions_and_agents(live, store):  # noqa: F811
    alice, _ = store.create_token("alice")
    bob, _ = store.create_token("bob")
    own = store.create_agent("Alices-own")
    store.set_agent_owner(own.id, "alice")
    shared = store.create_agent("Shared-one")
    store.set_agent_owner(shared.id, "carol", shared=True)
    store.set_agent_owner(store.get_agent_by_name(AGENT).id, "alice")
    assert sorted(m.id for m in live.openai(alice).models.list()) == ["Alices-own", AGENT, "Shared-one"]
    assert [m.id for m in live.openai(bob).models.list()] == ["Shared-one"]
    raw = live.openai(alice).chat.completions.with_raw_response.create(
        model=AGENT, messages=[{"role": "user", "content": "secret"}])
    session = raw.headers["x-session-id"]
    with pytest.raises(openai.NotFoundError):
        live.openai(bob).chat.completions.create(
            model="Shared-one", messages=[{"role": "user", "content": "x"}],
            extra_body={"session_id": session})
    with pytest.raises(openai.NotFoundError):  # alice's agent is not bob's model
        live.openai(bob).chat.completions.create(model=AGENT, messages=[{"role": "user", "content": "x"}])


def test_no_token_a_bad_one_and_a_revoked_one_are_401_in_openais_shape(live, store):  # noqa: F811
    token, row = store.create_token("alice")
    for header in ({}, {"Authorization": "Bearer at_nope"}, {"Authorization": token}):
        answer = httpx.get(f"{live.base_url}/models", headers=header)
        assert answer.status_code == 401
        assert set(answer.json()["error"]) == {"message", "type", "param", "code"}
    assert httpx.get(f"{live.base_url}/models", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    store.revoke_token(row["id"])
    with pytest.raises(openai.AuthenticationError):
        live.openai(token).models.list()


def test_a_foreign_host_is_refused_and_a_big_body_is_413(live, store):  # noqa: F811
    token, _ = store.create_token("alice")
    auth = {"Authorization": f"Bearer {token}"}
    rebound = httpx.get(f"{live.base_url}/models", headers={**auth, "Host": "evil.example:8765"})
    assert rebound.status_code == 421 and rebound.json()["error"]["code"] == "host_not_allowed"
    assert httpx.get(f"{live.base_url}/models", headers={**auth, "Host": f"localhost:{live.port}"}).status_code == 200
    big = httpx.post(f"{live.base_url}/chat/completions", headers=auth, content=b"x" * 5_000_000)
    assert big.status_code == 413
    assert "access-control-allow-origin" not in httpx.get(
        f"{live.base_url}/models", headers={**auth, "Origin": "http://evil.example"}).headers


def test_a_paused_agent_is_409_an_unknown_404_and_a_bad_body_422(live, store):  # noqa: F811
    token, _ = store.create_token("alice")
    api = live.openai(token)
    store.set_agent_status(store.get_agent_by_name(AGENT).id, "paused")
    with pytest.raises(openai.ConflictError) as paused:
        api.chat.completions.create(model=AGENT, messages=[{"role": "user", "content": "x"}])
    assert AGENT in paused.value.message
    with pytest.raises(openai.NotFoundError):
        api.chat.completions.create(model="nobody", messages=[{"role": "user", "content": "x"}])
    bad = httpx.post(f"{live.base_url}/chat/completions", headers={"Authorization": f"Bearer {token}"},
                     json={"model": AGENT})
    assert bad.status_code == 422 and "messages" in bad.text


def test_an_upstream_fault_is_openai_shaped_and_never_echoes_the_key(live, store, server):  # noqa: F811
    from tests.conftest import TEST_KEY

    token, _ = store.create_token("alice")
    server.script(Error(429, f"slow down {TEST_KEY}"), Error(429, f"slow down {TEST_KEY}"),
                  Error(429, f"slow down {TEST_KEY}"))
    answer = httpx.post(f"{live.base_url}/chat/completions", headers={"Authorization": f"Bearer {token}"},
                        json={"model": AGENT, "messages": [{"role": "user", "content": "x"}]}, timeout=60)
    assert answer.status_code == 429 and "x-session-id" in answer.headers
    assert TEST_KEY not in answer.text and set(answer.json()["error"]) == {"message", "type", "param", "code"}


def test_the_conversation_shows_in_chats_list(live, store, db_path, settings, config_path):  # noqa: F811
    import json
    import os
    import subprocess
    import sys

    # The local user's token: the CLI shows the local user's conversations (another user's: not).
    token, _ = store.create_token(settings.local_user())
    live.openai(token).chat.completions.create(model=AGENT, messages=[{"role": "user", "content": "from api"}])
    env = {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path)}
    listed = subprocess.run([sys.executable, "-m", "agentterm", "chats", "list", "--json"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert [c["agent_name"] for c in json.loads(listed.stdout)] == [AGENT]


def test_a_client_gone_mid_stream_leaves_the_answer_interrupted(live, store, server):  # noqa: F811
    import time

    from tests.openai_server import Stream

    token, _ = store.create_token("alice")
    server.script(Stream("word " * 200, chunk_size=5, delay=0.05))
    with httpx.stream("POST", f"{live.base_url}/chat/completions", timeout=30,
                      headers={"Authorization": f"Bearer {token}"},
                      json={"model": AGENT, "stream": True, "messages": [{"role": "user", "content": "go"}]}) as r:
        session = r.headers["x-session-id"]
        for line in r.iter_lines():
            if "word" in line:
                break
    cid = store.owned_conversation("alice", session).id
    for _ in range(300):  # the server notices the client left, cancels the turn, stores it interrupted
        answer = store.all_messages(cid)[-1]
        if answer.status != "streaming":
            break
        time.sleep(0.05)
    assert answer.role == "assistant" and answer.status == "interrupted"
    assert 0 < len(answer.content) < len("word " * 200)


def test_a_second_request_in_a_session_still_streaming_is_409_and_stores_nothing(live, store, server):  # noqa: F811
    from tests.openai_server import Stream

    token, _ = store.create_token("alice")
    api = live.openai(token)
    server.script(Stream("word " * 200, chunk_size=5, delay=0.05))
    with httpx.stream("POST", f"{live.base_url}/chat/completions", timeout=30,
                      headers={"Authorization": f"Bearer {token}"},
                      json={"model": AGENT, "stream": True, "session_id": "busy",
                            "messages": [{"role": "user", "content": "go"}]}) as r:
        lines = r.iter_lines()  # kept open: leaving the loop would close the stream
        while "word" not in next(lines):
            pass
        with pytest.raises(openai.ConflictError) as busy:
            api.chat.completions.create(model=AGENT, messages=[{"role": "user", "content": "meanwhile"}],
                                        extra_body={"session_id": "busy"})
        assert "still streaming" in busy.value.message
    cid = store.owned_conversation("alice", "busy").id
    assert "meanwhile" not in [m.content for m in store.all_messages(cid)]
