"""Agents in the store: versions, duplicates, deletion, usage, validation, the templates."""

from __future__ import annotations

import json

import pytest

from agentterm.store import StoreError, ValidationError
from agentterm.templates import list_templates, load_template

# --- agents ----------------------------------------------------------------------------------


def test_create_get_and_list_agents(store):
    coder = store.create_agent("Coder", model="gpt-4o", temperature=0.2, extra={"seed": 7})
    store.create_agent("builder", status="paused")
    assert store.get_agent(coder.id) == coder
    assert coder.version == 1 and coder.params() == {"temperature": 0.2, "seed": 7}
    assert store.get_agent_by_name("coder").id == coder.id  # names ignore case
    assert store.get_agent_by_name("nobody") is None
    assert store.get_agent(9999) is None
    assert [a.name for a in store.list_agents()] == ["Assistant", "builder", "Coder"]
    assert [a.name for a in store.list_agents(["paused"])] == ["builder"]
    assert store.list_agents([]) == []


def test_every_save_is_a_version_and_one_can_be_restored(store):
    agent = store.create_agent("Poet", instructions="Rhyme.", temperature=1.0)
    agent = store.update_agent(agent.id, instructions="Write free verse.")
    agent = store.set_agent_status(agent.id, "paused")
    assert agent.version == 3 and agent.status == "paused"
    versions = store.agent_versions(agent.id)
    assert [v.version for v in versions] == [3, 2, 1]
    assert versions[-1].data["instructions"] == "Rhyme."
    assert versions[-1].data["temperature"] == 1.0
    assert set(versions[0].data) >= {"name", "status", "model", "extra", "max_tokens"}

    restored = store.restore_agent_version(agent.id, 1)
    assert restored.version == 4
    assert restored.instructions == "Rhyme." and restored.status == "active"
    assert store.agent_versions(agent.id)[0].data == versions[-1].data
    with pytest.raises(StoreError):
        store.restore_agent_version(agent.id, 99)


def test_a_save_that_changes_nothing_makes_no_version(store):
    agent = store.create_agent("Same", model="m")
    assert store.update_agent(agent.id, model="m").version == 1
    assert len(store.agent_versions(agent.id)) == 1


def test_duplicate_names_copies_in_turn(store):
    agent = store.create_agent("Coder", instructions="Code.")
    first = store.duplicate_agent(agent.id)
    second = store.duplicate_agent(agent.id)
    named = store.duplicate_agent(agent.id, name="Coder 2")
    assert (first.name, second.name, named.name) == ("Coder (copy)", "Coder (copy 2)", "Coder 2")
    assert first.instructions == "Code." and first.id != agent.id and first.version == 1
    long = store.create_agent("x" * 80)
    assert len(store.duplicate_agent(long.id).name) <= 80


def test_deleting_an_agent_can_keep_its_conversations(store):
    agent = store.create_agent("Gone")
    conversation = store.create_conversation(agent.id)
    store.delete_agent(agent.id, keep_conversations=True)
    assert store.get_agent(agent.id) is None
    assert store.agent_versions(agent.id) == []
    kept = store.get_conversation(conversation.id)
    assert kept.agent_id is None and kept.agent_name == "Gone" and kept.deleted_at is None


def test_deleting_an_agent_with_its_conversations_moves_them_to_the_trash(store):
    agent = store.create_agent("Gone")
    conversation = store.create_conversation(agent.id)
    other = store.create_conversation()
    store.delete_agent(agent.id, keep_conversations=False)
    assert [c.id for c in store.list_conversations(view="trash")] == [conversation.id]
    assert [c.id for c in store.list_conversations()] == [other.id]
    with pytest.raises(StoreError):
        store.delete_agent(agent.id)


def test_renaming_an_agent_renames_it_in_its_conversations(store):
    agent = store.create_agent("Old name")
    conversation = store.create_conversation(agent.id)
    store.update_agent(agent.id, name="New name")
    assert store.get_conversation(conversation.id).agent_name == "New name"


def test_agent_usage_sums_its_conversations(store):
    agent = store.create_agent("Busy")
    assert store.agent_usage(agent.id).conversations == 0
    assert store.agent_usage(agent.id).last_used_at is None
    one = store.create_conversation(agent.id)
    two = store.create_conversation(agent.id)
    store.create_conversation()  # someone else's
    store.add_message(one.id, "user", "a")
    store.add_message(one.id, "assistant", "b", prompt_tokens=10, completion_tokens=5)
    store.add_message(two.id, "user", "c")
    usage = store.agent_usage(agent.id)
    assert (usage.conversations, usage.messages, usage.tokens) == (2, 3, 15)
    assert usage.last_used_at == store.get_conversation(two.id).last_activity_at


def test_the_default_agent_survives_a_rename_and_a_delete(store):
    seeded = store.default_agent()
    store.update_agent(seeded.id, name="Helper")
    assert store.default_agent().id == seeded.id
    store.delete_agent(seeded.id)
    assert store.list_agents() == []
    again = store.default_agent()
    assert again.name == "Assistant" and again.id != seeded.id


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": "bell\x07"}, "name"),
        ({"name": "two\nlines"}, "name"),
        ({"name": 7}, "name"),
        ({"status": "asleep"}, "status"),
        ({"temperature": 2.01}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"temperature": float("inf")}, "temperature"),
        ({"temperature": True}, "temperature"),
        ({"temperature": "warm"}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_p": False}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": -5}, "max_tokens"),
        ({"max_tokens": 1.5}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({"extra": [1, 2]}, "extra"),
        ({"extra": "[1, 2]"}, "extra"),
        ({"extra": "{not json"}, "extra"),
        ({"extra": {"x": float("nan")}}, "extra"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_agent_fields_are_named(store, fields, field):
    errors = store.validate_agent_fields(fields)
    assert list(errors) == [field]
    assert errors[field]


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "x" * 80},
        {"temperature": 0, "top_p": 1, "max_tokens": 1},
        {"temperature": 2, "top_p": 0.0},
        {"temperature": "0.7", "max_tokens": "256"},  # straight from a form
        {"temperature": "", "top_p": None, "max_tokens": ""},
        {"extra": '{"seed": 7}'},
        {"extra": {}},
        {"status": "inactive"},
    ],
)
def test_valid_agent_fields_pass(store, fields):
    assert store.validate_agent_fields(fields) == {}


def test_form_text_is_stored_as_numbers_and_json(store):
    agent = store.create_agent("Form", temperature="0.5", max_tokens="100", extra='{"a": 1}')
    assert (agent.temperature, agent.max_tokens, agent.extra) == (0.5, 100, {"a": 1})


def test_names_are_unique_regardless_of_case(store):
    agent = store.create_agent("Unique")
    assert store.validate_agent_fields({"name": "UNIQUE"}) == {
        "name": "is already used by another agent"
    }
    assert store.validate_agent_fields({"name": "unique"}, agent_id=agent.id) == {}
    with pytest.raises(ValidationError) as info:
        store.create_agent("unique")
    assert info.value.errors == {"name": "is already used by another agent"}


def test_an_invalid_save_raises_with_the_reasons_and_writes_nothing(store):
    agent = store.create_agent("Valid")
    with pytest.raises(ValidationError) as info:
        store.create_agent("Broken", temperature=5, max_tokens=True)
    assert set(info.value.errors) == {"temperature", "max_tokens"}
    assert isinstance(info.value, StoreError)
    assert "temperature" in str(info.value)
    assert store.get_agent_by_name("Broken") is None
    with pytest.raises(ValidationError):
        store.update_agent(agent.id, name="")
    assert store.get_agent(agent.id).name == "Valid"
    assert len(store.agent_versions(agent.id)) == 1


# --- templates -------------------------------------------------------------------------------


def test_the_built_in_templates_are_valid_agents(store):
    names = list_templates()
    assert {"assistant", "coder", "writer", "reviewer"} <= set(names)
    for name in names:
        fields = load_template(name)
        fields["name"] = f"From {name}"
        assert store.validate_agent_fields(fields) == {}, name
        assert store.create_agent(**fields).instructions


def test_an_unknown_template_names_the_ones_there_are():
    with pytest.raises(ValueError, match="coder"):
        load_template("nope")


# --- tools: servers, allowed tools, approval -------------------------------------------------


def test_an_agent_has_tool_fields_with_defaults_in_its_versions(store):
    agent = store.create_agent("Tooler")
    assert (agent.mcp_servers, agent.allowed_tools, agent.tool_approval) == ([], None, "ask")
    agent = store.update_agent(agent.id, mcp_servers=[" time ", "docs", "time"],
                               allowed_tools=["time.now"], tool_approval="auto")
    assert (agent.mcp_servers, agent.allowed_tools, agent.tool_approval) == (
        ["time", "docs"], ["time.now"], "auto")
    assert store.get_agent(agent.id).mcp_servers == ["time", "docs"]
    latest, first = store.agent_versions(agent.id)
    assert latest.data["mcp_servers"] == ["time", "docs"] and first.data["tool_approval"] == "ask"
    restored = store.restore_agent_version(agent.id, 1)
    assert (restored.mcp_servers, restored.allowed_tools, restored.tool_approval) == (
        [], None, "ask")
    # From a form: names as text.
    assert store.update_agent(agent.id, mcp_servers="time, docs").mcp_servers == ["time", "docs"]


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"tool_approval": "always"}, "tool_approval", "must be one of ask, auto"),
        ({"mcp_servers": ["time", ""]}, "mcp_servers", "none of them empty"),
        ({"mcp_servers": [3]}, "mcp_servers", "none of them empty"),
        ({"mcp_servers": {"time": 1}}, "mcp_servers", "must be a list of names"),
        ({"allowed_tools": ["time.now", " "]}, "allowed_tools", "none of them empty"),
        ({"allowed_tools": 7}, "allowed_tools", "must be a list of names"),
    ],
)
def test_bad_tool_fields_are_refused_with_a_reason(store, fields, field, reason):
    assert reason in store.validate_agent_fields(fields)[field]
    with pytest.raises(ValidationError):
        store.create_agent("Bad", **fields)


def test_a_restored_version_from_before_tools_has_no_tools(store):
    agent = store.create_agent("Old", mcp_servers=["time"])
    # A version saved by the release before tool fields existed.
    data = json.loads(store.db.execute(
        "SELECT data FROM agent_versions WHERE agent_id = ?", [agent.id]).fetchone()[0])
    for field in ("mcp_servers", "allowed_tools", "tool_approval"):
        del data[field]
    store.db.execute(
        "UPDATE agent_versions SET data = ? WHERE agent_id = ?", [json.dumps(data), agent.id])
    assert store.restore_agent_version(agent.id, 1).mcp_servers == []


def test_always_allowed_tools_are_kept_per_agent_and_revocable(store):
    agent, other = store.create_agent("A"), store.create_agent("B")
    store.allow_tool(agent.id, "time.now")
    store.allow_tool(agent.id, "time.now")  # twice is once
    store.allow_tool(agent.id, "docs.search")
    assert store.allowed_tools_for(agent.id) == {"time.now", "docs.search"}
    assert store.allowed_tools_for(other.id) == set()
    copy = store.duplicate_agent(agent.id)
    assert store.allowed_tools_for(copy.id) == {"time.now", "docs.search"}
    store.revoke_tool(agent.id, "time.now")
    store.revoke_tool(agent.id, "never.allowed")
    assert store.allowed_tools_for(agent.id) == {"docs.search"}
    with pytest.raises(StoreError):
        store.allow_tool(9999, "time.now")
    store.delete_agent(agent.id)
    assert store.db.execute(
        "SELECT count(*) FROM agent_allowed_tools WHERE agent_id = ?", [agent.id]
    ).fetchone()[0] == 0
