"""The REST API's sessions and messages over the real server (issue 10.2), and the conversation endpoint."""

from __future__ import annotations

import json

import pytest

from agentterm.store import ValueRefused
from tests.api_helpers import Api
from tests.openai_server import Complete, Error
from tests.serve_helpers import live  # noqa: F401 - the fixture

AGENT = "Assistant"


@pytest.fixture
def alice(live, store):  # noqa: F811
    return Api(live, store.create_token("alice")[0])


def test_sessions_page_by_cursor_and_filter(alice, store):
    made = [alice.ok("post", "/api/sessions", 201, json={"agent": AGENT, "title": f"chat {i}"}) for i in range(5)]
    seen, cursor = [], None
    while True:
        page = alice.ok("get", "/api/sessions", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        seen += [s["id"] for s in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [s["id"] for s in reversed(made)]  # newest activity first, each once
    first, second = made[0]["id"], made[1]["id"]
    alice.ok("patch", f"/api/sessions/{first}", json={"tags": ["Python"], "pinned": True})
    assert [s["id"] for s in alice.ok("get", "/api/sessions", params={"tag": "python"})["data"]] == [first]
    assert alice.ok("get", "/api/sessions")["data"][0]["id"] == first  # pinned first
    alice.ok("put", f"/api/sessions/{second}/deactivate")
    archived = alice.ok("get", "/api/sessions", params={"archived": "true"})["data"]
    assert [(s["id"], s["active"]) for s in archived] == [(second, False)]
    assert second not in [s["id"] for s in alice.ok("get", "/api/sessions", params={"archived": "false"})["data"]]
    assert alice.ok("put", f"/api/sessions/{second}/activate")["active"] is True
    alice.ok("post", f"/api/sessions/{made[2]['id']}/messages", 201, json={"role": "user", "content": "zebra crossing"})
    assert [s["id"] for s in alice.ok("get", "/api/sessions", params={"q": "zebra"})["data"]] == [made[2]["id"]]
    other = store.create_agent("Other")
    store.set_agent_owner(other.id, "alice")
    alone = alice.ok("post", "/api/sessions", 201, json={"agent": "Other"})
    assert [s["id"] for s in alice.ok("get", "/api/sessions", params={"agent": "Other"})["data"]] == [alone["id"]]
    bad = alice.get("/api/sessions", params={"cursor": "garbage"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_a_session_is_renamed_trashed_restored_and_purged(alice, store):
    session = alice.ok("post", "/api/sessions", 201, json={"agent": AGENT, "tags": ["a"]})
    sid = session["id"]
    assert session["session_uuid"].startswith("sess_") and session["active"] is True
    renamed = alice.ok("patch", f"/api/sessions/{sid}", json={"title": "Plans"})
    assert (renamed["title"], renamed["title_source"]) == ("Plans", "user")
    assert alice.ok("delete", f"/api/sessions/{sid}")["deleted_at"] is not None
    assert [s["id"] for s in alice.ok("get", "/api/sessions", params={"trash": "true"})["data"]] == [sid]
    assert [s["id"] for s in alice.ok("get", "/api/sessions", params={"trash": "true", "q": "plans"})["data"]] == [sid]
    assert alice.ok("get", "/api/sessions", params={"q": "plans"})["data"] == []
    assert sid not in [s["id"] for s in alice.ok("get", "/api/sessions")["data"]]
    assert alice.ok("post", f"/api/sessions/{sid}/restore")["deleted_at"] is None
    assert alice.ok("delete", f"/api/sessions/{sid}", params={"purge": "true"})["deleted"] is True
    assert alice.get(f"/api/sessions/{sid}").status_code == 404 and store.get_conversation(sid) is None
    assert alice.post("/api/sessions", json={"agent": "nobody"}).status_code == 404
    assert alice.post("/api/sessions", json={"title": 5}).status_code == 422
    digits = alice.post("/api/sessions", json={"session_uuid": "42"})
    assert digits.status_code == 422 and digits.json()["detail"][0]["loc"] == ["body", "session_uuid"]
    assert alice.ok("post", "/api/sessions", 201, json={"session_uuid": "chat-42"})["session_uuid"] == "chat-42"


def test_messages_are_paged_added_edited_deleted_and_cleared(alice, store):
    sid = alice.ok("post", "/api/sessions", 201, json={"agent": AGENT})["id"]
    ids = [alice.ok("post", f"/api/sessions/{sid}/messages", 201,
                    json={"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}"})["id"] for i in range(5)]
    page = alice.ok("get", f"/api/sessions/{sid}/messages", params={"limit": 2})
    assert [m["content"] for m in page["data"]] == ["m3", "m4"]
    page = alice.ok("get", f"/api/sessions/{sid}/messages", params={"limit": 2, "before": page["next_before"]})
    assert [m["content"] for m in page["data"]] == ["m1", "m2"]
    page = alice.ok("get", f"/api/sessions/{sid}/messages", params={"limit": 2, "before": page["next_before"]})
    assert [m["content"] for m in page["data"]] == ["m0"] and page["next_before"] is None
    edited = alice.ok("patch", f"/api/sessions/{sid}/messages/{ids[0]}", json={"content": "m0!"})
    assert edited["content"] == "m0!" and edited["edited_at"]
    assert alice.ok("get", f"/api/sessions/{sid}/messages/{ids[0]}")["content"] == "m0!"
    alice.ok("delete", f"/api/sessions/{sid}/messages/{ids[1]}")
    assert [m.id for m in store.all_messages(sid)] == [ids[0], *ids[2:]]
    assert alice.post(f"/api/sessions/{sid}/messages", json={"role": "wizard", "content": "x"}).status_code == 422
    assert alice.ok("delete", f"/api/sessions/{sid}/messages")["deleted_messages"] == 4
    assert store.all_messages(sid) == [] and store.get_conversation(sid) is not None
    # A message of another session of the same user is not this session's.
    other = alice.ok("post", "/api/sessions", 201, json={"agent": AGENT})["id"]
    mid = alice.ok("post", f"/api/sessions/{other}/messages", 201, json={"role": "user", "content": "x"})["id"]
    assert alice.get(f"/api/sessions/{sid}/messages/{mid}").status_code == 404


def test_the_conversation_endpoint_answers_and_continues(alice, store, server, live):  # noqa: F811
    first = alice.ok("post", "/api/sessions/conversation", json={
        "messages": [{"role": "user", "content": "Hello"}], "session_name": "Greeting",
        "agent_name": AGENT, "agent_instructions": "Answer like a pirate."})
    assert first["response"] == "Hello from the test server."
    assert (first["messages_count"], first["session_active"]) == (2, True)
    assert first["session_uuid"].startswith("sess_")
    sent = [r for r in server.requests if r.get("stream")][-1]["messages"]
    assert sent[0]["role"] == "system" and "pirate" in sent[0]["content"]
    again = alice.ok("post", "/api/sessions/conversation", json={
        "messages": [{"role": "user", "content": "More"}], "session_id": first["session_id"]})
    assert again["session_id"] == first["session_id"] and again["messages_count"] == 4
    sent = [(m["role"], m["content"]) for m in [r for r in server.requests if r.get("stream")][-1]["messages"]
            if m["role"] != "system"]
    assert sent == [("user", "Hello"), ("assistant", "Hello from the test server."), ("user", "More")]
    # The session's uuid and its id both go on with it in /v1.
    for key in (first["session_uuid"], str(first["session_id"])):
        alice.ok("post", "/v1/chat/completions", json={"model": AGENT, "session_id": key,
                                                        "messages": [{"role": "user", "content": "v1"}]})
    assert store.get_conversation(first["session_id"]).message_count == 8
    assert store.get_conversation(first["session_id"]).title == "Greeting"
    missing = alice.post("/api/sessions/conversation", json={"messages": [{"role": "user", "content": "x"}],
                                                             "session_id": 99999})
    assert missing.status_code == 404
    assert alice.post("/api/sessions/conversation", json={"messages": []}).status_code == 422


def test_an_upstream_fault_in_the_conversation_endpoint_is_openai_shaped(alice, server):
    from tests.conftest import TEST_KEY

    server.script(*[Error(401, f"bad key {TEST_KEY}")] * 3)
    answer = alice.post("/api/sessions/conversation", json={"messages": [{"role": "user", "content": "x"}]})
    assert answer.status_code == 502 and TEST_KEY not in answer.text
    assert answer.json()["error"]["code"] == "upstream_auth_failed"


def test_generate_title_asks_the_model_and_export_writes_md_and_json(alice, server):
    sid = alice.ok("post", "/api/sessions/conversation", json={
        "messages": [{"role": "user", "content": "Plan a trip to Rome"}], "session_name": "mine"})["session_id"]
    assert alice.post("/api/sessions/" + str(alice.ok("post", "/api/sessions", 201, json={})["id"])
                      + "/generate-title").status_code == 409
    server.script(Complete("Rome trip plans"))
    titled = alice.ok("post", f"/api/sessions/{sid}/generate-title")
    assert (titled["title"], titled["title_source"]) == ("Rome trip plans", "auto")
    titles = [r for r in server.requests if not r.get("stream")]
    assert "Plan a trip to Rome" in json.dumps(titles[-1]["messages"])
    md = alice.get(f"/api/sessions/{sid}/export", params={"format": "md"})
    assert md.status_code == 200 and md.text.startswith("---\n") and "# Rome trip plans" in md.text
    data = alice.ok("get", f"/api/sessions/{sid}/export", params={"format": "json"})
    assert data["format"] == "agentterm" and [m["role"] for m in data["messages"]] == ["user", "assistant"]
    assert alice.get(f"/api/sessions/{sid}/export", params={"format": "pdf"}).status_code == 422


def test_the_openapi_document_and_the_docs_need_no_token_and_hold_no_data(live):  # noqa: F811
    import httpx2 as httpx

    root = live.base_url.removesuffix("/v1")
    schema = httpx.get(f"{root}/openapi.json").json()
    assert {"/api/agents", "/api/sessions", "/api/sessions/conversation",
            "/api/sessions/{session_id}/messages/{message_id}"} <= set(schema["paths"])
    assert httpx.get(f"{root}/docs").status_code == 200
    assert httpx.get(f"{root}/api/sessions").status_code == 401


def test_a_session_answers_only_through_an_agent_its_user_may_use(live, store):  # noqa: F811
    alice, bob = Api(live, store.create_token("alice")[0]), Api(live, store.create_token("bob")[0])
    agent = alice.ok("post", "/api/agents", 201, json={"name": "Lent", "shared": True})
    talk = {"messages": [{"role": "user", "content": "hi"}]}
    sid = bob.ok("post", "/api/sessions/conversation", json={**talk, "agent_name": "Lent"})["session_id"]
    alice.ok("patch", f"/api/agents/{agent['id']}", json={"shared": False})
    taken_back = bob.post("/api/sessions/conversation", json={**talk, "session_id": sid})
    assert taken_back.status_code == 404, taken_back.text
    bare = bob.ok("post", "/api/sessions", 201, json={})
    assert bare["agent_id"] is None
    refused = bob.post("/api/sessions/conversation", json={**talk, "session_id": bare["id"]})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_agent"
    assert store.get_conversation(bare["id"]).message_count == 0


def test_an_id_beyond_64_bits_is_a_404_not_a_500(alice):
    huge = "9" * 23  # sqlite3 raises OverflowError for it
    for path in (f"/api/sessions/{huge}", f"/api/sessions/{huge}/messages", f"/api/agents/{huge}",
                 f"/api/agents/{huge}/versions"):
        answer = alice.get(path)
        assert answer.status_code == 404, (path, answer.status_code, answer.text)
    answer = alice.post("/v1/chat/completions", json={"model": AGENT, "session_id": huge,
                                                       "messages": [{"role": "user", "content": "hi"}]})
    assert answer.status_code == 200, answer.text  # a new session under that key


def test_a_session_key_a_header_cannot_carry_is_a_422_before_any_turn(alice, store):
    before = store.count_conversations()
    hi = [{"role": "user", "content": "hi"}]
    for key in ("a\u202eb", "日本", "x" * 201, "tab\there"):
        answer = alice.post("/v1/chat/completions", json={"model": AGENT, "session_id": key, "messages": hi})
        assert answer.status_code == 422, (key[:20], answer.status_code, answer.text[:200])
        assert answer.json()["detail"][0]["loc"] == ["body", "session_id"]
        made = alice.post("/api/sessions", json={"agent": AGENT, "session_uuid": key})
        assert made.status_code == 422, (key[:20], made.status_code)
    answer = alice.post("/v1/chat/completions", json={"model": AGENT, "messages": hi},
                        headers={"X-Session-ID": "caf\u00e9".encode("latin-1")})  # not ASCII: the same rule as the body's
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["header", "x-session-id"]
    assert store.count_conversations() == before  # nothing answered and lost behind a 500
    assert alice.ok("post", "/v1/chat/completions", json={"model": AGENT, "session_id": "ok-key_1.2",
                                                         "messages": hi})["session_id"] == "ok-key_1.2"


def test_a_number_json_cannot_hold_is_a_422_naming_the_field_not_a_500(alice):
    # 1e400 reads as inf: FastAPI's own 422 could not encode that input back.
    for path, body in (("/api/agents", '{"name": "Huge", "max_tokens": 1e400}'),
                       ("/v1/chat/completions", '{"model": "Assistant", "stream": -1e400, "messages": []}')):
        answer = alice.post(path, content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 422, (path, answer.status_code, answer.text)
        field = {"/api/agents": "max_tokens", "/v1/chat/completions": "stream"}[path]
        assert answer.json()["detail"][0]["loc"] == ["body", field]


def test_a_bad_body_reads_as_one_line_in_the_official_openai_client(alice, live):  # noqa: F811
    # FastAPI's `detail` list alone left the openai client with "Error code: 422" and no words.
    import openai

    api = live.openai(alice.token)
    with pytest.raises(openai.UnprocessableEntityError) as bad:
        api.chat.completions.create(model=AGENT, messages=[{"role": "user", "content": "hi"}],
                                    extra_body={"session_id": "日本"})
    assert "'session_id' is not valid" in bad.value.message and "\n" not in bad.value.message
    body = alice.post("/v1/chat/completions", json={"model": AGENT}).json()
    assert body["error"]["param"] == "messages" and body["detail"][0]["loc"] == ["body", "messages"]


def test_a_title_longer_than_a_title_is_refused_in_one_line(alice, store):
    before = store.count_conversations()
    made = alice.post("/api/sessions", json={"agent": AGENT, "title": "t" * 100_000})
    assert made.status_code == 422 and made.json()["error"]["param"] == "title"
    assert store.count_conversations() == before  # refused before anything was made
    sid = alice.ok("post", "/api/sessions", 201, json={"agent": AGENT})["id"]
    answer = alice.patch(f"/api/sessions/{sid}", json={"title": "t" * 100_000})
    assert answer.status_code == 422 and "'title' is not valid" in answer.json()["error"]["message"]
    assert store.get_conversation(sid).title == ""
    with pytest.raises(ValueRefused, match="at most 500 characters"):  # the app's and the CLI's rename
        store.rename_conversation(sid, "t" * 501)
    assert alice.ok("patch", f"/api/sessions/{sid}", json={"title": "t" * 500})["title"] == "t" * 500


@pytest.mark.parametrize("body, field, kind", [
    (b"{not json", "1", "json_invalid"),
    (b"", None, "missing"),
    (b'{"model": "Assistant"}', "messages", "missing"),
    (b'{"model": 5, "messages": []}', "model", "string_type"),
    (b'{"model": "Assistant", "messages": [1]}', "messages.0", "dict_type"),
    (b'{"model": "Assistant", "messages": [{"role": "user", "content": "hi"}], "stream": "maybe"}', "stream",
     "bool_parsing"),
])
def test_a_bad_chat_body_is_a_422_naming_the_field_in_both_shapes(alice, store, body, field, kind):
    before = store.count_conversations()
    answer = alice.post("/v1/chat/completions", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    data = answer.json()
    assert data["detail"][0]["type"] == kind and data["error"]["param"] == field, data
    assert data["detail"][0]["loc"][0] == "body"
    assert store.count_conversations() == before


def test_the_chat_route_documents_its_body_and_header(alice):
    operation = alice.get("/openapi.json").json()["paths"]["/v1/chat/completions"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert operation["requestBody"]["required"] is True
    assert {"model", "messages"} <= set(schema["required"]) and "session_id" in schema["properties"]
    assert [p["name"] for p in operation["parameters"]] == ["x-session-id"]
    assert "422" in operation["responses"]
