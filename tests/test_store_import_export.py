"""Exporting and importing conversations: round trips, ChatGPT exports, bad files."""

from __future__ import annotations

import json

import pytest

from agentterm.store import Store, StoreError

# --- import and export -----------------------------------------------------------------------


def test_export_and_import_round_trip(store):
    agent = store.default_agent()
    conversation = store.create_conversation(agent.id)
    store.rename_conversation(conversation.id, "Round trip")
    store.set_tags(conversation.id, ["keep"])
    store.set_pinned(conversation.id, True)
    store.add_message(conversation.id, "system", "Be brief.")
    store.add_message(conversation.id, "user", "Hi")
    store.add_message(
        conversation.id,
        "assistant",
        "Hello!",
        model="m",
        agent_version=1,
        extra={"usage": {"total": 5}},
        prompt_tokens=3,
        completion_tokens=2,
    )
    data = store.export_conversation(conversation.id)
    assert (data["format"], data["version"]) == ("agentterm", 1)
    data = json.loads(json.dumps(data))  # as it goes through a file

    copy = store.import_conversation(data)
    assert copy.id != conversation.id
    assert (copy.title, copy.title_source, copy.tags, copy.pinned) == (
        "Round trip",
        "user",
        ["keep"],
        True,
    )
    assert (copy.agent_id, copy.agent_name) == (agent.id, "Assistant")
    assert (copy.message_count, copy.tokens) == (3, 5)
    assert copy.created_at == store.get_conversation(conversation.id).created_at
    strip = lambda m: (m.role, m.content, m.model, m.extra, m.created_at)  # noqa: E731
    assert [strip(m) for m in store.all_messages(copy.id)] == [
        strip(m) for m in store.all_messages(conversation.id)
    ]
    with pytest.raises(StoreError):
        store.export_conversation(9999)


def test_an_import_into_another_store_keeps_the_agent_name(store, tmp_path):
    conversation = store.create_conversation(store.create_agent("Elsewhere").id)
    data = store.export_conversation(conversation.id)
    with Store(tmp_path / "other.db") as other:
        copy = other.import_conversation(data)
        assert (copy.agent_id, copy.agent_name) == (None, "Elsewhere")


def chatgpt_conversation() -> dict:
    """One conversation from ChatGPT's conversations.json, with an edited prompt (a branch)."""

    def node(id, parent, children, role=None, text=None, t=None, **metadata):
        message = None
        if role:
            message = {
                "id": id,
                "author": {"role": role},
                "create_time": t,
                "content": {"content_type": "text", "parts": [text]},
                "metadata": metadata,
            }
        return {"id": id, "message": message, "parent": parent, "children": children}

    return {
        "title": "Capital of France",
        "create_time": 1700000000.0,
        "update_time": 1700000100.5,
        "current_node": "a2",
        "mapping": {
            "root": node("root", None, ["sys"]),
            "sys": node("sys", "root", ["u1", "u1b"], "system", "", 1700000000.0),
            "u1": node("u1", "sys", ["a1"], "user", "Capital of Frnace?", 1700000001.0),
            "a1": node("a1", "u1", [], "assistant", "Did you mean France?", 1700000002.0),
            "u1b": node("u1b", "sys", ["tool"], "user", "Capital of France?", 1700000050.0),
            "tool": node("tool", "u1b", ["a2"], "tool", "browsing...", 1700000051.0),
            "a2": node("a2", "tool", [], "assistant", "Paris.", 1700000100.5, model_slug="gpt-4o"),
        },
    }


def test_a_chatgpt_conversation_is_imported_along_its_current_branch(store):
    conversation = store.import_conversation(chatgpt_conversation())
    assert conversation.title == "Capital of France"
    assert conversation.created_at.timestamp() == 1700000000.0
    assert conversation.last_activity_at.timestamp() == 1700000100.5
    messages = store.all_messages(conversation.id)
    assert [(m.role, m.content) for m in messages] == [
        ("user", "Capital of France?"),
        ("assistant", "Paris."),
    ]
    assert messages[1].model == "gpt-4o"
    assert messages[0].created_at.timestamp() == 1700000050.0


def test_a_chatgpt_conversation_without_current_node_follows_the_newest_branch(store):
    data = chatgpt_conversation()
    del data["current_node"]
    conversation = store.import_conversation(data)
    assert [m.content for m in store.all_messages(conversation.id)] == [
        "Capital of France?",
        "Paris.",
    ]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"format": "something else"},
        {"format": "agentterm", "version": 2, "conversation": {}, "messages": []},
        {"format": "agentterm", "version": 1, "messages": [{"role": "narrator"}]},
        {"format": "agentterm", "version": 1, "messages": [{"role": "user", "content": 5}]},
        {"format": "agentterm", "version": 1, "messages": ["hello"]},
        {"format": "agentterm", "version": 1, "messages": {"role": "user"}},
    ],
)
def test_a_bad_import_is_refused_and_writes_nothing(store, data):
    with pytest.raises(StoreError, match="Cannot import"):
        store.import_conversation(data)
    assert store.count_conversations("all") == 0


def test_an_imported_streaming_answer_arrives_interrupted(store):
    data = {
        "format": "agentterm",
        "version": 1,
        "conversation": {"title": "x"},
        "messages": [{"role": "assistant", "content": "half", "status": "streaming"}],
    }
    conversation = store.import_conversation(data)
    [message] = store.all_messages(conversation.id)
    assert message.status == "interrupted"


def test_an_imported_answer_can_be_regenerated_as_a_variant(store):
    source = store.create_conversation(title="Round trip")
    store.add_message(source.id, "user", "Hi")
    store.add_message(source.id, "assistant", "Hello")
    store.add_message(source.id, "user", "Again")
    store.add_message(source.id, "assistant", "Hello again")
    imported = store.import_conversation(store.export_conversation(source.id))
    first, hello, again, hello_again = store.all_messages(imported.id)
    assert (hello.reply_to, hello_again.reply_to) == (first.id, again.id)
    assert store.new_variant(again.id) == 2


def test_a_chatgpt_conversation_with_no_text_is_refused_not_imported_empty(store):
    data = chatgpt_conversation()
    for node in data["mapping"].values():
        if node["message"]:
            node["message"]["content"] = {"content_type": "image_asset_pointer", "parts": [{"asset": "x"}]}
    with pytest.raises(StoreError, match="holds no text"):
        store.import_conversation(data)
    assert store.count_conversations("all") == 0
