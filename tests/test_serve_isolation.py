"""Two users never see each other's data, in every route of the app (issue 10.3), table-driven over
app.routes: a route added without a line in ROUTES fails here, so it cannot ship unchecked."""

from __future__ import annotations

import re

import httpx2 as httpx
import pytest

from tests.api_helpers import Api
from tests.serve_helpers import live  # noqa: F401 - the fixture

MISSING = 987654
# Routes with an id in their path: (method, path) -> the body sent (valid, so the owner check is
# what answers). Bob sends alice's ids: each must be the 404 a missing id gets, and change nothing.
FOREIGN = {
    ("GET", "/api/agents/{agent_id}"): None,
    ("PATCH", "/api/agents/{agent_id}"): {"description": "bob was here"},
    ("DELETE", "/api/agents/{agent_id}"): None,
    ("POST", "/api/agents/{agent_id}/pause"): None,
    ("POST", "/api/agents/{agent_id}/resume"): None,
    ("POST", "/api/agents/{agent_id}/retire"): None,
    ("GET", "/api/agents/{agent_id}/versions"): None,
    ("POST", "/api/agents/{agent_id}/versions/{version}/restore"): None,
    ("GET", "/api/sessions/{session_id}"): None,
    ("PATCH", "/api/sessions/{session_id}"): {"title": "bob was here"},
    ("DELETE", "/api/sessions/{session_id}"): None,
    ("POST", "/api/sessions/{session_id}/restore"): None,
    ("PUT", "/api/sessions/{session_id}/activate"): None,
    ("PUT", "/api/sessions/{session_id}/deactivate"): None,
    ("POST", "/api/sessions/{session_id}/generate-title"): None,
    ("GET", "/api/sessions/{session_id}/export"): None,
    ("GET", "/api/sessions/{session_id}/messages"): None,
    ("POST", "/api/sessions/{session_id}/messages"): {"role": "user", "content": "bob was here"},
    ("DELETE", "/api/sessions/{session_id}/messages"): None,
    ("GET", "/api/sessions/{session_id}/messages/{message_id}"): None,
    ("PATCH", "/api/sessions/{session_id}/messages/{message_id}"): {"content": "bob was here"},
    ("DELETE", "/api/sessions/{session_id}/messages/{message_id}"): None,
}
# Routes without an id in the path: what test_routes_without_an_id_show_bob_nothing_of_alices checks.
UNNAMED = {
    ("GET", "/v1/models"): "lists",
    ("POST", "/v1/chat/completions"): "alice's session (uuid or id) and agent are 404",
    ("GET", "/api/agents"): "lists",
    ("POST", "/api/agents"): "what bob makes is his",
    ("GET", "/api/sessions"): "lists, full text and trash included",
    ("POST", "/api/sessions"): "alice's agent is 404, her session key is taken",
    ("POST", "/api/sessions/conversation"): "alice's session (uuid or id) is 404",
}
DOCUMENTS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def app_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers, whatever routers it is made of."""
    found = set()

    def walk(routes, prefix: str) -> None:
        for route in routes:
            included = getattr(route, "original_router", None)  # FastAPI >= 0.160 wraps included routers
            if included is not None:
                walk(included.routes, prefix + route.include_context.prefix)
            elif hasattr(route, "routes"):
                walk(route.routes, prefix + getattr(route, "path", ""))
            else:
                found.update((m, prefix + route.path) for m in getattr(route, "methods", None) or () if m != "HEAD")

    walk(app.routes, "")
    return {(m, path) for m, path in found if path not in DOCUMENTS}


@pytest.fixture
def two(live, store):  # noqa: F811
    """alice with a private agent, a session with two messages; bob with his own token."""
    alice, bob = Api(live, store.create_token("alice")[0]), Api(live, store.create_token("bob")[0])
    agent = alice.ok("post", "/api/agents", 201, json={"name": "Private", "instructions": "v1"})
    alice.ok("patch", f"/api/agents/{agent['id']}", json={"instructions": "v2"})
    session = alice.ok("post", "/api/sessions/conversation", json={
        "messages": [{"role": "user", "content": "alice's secret plan"}], "agent_name": "Private",
        "session_name": "Alice's plans"})
    message = store.all_messages(session["session_id"])[0]
    ids = {"agent_id": agent["id"], "version": 1, "session_id": session["session_id"], "message_id": message.id}
    return alice, bob, ids, session


def test_every_route_of_the_app_is_in_the_table(live):  # noqa: F811
    from agentterm.server.doors import OPEN_PATHS

    routes = app_routes(live.app)
    assert routes == set(FOREIGN) | set(UNNAMED), (
        f"routes not in this test's table (add each, with its owner check): {sorted(routes - set(FOREIGN) - set(UNNAMED))}")
    assert set(OPEN_PATHS) <= DOCUMENTS  # the doors let through the documents only
    assert all("{" in path for _, path in FOREIGN) and not any("{" in path for _, path in UNNAMED)


def test_another_users_ids_are_404_everywhere_and_change_nothing(two, store):
    alice, bob, ids, session = two
    before = (store.get_agent(ids["agent_id"]), store.get_conversation(ids["session_id"]),
              store.all_messages(ids["session_id"]))
    for (method, path), body in FOREIGN.items():
        foreign = bob.request(method, path.format(**ids), json=body)
        missing = bob.request(method, path.format(**{k: MISSING for k in ids}), json=body)
        assert foreign.status_code == 404, (method, path, foreign.text)
        assert missing.status_code == 404, (method, path, missing.text)
        # The same answer, word for word, but for the id: nothing tells bob that the id exists.
        assert re.sub(r"\d+", "N", foreign.text) == re.sub(r"\d+", "N", missing.text), (method, path)
    assert (store.get_agent(ids["agent_id"]), store.get_conversation(ids["session_id"]),
            store.all_messages(ids["session_id"])) == before
    # ... while alice reaches every one of them (the ids were right).
    for (method, path), body in FOREIGN.items():
        if method == "GET":
            assert alice.request(method, path.format(**ids)).status_code == 200, path


def test_routes_without_an_id_show_bob_nothing_of_alices(two, store):
    alice, bob, ids, session = two
    text = " ".join(bob.get(path).text for (method, path), what in UNNAMED.items() if what.startswith("lists"))
    text += bob.get("/api/sessions", params={"q": "secret"}).text + bob.get("/api/sessions", params={"trash": "true"}).text
    assert "Private" not in text and "secret" not in text and "Alice" not in text
    assert bob.ok("get", "/api/sessions", params={"q": "secret"})["data"] == []
    # A session, made or continued, with alice's agent or in alice's session: 404 each way.
    assert bob.post("/api/sessions", json={"agent": "Private"}).status_code == 404
    assert bob.post("/api/sessions", json={"agent": str(ids["agent_id"])}).status_code == 404
    for key in (session["session_uuid"], str(ids["session_id"])):
        chat = bob.post("/v1/chat/completions", json={"model": "Assistant", "session_id": key,
                                                      "messages": [{"role": "user", "content": "x"}]})
        assert chat.status_code == 404, chat.text
        talk = bob.post("/api/sessions/conversation", json={"session_id": key,
                                                            "messages": [{"role": "user", "content": "x"}]})
        assert talk.status_code == 404, talk.text
    assert bob.post("/v1/chat/completions", json={"model": "Private",
                                                  "messages": [{"role": "user", "content": "x"}]}).status_code == 404
    # What bob makes is his: alice does not see it, and a session key of hers stays hers.
    mine = bob.ok("post", "/api/agents", 201, json={"name": "Bobs"})
    assert alice.get(f"/api/agents/{mine['id']}").status_code == 404
    taken = bob.post("/api/sessions", json={"session_uuid": session["session_uuid"]})
    assert taken.status_code == 409 and store.get_conversation(ids["session_id"]).message_count == 2


def test_no_token_a_bad_one_and_a_revoked_one_are_401_on_every_route(live, store, two):  # noqa: F811
    alice, bob, ids, session = two
    token, row = store.create_token("carol")
    store.revoke_token(row["id"])
    root = live.base_url.removesuffix("/v1")
    for method, path in sorted(set(FOREIGN) | set(UNNAMED)):
        url = root + path.format(**ids)
        for headers in ({}, {"Authorization": "Bearer at_not-a-token"}, {"Authorization": f"Bearer {token}"},
                        {"Authorization": token}):
            answer = httpx.request(method, url, headers=headers, json=FOREIGN.get((method, path)))
            assert answer.status_code == 401, (method, path, headers)
            assert answer.json()["error"]["code"] == "invalid_api_key"
    assert store.get_conversation(ids["session_id"]).message_count == 2


def test_every_route_is_described_in_docs_api_md(live):  # noqa: F811
    # docs/api.md is the API's reference: a route added without its line there fails here.
    import re
    from pathlib import Path

    def shape(text: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", text)

    doc = shape((Path(__file__).parent.parent / "docs" / "api.md").read_text(encoding="utf-8"))
    missing = sorted(f"{m} {p}" for m, p in app_routes(live.app) if f"{m} {shape(p)}" not in doc)
    assert missing == []
