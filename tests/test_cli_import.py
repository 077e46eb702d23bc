"""`chats import` of hostile and real-world ChatGPT exports: all the good ones or one clear line, never twice."""

from __future__ import annotations

import json

import pytest

from agentterm.store import Store
from tests.cli_helpers import as_json, cli, one_error  # noqa: F401 - the fixture


def chatgpt(title: str, *texts: str, id: str | None = None, **fields) -> dict:
    """A ChatGPT conversation object, alternating user and assistant."""
    mapping = {"root": {"id": "root", "message": None, "parent": None, "children": ["n0"]}}
    for number, text in enumerate(texts):
        mapping[f"n{number}"] = {
            "id": f"n{number}", "parent": "root" if number == 0 else f"n{number - 1}",
            "children": [f"n{number + 1}"] if number + 1 < len(texts) else [],
            "message": {"author": {"role": "user" if number % 2 == 0 else "assistant"},
                        "content": {"content_type": "text", "parts": [text]}, "create_time": 1700000000 + number},
        }
    return {"id": id or f"id-{title}", "title": title, "create_time": 1700000000,
            "current_node": f"n{len(texts) - 1}", "mapping": mapping, **fields}


def write(tmp_path, data, name="conversations.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def titles(db_path, view="all") -> list[str]:
    with Store(db_path) as store:
        return sorted(c.title for c in store.list_conversations(view=view))


def broken(kind: str) -> dict:
    data = chatgpt("Broken", "question", "answer")
    node = data["mapping"]["n0"]
    if kind == "node":
        data["mapping"]["n0"] = 42
    elif kind == "author":
        node["message"]["author"] = "user"
    elif kind == "content":
        node["message"]["content"] = ["a", "list"]
    elif kind == "parts":
        node["message"]["content"]["parts"] = {"not": "a list"}
    elif kind == "mapping":
        data["mapping"] = ["not", "an", "object"]
    elif kind == "current_node":
        data["current_node"] = ["unhashable"]
    return data


@pytest.mark.parametrize("kind", ["node", "author", "content", "parts", "mapping"])
def test_a_conversation_of_the_wrong_shape_is_skipped_with_why_and_the_good_ones_imported(cli, tmp_path,
                                                                                          db_path, kind):
    source = write(tmp_path, [chatgpt("First", "a", "b"), broken(kind), chatgpt("Third", "c", "d")])
    result = cli("chats", "import", source, check=False)
    line = one_error(result)
    assert "skipped 1 of 3" in line and "item 2" in line and "'Broken'" in line
    assert "2 other(s) were imported" in line
    assert titles(db_path) == ["First", "Third"]


def test_a_current_node_of_the_wrong_type_falls_back_to_the_newest_branch(cli, tmp_path, db_path):
    cli("chats", "import", write(tmp_path, [broken("current_node")]))
    with Store(db_path) as store:
        [conversation] = store.list_conversations(view="all")
        assert [m.content for m in store.all_messages(conversation.id)] == ["question", "answer"]


def test_a_file_of_nothing_but_bad_conversations_imports_nothing_and_says_so_once(cli, tmp_path, db_path):
    line = one_error(cli("chats", "import", write(tmp_path, [broken("author"), 7, "text"]), check=False))
    assert "skipped 3 of 3" in line and "nothing was imported" in line
    assert titles(db_path) == []


def test_huge_numbers_are_read_as_no_value(cli, tmp_path, db_path):
    huge = "9" * 5000
    data = json.dumps([chatgpt("Huge", "q", "a")]).replace('"create_time": 1700000000,', f'"create_time": {huge},', 1)
    agentterm = {"format": "agentterm", "version": 1, "conversation": {"title": "Tokens"},
                 "messages": [{"role": "assistant", "content": "x", "prompt_tokens": 10**30,
                               "completion_tokens": -(10**40)}]}
    cli("chats", "import", write(tmp_path, data))
    cli("chats", "import", write(tmp_path, agentterm, "agentterm.json"))
    with Store(db_path) as store:
        assert sorted(c.title for c in store.list_conversations(view="all")) == ["Huge", "Tokens"]
        tokens = next(c for c in store.list_conversations(view="all") if c.title == "Tokens")
        [message] = store.all_messages(tokens.id)
        assert message.prompt_tokens is None and message.completion_tokens is None


def test_deep_nesting_is_one_clear_line_and_nothing_imported(cli, tmp_path, db_path):
    deep = "[" * 100_000 + "]" * 100_000
    line = one_error(cli("chats", "import", write(tmp_path, deep), check=False))
    assert "nested too deeply" in line and "nothing was imported" in line

    nested = json.dumps([chatgpt("Good", "q", "a")])[:-1] + ", " + "{\"a\": " * 5000 + "1" + "}" * 5000 + "]"
    line = one_error(cli("chats", "import", write(tmp_path, nested, "nested.json"), check=False))
    assert "nested too deeply" in line
    assert titles(db_path) == []


def test_a_voice_conversation_imports_its_transcripts(cli, tmp_path, db_path):
    data = chatgpt("Voice", "placeholder", "placeholder")
    for number, (direction, text) in enumerate([("in", "what is the time"), ("out", "half past nine")]):
        data["mapping"][f"n{number}"]["message"]["content"] = {
            "content_type": "multimodal_text",
            "parts": [{"content_type": "audio_transcription", "text": text, "direction": direction},
                      {"content_type": "audio_asset_pointer", "asset_pointer": "sediment://file"}]}
    cli("chats", "import", write(tmp_path, [data]))
    with Store(db_path) as store:
        [conversation] = store.list_conversations(view="all")
        assert [(m.role, m.content) for m in store.all_messages(conversation.id)] == [
            ("user", "what is the time"), ("assistant", "half past nine")]


def test_an_archived_chatgpt_conversation_arrives_archived(cli, tmp_path, db_path):
    cli("chats", "import", write(tmp_path, [chatgpt("Old", "q", "a", is_archived=True), chatgpt("New", "q", "a")]))
    assert titles(db_path, "archive") == ["Old"]
    assert titles(db_path, "inbox") == ["New"]


def test_importing_a_file_twice_skips_what_is_there_and_says_so(cli, tmp_path, db_path):
    source = write(tmp_path, [chatgpt("One", "q", "a"), chatgpt("Two", "q", "a")])
    first = as_json(cli("chats", "import", source, "--json"))
    assert [c["title"] for c in first] == ["One", "Two"]

    again = cli("chats", "import", source, "--json")
    assert as_json(again) == []
    assert "skipped 2 conversation(s) imported before" in again.stderr and "--duplicate" in again.stderr
    assert titles(db_path) == ["One", "Two"]

    cli("chats", "import", source, "--duplicate")
    assert titles(db_path) == ["One", "One", "Two", "Two"]


def test_an_agentterm_export_imported_twice_is_skipped_too(cli, tmp_path, db_path):
    with Store(db_path) as store:
        conversation = store.create_conversation(None, "Mine")
        store.add_message(conversation.id, "user", "hello")
    exported = tmp_path / "mine.json"
    cli("chats", "export", str(conversation.id), "-f", "json", "-o", str(exported))
    cli("chats", "import", str(exported))
    again = cli("chats", "import", str(exported))
    assert "imported before" in again.stderr
    assert titles(db_path) == ["Mine", "Mine"]


def test_a_purged_import_can_be_imported_again(cli, tmp_path, db_path):
    source = write(tmp_path, [chatgpt("Gone", "q", "a")])
    [imported] = as_json(cli("chats", "import", source, "--json"))
    cli("chats", "rm", str(imported["id"]))
    assert "(in the trash)" in cli("chats", "import", source).stderr
    cli("chats", "purge", str(imported["id"]))
    cli("chats", "import", source)
    assert titles(db_path) == ["Gone"]


@pytest.mark.parametrize("content,words", [
    ("", "not valid JSON"),
    ("[]", "holds no conversations"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_a_file_that_is_no_export_is_one_clear_line(cli, tmp_path, content, words):
    path = tmp_path / "x.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert words in one_error(cli("chats", "import", str(path), check=False))


def test_importing_a_directory_is_one_clear_line(cli, tmp_path):
    assert "is a directory" in one_error(cli("chats", "import", str(tmp_path), check=False))
