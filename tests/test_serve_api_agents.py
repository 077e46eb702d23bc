"""The REST API's agents over the real server (issue 10.2): made, changed, versioned, shared."""

from __future__ import annotations

import pytest

from tests.api_helpers import Api
from tests.serve_helpers import live  # noqa: F401 - the fixture


@pytest.fixture
def alice(live, store):  # noqa: F811
    return Api(live, store.create_token("alice")[0])


@pytest.fixture
def bob(live, store):  # noqa: F811
    return Api(live, store.create_token("bob")[0])


@pytest.fixture
def me(live, store, settings):  # noqa: F811
    """The server's local user: the one the app and the CLI are."""
    return Api(live, store.create_token(settings.local_user())[0])


def test_an_agent_is_made_changed_versioned_and_restored(alice, store):
    made = alice.ok("post", "/api/agents", 201, json={"name": "Poet", "instructions": "Rhyme.", "temperature": 0.5})
    assert (made["name"], made["owner"], made["yours"], made["shared"], made["version"]) == (
        "Poet", "alice", True, False, 1)
    changed = alice.ok("patch", f"/api/agents/{made['id']}", json={"instructions": "Rhyme twice."})
    assert changed["version"] == 2 and changed["temperature"] == 0.5
    versions = alice.ok("get", f"/api/agents/{made['id']}/versions")["data"]
    assert [v["version"] for v in versions] == [2, 1] and versions[1]["data"]["instructions"] == "Rhyme."
    restored = alice.ok("post", f"/api/agents/{made['id']}/versions/1/restore")
    assert restored["version"] == 3 and restored["instructions"] == "Rhyme."
    assert alice.post(f"/api/agents/{made['id']}/versions/9/restore").status_code == 404
    assert store.get_agent(made["id"]).instructions == "Rhyme."
    assert "Poet" in [a["name"] for a in alice.ok("get", "/api/agents")["data"]]


def test_pause_resume_retire_reach_v1(alice):
    agent = alice.ok("post", "/api/agents", 201, json={"name": "Sleepy"})
    chat = {"model": "Sleepy", "messages": [{"role": "user", "content": "hi"}]}
    assert alice.ok("post", f"/api/agents/{agent['id']}/pause")["status"] == "paused"
    assert alice.post("/v1/chat/completions", json=chat).status_code == 409
    assert alice.ok("post", f"/api/agents/{agent['id']}/resume")["status"] == "active"
    assert alice.ok("post", "/v1/chat/completions", json=chat)["choices"][0]["message"]["content"]
    assert alice.ok("post", f"/api/agents/{agent['id']}/retire")["status"] == "inactive"
    assert "Sleepy" not in [m["id"] for m in alice.ok("get", "/v1/models")["data"]]
    assert [a["name"] for a in alice.ok("get", "/api/agents", params={"status": "inactive"})["data"]] == ["Sleepy"]


def test_a_bad_body_is_a_422_naming_the_field(alice, store):
    for body, field in (({"instructions": "x"}, "name"), ({"name": "A", "temperature": "hot"}, "temperature"),
                        ({"name": "A", "colour": "red"}, "colour"), ({"name": "A", "temperature": 7}, "temperature"),
                        ({"name": store.default_agent().name}, "name")):
        answer = alice.post("/api/agents", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert [d["loc"][-1] for d in answer.json()["detail"]] == [field], answer.text
    assert alice.post("/api/agents", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 422


def test_a_shared_agent_is_seen_and_used_by_all_and_changed_by_its_owner_only(alice, bob, store):
    agent = alice.ok("post", "/api/agents", 201, json={"name": "Helper"})
    assert bob.get(f"/api/agents/{agent['id']}").status_code == 404
    assert alice.ok("patch", f"/api/agents/{agent['id']}", json={"shared": True})["shared"] is True
    seen = bob.ok("get", f"/api/agents/{agent['id']}")
    assert (seen["owner"], seen["yours"]) == ("alice", False)
    assert bob.ok("get", f"/api/agents/{agent['id']}/versions")["data"]
    session = bob.ok("post", "/api/sessions", 201, json={"agent": "Helper"})
    assert session["agent_name"] == "Helper"
    for method, path, body in (("patch", "", {"description": "mine now"}), ("delete", "", None),
                               ("post", "/pause", None), ("post", "/resume", None), ("post", "/retire", None),
                               ("post", "/versions/1/restore", None)):
        answer = bob.request(method.upper(), f"/api/agents/{agent['id']}{path}", json=body)
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "agent_not_yours", (method, path)
    assert store.get_agent(agent["id"]).description == ""
    # Alice deletes it, trashing her sessions with it: bob's stays, unlinked.
    mine = alice.ok("post", "/api/sessions", 201, json={"agent": "Helper"})
    alice.ok("delete", f"/api/agents/{agent['id']}", params={"keep_sessions": "false"})
    assert store.get_conversation(mine["id"]).deleted_at is not None
    kept = store.get_conversation(session["id"])
    assert kept.deleted_at is None and kept.agent_id is None and kept.agent_name == "Helper"


def test_only_the_local_user_gives_an_agent_tools(alice, me):
    refused = alice.post("/api/agents", json={"name": "Tooled", "mcp_servers": ["files"], "tool_approval": "auto"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "tools_local_only"
    made = me.ok("post", "/api/agents", 201, json={"name": "Tooled", "mcp_servers": ["files"]})
    assert made["mcp_servers"] == ["files"] and made["yours"] is True
