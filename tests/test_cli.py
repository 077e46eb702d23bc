"""The command line end to end, as subprocesses against the loopback OpenAI server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from agentterm.store import Store
from tests.conftest import TEST_KEY
from tests.openai_server import Error, Stream


@pytest.fixture
def run(db_path, config_path):
    def run(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path)}
        result = subprocess.run(
            [sys.executable, "-m", "agentterm", *args],
            input=stdin, capture_output=True, text=True, env=env, timeout=60,
        )
        if check:
            assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        assert TEST_KEY not in result.stdout + result.stderr
        return result

    return run


def open_store(db_path) -> Store:
    return Store(db_path)


def test_ask_streams_the_answer_and_stores_the_exchange(run, server, db_path):
    server.script(Stream(text="Hello from the test server."), Stream(text="Greeting Exchange"))

    result = run("ask", "hello")

    assert result.stdout.strip() == "Hello from the test server."
    store = open_store(db_path)
    [conversation] = store.list_conversations()
    assert conversation.title == "Greeting Exchange"
    assert [(m.role, m.content) for m in store.all_messages(conversation.id)] == [
        ("user", "hello"), ("assistant", "Hello from the test server.")]
    store.close()


def test_ask_continue_and_conversation_id_add_to_one_conversation(run, server, db_path):
    run("ask", "--no-title", "first")
    run("ask", "-c", "second")
    store = open_store(db_path)
    [conversation] = store.list_conversations()
    run("ask", "--conversation", str(conversation.id), "third")
    assert store.count_messages(conversation.id) == 6
    assert server.requests[-1]["messages"][-1] == {"role": "user", "content": "third"}
    assert [m["role"] for m in server.requests[-1]["messages"] if m["role"] != "system"] == ["user", "assistant"] * 2 + ["user"]
    store.close()


def test_ask_reads_the_prompt_from_stdin(run, server):
    run("ask", "--no-title", "-", stdin="line one\nline two\n")
    assert server.requests[-1]["messages"][-1]["content"] == "line one\nline two\n"


def test_ask_with_an_agent_and_a_model(run, server, db_path):
    store = open_store(db_path)
    store.create_agent("Terse", instructions="Be brief.")
    store.close()
    run("ask", "--no-title", "-a", "Terse", "-m", "other-model", "hi")
    body = server.requests[-1]
    assert body["model"] == "other-model"
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}


def test_a_server_error_exits_non_zero_with_one_clear_line(run, server, db_path):
    server.script(Error(500, "upstream exploded"))
    result = run("ask", "--no-title", "hello", check=False)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("agentterm: error:")
    store = open_store(db_path)
    [conversation] = store.list_conversations()
    assert store.all_messages(conversation.id)[0].content == "hello"
    store.close()


def test_an_unknown_agent_is_one_clear_line(run):
    result = run("ask", "-a", "Nobody", "hi", check=False)
    assert result.returncode == 1
    assert "no agent named 'Nobody'" in result.stderr


def test_an_id_beyond_64_bits_is_not_found_and_a_number_too_large_to_store_is_one_line(run):
    huge = "9" * 23  # sqlite3 raises OverflowError for it
    for args in (["chats", "show", huge], ["chats", "rm", huge], ["chats", "rm-message", huge],
                 ["tokens", "revoke", huge]):
        result = run(*args, check=False)
        assert result.returncode != 0 and "no " in result.stderr.lower(), result.stderr
        assert "bug" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = run("agents", "edit", "Assistant", "--max-tokens", huge, check=False)
    assert result.returncode != 0 and "too large" in result.stderr and "bug" not in result.stderr


def test_model_text_escape_sequences_never_reach_the_terminal(run, server):
    server.script(Stream(text="safe\x1b]52;c;ZXZpbA==\x07 text\x1b[2J\x9b31m done", chunk_size=3))
    result = run("ask", "--no-title", "hi")
    assert "\x1b" not in result.stdout and "\x9b" not in result.stdout and "\x07" not in result.stdout
    assert "safe" in result.stdout and "done" in result.stdout


def test_chats_list_search_show_and_export(run, server, db_path, tmp_path):
    server.script(Stream(text="Photosynthesis turns light into sugar."), Stream(text="Plant Energy Basics"))
    run("ask", "explain photosynthesis")

    listed = json.loads(run("chats", "list", "--json").stdout)
    assert [c["title"] for c in listed] == ["Plant Energy Basics"]
    cid = listed[0]["id"]

    hits = json.loads(run("chats", "search", "sugar", "--json").stdout)
    assert hits and hits[0]["conversation_id"] == cid

    assert "Photosynthesis turns light" in run("chats", "show", str(cid)).stdout

    markdown = run("chats", "export", str(cid)).stdout
    assert markdown.startswith("---\n") and '"Plant Energy Basics"' in markdown
    assert "## Assistant" in markdown

    target = tmp_path / "chat.json"
    run("chats", "export", str(cid), "--format", "json", "-o", str(target))
    exported = json.loads(target.read_text())
    assert exported["format"] == "agentterm"
    assert [m["role"] for m in exported["messages"]] == ["user", "assistant"]


def test_export_then_import_round_trips(run, server, tmp_path, db_path):
    server.script(Stream(text="Forty-two."), Stream(text="The Answer"))
    run("ask", "what is the answer")
    cid = json.loads(run("chats", "list", "--json").stdout)[0]["id"]
    target = tmp_path / "export.json"
    run("chats", "export", str(cid), "-f", "json", "-o", str(target))

    imported = json.loads(run("chats", "import", str(target), "--json").stdout)

    assert imported[0]["title"] == "The Answer" and imported[0]["id"] != cid
    store = open_store(db_path)
    assert [m.content for m in store.all_messages(imported[0]["id"])] == ["what is the answer", "Forty-two."]
    store.close()


def test_import_chatgpt_conversations_json(run, tmp_path, db_path):
    export = [{
        "title": "From ChatGPT",
        "create_time": 1700000000.0,
        "current_node": "c",
        "mapping": {
            "root": {"id": "root", "message": None, "parent": None, "children": ["a"]},
            "a": {"id": "a", "parent": "root", "children": ["b"], "message": {
                "author": {"role": "user"}, "content": {"content_type": "text", "parts": ["Hi GPT"]},
                "create_time": 1700000001.0}},
            "b": {"id": "b", "parent": "a", "children": ["c"], "message": {
                "author": {"role": "assistant"}, "content": {"content_type": "text", "parts": ["Hello human"]},
                "create_time": 1700000002.0}},
            "c": {"id": "c", "parent": "b", "children": [], "message": {
                "author": {"role": "user"}, "content": {"content_type": "text", "parts": ["Bye"]},
                "create_time": 1700000003.0}},
        },
    }]
    source = tmp_path / "conversations.json"
    source.write_text(json.dumps(export))

    imported = json.loads(run("chats", "import", str(source), "--json").stdout)

    assert imported[0]["title"] == "From ChatGPT"
    store = open_store(db_path)
    assert [(m.role, m.content) for m in store.all_messages(imported[0]["id"])] == [
        ("user", "Hi GPT"), ("assistant", "Hello human"), ("user", "Bye")]
    store.close()


def test_import_of_a_broken_file_names_the_line(run, tmp_path):
    source = tmp_path / "broken.json"
    source.write_text('{\n  "format": "agentterm",\n  oops\n}')
    result = run("chats", "import", str(source), check=False)
    assert result.returncode == 1
    assert "line 3" in result.stderr


def test_rm_restore_and_purge(run, server, db_path):
    run("ask", "--no-title", "to be deleted")
    cid = json.loads(run("chats", "list", "--json").stdout)[0]["id"]

    run("chats", "rm", str(cid))
    assert json.loads(run("chats", "list", "--json").stdout) == []
    assert [c["id"] for c in json.loads(run("chats", "list", "--view", "trash", "--json").stdout)] == [cid]

    run("chats", "restore", str(cid))
    assert [c["id"] for c in json.loads(run("chats", "list", "--json").stdout)] == [cid]

    refused = run("chats", "purge", str(cid), check=False)
    assert refused.returncode == 1 and "not in the trash" in refused.stderr
    run("chats", "rm", str(cid))
    run("chats", "purge", str(cid))
    assert json.loads(run("chats", "list", "--view", "all", "--json").stdout) == []


def test_agent_export_import_round_trip(run, db_path, tmp_path):
    store = open_store(db_path)
    store.create_agent("Reviewer", description="Reviews diffs", instructions="Be kind.\nBe exact.",
                       model="m-1", temperature=0.2, top_p=0.9, max_tokens=500, extra={"seed": 1})
    store.close()
    target = tmp_path / "reviewer.toml"

    run("agents", "export", "Reviewer", "-o", str(target))
    clash = run("agents", "import", str(target), check=False)
    run("agents", "import", str(target), "--name", "Reviewer 2")

    assert clash.returncode == 1 and "already exists" in clash.stderr
    agents = {a["name"]: a for a in json.loads(run("agents", "list", "--json").stdout)}
    copy, original = agents["Reviewer 2"], agents["Reviewer"]
    for field in ("description", "instructions", "model", "temperature", "top_p", "max_tokens", "extra"):
        assert copy[field] == original[field], field


def test_agents_rm_keeps_conversations_by_default(run, server, db_path):
    store = open_store(db_path)
    store.create_agent("Temp")
    store.close()
    run("ask", "--no-title", "-a", "Temp", "hi")

    run("agents", "rm", "Temp")

    [conversation] = json.loads(run("chats", "list", "--json").stdout)
    assert conversation["agent_id"] is None and conversation["agent_name"] == "Temp"


def test_doctor_reaches_the_provider_and_lists_models(run, server):
    server.models = ["test-model", "test-title-model", "/models/llama-3.gguf"]
    result = run("doctor")
    assert "ok   provider local (default)" in result.stdout
    assert "/models/llama-3.gguf" in result.stdout


def test_doctor_reports_an_unreachable_provider(run, config_path):
    # Port 9 (discard) has no listener here: the connection is refused at once.
    text = re.sub(r'base_url = ".*"', 'base_url = "http://127.0.0.1:9/v1"', config_path.read_text())
    config_path.write_text(text)
    result = run("doctor", "--timeout", "5", check=False)
    assert result.returncode == 1
    assert "FAIL provider local" in result.stdout


def test_a_malformed_config_names_the_line(run, config_path):
    config_path.write_text('default_provider = "local"\n[providers.local\n')
    result = run("chats", "list", check=False)
    assert result.returncode == 2
    assert "line 2" in result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_global_flags_work_before_and_after_the_subcommand(run, tmp_path, where):
    missing = str(tmp_path / "no-such-config.toml")
    args = ["--config", missing, "chats", "list"] if where == "before" else ["chats", "list", "--config", missing]
    result = run(*args, check=False)
    assert result.returncode == 2
    assert "no-such-config.toml" in result.stderr

    other_db = tmp_path / "other.db"
    args = ["--db", str(other_db), "agents", "list"] if where == "before" else ["agents", "list", "--db", str(other_db)]
    run(*args)
    assert other_db.exists()


@pytest.mark.parametrize("args", [["chats", "list", "--json"], ["agents", "list"], ["ask", "--no-title", "hi"]])
def test_output_to_a_full_disk_is_one_clear_line(args, db_path, config_path, server):
    server.script(Stream(text="An answer long enough to be written."))
    env = {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path)}
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "agentterm", *args], stdout=full,
                                stderr=subprocess.PIPE, text=True, env=env, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == ["agentterm: error: could not write the output: No space left on device. "
                     "Check the free space where the output goes (or send it elsewhere with -o)."], lines
