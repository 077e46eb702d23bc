"""The app's conversation actions as commands: rename, pin, archive, tags, clear, move, delete a message, copy."""

from __future__ import annotations

import pytest

from agentterm.store import Store
from tests.cli_helpers import as_json, cli, one_error  # noqa: F401 - the fixture


@pytest.fixture
def chat(db_path):
    with Store(db_path) as store:
        conversation = store.create_conversation(store.default_agent().id, "First title")
        store.add_message(conversation.id, "user", "show me code")
        answer = store.add_message(conversation.id, "assistant", "Here:\n\n```python\nprint('hi')\n```\n\nDone.")
        return conversation.id, answer.id


def get(db_path, cid):
    with Store(db_path) as store:
        return store.get_conversation(cid), [m.content for m in store.all_messages(cid)]


def test_rename(cli, chat, db_path):
    cid, _ = chat
    assert cli("chats", "rename", str(cid), "A", "better", "title").stdout.strip() == f"Renamed {cid}: A better title"
    conversation, _ = get(db_path, cid)
    assert (conversation.title, conversation.title_source) == ("A better title", "user")
    assert as_json(cli("chats", "rename", str(cid), "Again", "--json"))["title"] == "Again"
    assert "title is empty" in one_error(cli("chats", "rename", str(cid), "  ", check=False))


def test_pin_unpin_archive_unarchive(cli, chat, db_path):
    cid, _ = chat
    cli("chats", "pin", str(cid))
    assert get(db_path, cid)[0].pinned
    cli("chats", "unpin", str(cid))
    assert not get(db_path, cid)[0].pinned
    [archived] = as_json(cli("chats", "archive", str(cid), "--json"))
    assert archived["archived_at"] and [c["id"] for c in as_json(cli("chats", "list", "--view", "archive", "--json"))] == [cid]
    cli("chats", "unarchive", str(cid))
    assert get(db_path, cid)[0].archived_at is None


def test_an_unknown_id_among_many_changes_none(cli, chat, db_path):
    cid, _ = chat
    line = one_error(cli("chats", "pin", str(cid), "999", check=False))
    assert "no conversation 999" in line
    assert not get(db_path, cid)[0].pinned


def test_tag_and_untag(cli, chat, db_path):
    cid, _ = chat
    cli("chats", "tag", str(cid), "python", "work,ideas")
    assert get(db_path, cid)[0].tags == ["ideas", "python", "work"]
    cli("chats", "tag", str(cid), "Python")  # one tag, whatever its case
    assert as_json(cli("chats", "untag", str(cid), "WORK", "--json"))["tags"] == ["ideas", "python"]
    assert "has no tag nope" in one_error(cli("chats", "untag", str(cid), "nope", check=False))


def test_clear_asks_for_yes_then_keeps_the_conversation(cli, chat, db_path):
    cid, _ = chat
    line = one_error(cli("chats", "clear", str(cid), check=False))
    assert "--yes" in line and "2 message(s)" in line
    assert len(get(db_path, cid)[1]) == 2
    cli("chats", "clear", str(cid), "--yes")
    conversation, messages = get(db_path, cid)
    assert conversation is not None and messages == []


def test_move_to_another_agent_and_to_none(cli, chat, db_path):
    cid, _ = chat
    with Store(db_path) as store:
        store.create_agent("Other")
    assert as_json(cli("chats", "move", str(cid), "Other", "--json"))["agent_name"] == "Other"
    assert as_json(cli("chats", "move", str(cid), "--none", "--json"))["agent_id"] is None
    assert "no agent named 'Ghost'" in one_error(cli("chats", "move", str(cid), "Ghost", check=False))


def test_rm_message(cli, chat, db_path):
    cid, answer = chat
    assert f"[message {answer}]" in cli("chats", "show", str(cid), "--ids").stdout
    cli("chats", "rm-message", str(answer))
    assert get(db_path, cid)[1] == ["show me code"]
    assert "no message" in one_error(cli("chats", "rm-message", str(answer), check=False))


def test_copy_prints_the_conversation_a_message_the_last_answer_or_its_code(cli, chat):
    cid, answer = chat
    assert cli("chats", "copy", str(cid)).stdout.startswith("---\n")
    assert cli("chats", "copy", str(cid), "--last").stdout.startswith("Here:")
    assert cli("chats", "copy", str(cid), "--message", str(answer), "--code").stdout == "print('hi')\n"
    assert "has no message 999" in one_error(cli("chats", "copy", str(cid), "--message", "999", check=False))


def test_copy_to_a_clipboard_that_is_not_there_is_one_clear_line(cli, chat, monkeypatch):
    cid, _ = chat
    for var in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")  # the CLI runs by sys.executable's full path
    line = one_error(cli("chats", "copy", str(cid), "--clipboard", check=False))
    assert "no clipboard tool" in line


def test_fork_keeps_the_history_up_to_a_message_and_links_the_parent(cli, chat, db_path):
    cid, answer = chat
    with Store(db_path) as store:
        store.add_message(cid, "user", "and then?")
        first = store.all_messages(cid)[0].id
    forked = as_json(cli("chats", "fork", str(cid), "--at", str(answer), "--json"))
    assert forked["id"] != cid and forked["parent_id"] == cid
    assert get(db_path, forked["id"])[1] == ["show me code", get(db_path, cid)[1][1]]
    assert len(get(db_path, cid)[1]) == 3  # the parent is as it was
    assert f"forked from conversation {cid}" in cli("chats", "show", str(forked["id"])).stdout
    assert "Forked" in cli("chats", "fork", str(cid), "--at", str(first)).stdout
    assert "has no message 999" in one_error(cli("chats", "fork", str(cid), "--at", "999", check=False))
    assert "has no message" in one_error(cli("chats", "fork", str(forked["id"]), "--at", str(first), check=False))


def test_override_sets_and_clears_the_conversations_own_settings(cli, chat, db_path, tmp_path):
    cid, _ = chat
    prompt = tmp_path / "system.md"
    prompt.write_text("Answer in French.")
    line = cli("chats", "override", str(cid), "--model", "gpt-big", "--instructions-file", str(prompt)).stdout
    assert line.strip() == f"{cid} answers with model gpt-big, its own instructions."
    conversation, _ = get(db_path, cid)
    assert (conversation.model, conversation.instructions_override) == ("gpt-big", "Answer in French.")
    assert f"({cid} answers with model gpt-big" in cli("chats", "show", str(cid)).stdout
    cli("chats", "override", str(cid), "--model", "")
    assert get(db_path, cid)[0].model is None and get(db_path, cid)[0].instructions_override
    cli("chats", "override", str(cid), "--clear")
    assert get(db_path, cid)[0].instructions_override is None
    assert "no provider 'nowhere'" in one_error(cli("chats", "override", str(cid), "--provider", "nowhere",
                                                    check=False))
    assert "nothing to change" in one_error(cli("chats", "override", str(cid), check=False))
