"""`agentterm ask` on the engine, as subprocesses: what goes to stdout and stderr, exit codes, what is stored."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from agentterm.store import Store
from tests.conftest import TEST_KEY
from tests.openai_responses import DONE, Events, chunk
from tests.openai_server import Error, Hang, Stream


@pytest.fixture
def env(db_path, config_path):
    return {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path)}


def ask(env, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    # A session of its own: no controlling terminal, as under cron or in a pipeline.
    result = subprocess.run([sys.executable, "-m", "agentterm", "ask", "--no-title", *args], input=stdin,
                            capture_output=True, env=env, timeout=60, start_new_session=True)
    err = result.stderr.decode(errors="replace")
    assert "Traceback" not in err and TEST_KEY not in err + result.stdout.decode(errors="replace")
    return result


def error_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.decode().splitlines() if line.strip()]
    assert result.returncode != 0 and len(lines) == 1, (result.returncode, lines)
    assert lines[0].startswith("agentterm: error: ")
    return lines[0]


def rows(db_path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


def thinking_then_text() -> Events:
    return Events([chunk({"role": "assistant", "content": ""}),
                   chunk({"reasoning_content": "Pondering deeply."}),
                   chunk({"content": "The answer."}), chunk(None, "stop"), DONE])


def tool_calls_only() -> Events:
    call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "ls", "arguments": "{}"}}
    return Events([chunk({"role": "assistant", "tool_calls": [call]}), chunk(None, "tool_calls"), DONE])


def test_thinking_is_not_mixed_into_the_answer_on_stdout(env, server, db_path):
    server.script(thinking_then_text())

    result = ask(env, "think first")

    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().strip() == "The answer."
    assert b"Pondering" not in result.stderr  # stderr is not a terminal: no thinking there either


def test_a_stream_of_tool_calls_only_says_so_and_exits_non_zero(env, server, db_path):
    server.script(tool_calls_only())

    result = ask(env, "list files")

    assert "none are available" in error_line(result)
    assert rows(db_path, "SELECT role, status FROM messages ORDER BY id")[0] == ("user", "complete")
    assert not rows(db_path, "SELECT id FROM messages WHERE status = 'streaming'")


def test_an_answer_with_no_text_says_so_and_exits_non_zero(env, server, db_path):
    server.script(Events([chunk({"role": "assistant", "content": ""}), chunk(None, "stop"), DONE]))

    result = ask(env, "say nothing")

    assert "empty answer" in error_line(result)
    assert rows(db_path, "SELECT content FROM messages WHERE role = 'user'") == [("say nothing",)]


@pytest.mark.parametrize("where", ["stdin", "argv"])
def test_a_prompt_that_is_not_utf8_is_one_line_and_stores_nothing(env, server, db_path, where):
    Store(db_path).close()
    before = rows(db_path, "SELECT count(*) FROM conversations")
    if where == "stdin":
        result = ask(env, "-", stdin=b"caf\xe9\n")
    else:
        result = subprocess.run([os.fsencode(sys.executable), b"-m", b"agentterm", b"ask", b"caf\xe9"],
                                capture_output=True, env=env, timeout=60, start_new_session=True)
        assert b"Traceback" not in result.stderr
    line = error_line(result)
    assert "UTF-8" in line and result.returncode == 2
    assert rows(db_path, "SELECT count(*) FROM conversations") == before
    assert rows(db_path, "SELECT count(*) FROM messages") == [(0,)]
    assert server.requests == []


@pytest.mark.parametrize("status", ["paused", "inactive"])
def test_a_paused_or_inactive_agent_refuses_with_one_line_and_makes_nothing(env, server, db_path, status):
    store = Store(db_path)
    agent = store.create_agent("Napper")
    store.set_agent_status(agent.id, status)
    store.close()

    line = error_line(ask(env, "-a", "Napper", "hello"))

    assert "Napper" in line and status in line and "active" in line
    assert rows(db_path, "SELECT count(*) FROM conversations") == [(0,)]
    assert server.requests == []


def test_a_failed_retry_keeps_the_answer_and_a_good_one_keeps_it_as_a_variant(env, server, db_path):
    server.script(Stream(text="First answer."), Error(500, "down"), Stream(text="Second answer."))
    assert ask(env, "hello").returncode == 0

    def shown() -> list[str]:
        store = Store(db_path)
        [conversation] = store.list_conversations()
        try:
            return [m.content for m in store.all_messages(conversation.id)]
        finally:
            store.close()

    def kept() -> list[tuple]:
        return rows(db_path, "SELECT content, status, superseded FROM messages WHERE role = 'assistant' ORDER BY id")

    failed = ask(env, "--retry")
    assert "500" in error_line(failed)
    # The failed try is kept aside (browsable); the first answer is still the one shown.
    assert kept() == [("First answer.", "complete", 0), ("", "error", 1)]
    assert shown() == ["hello", "First answer."]

    assert ask(env, "--retry").returncode == 0
    assert kept() == [("First answer.", "complete", 1), ("", "error", 1), ("Second answer.", "complete", 0)]
    assert shown() == ["hello", "Second answer."]
    assert server.requests[-1]["messages"][-1] == {"role": "user", "content": "hello"}
    assert "First answer." not in str(server.requests[-1]["messages"])


def test_thinking_is_dimmed_on_a_terminal(env, server):
    from tests.reliability_helpers import PtyProcess

    server.script(thinking_then_text())
    proc = PtyProcess([sys.executable, "-m", "agentterm", "ask", "--no-title", "think first"], env)
    try:
        proc.wait_for(b"The answer.")
        assert proc.proc.wait(timeout=30) == 0
    finally:
        proc.close()
    assert b"\x1b[2mPondering deeply." in proc.output
    assert proc.output.index(b"Pondering") < proc.output.index(b"The answer.")


def test_a_key_the_server_echoes_in_the_answer_is_neither_printed_nor_stored(env, server, db_path):
    server.script(Stream(text=f"Your key is {TEST_KEY}, keep it safe.", chunk_size=3))

    result = ask(env, "what is my key?")  # ask() checks stdout and stderr for the key

    assert result.returncode == 0
    assert "[key hidden], keep it safe." in result.stdout.decode()
    assert not rows(db_path, f"SELECT id FROM messages WHERE content LIKE '%{TEST_KEY}%'")


def test_ask_waits_for_a_hanging_title_no_longer_than_its_timeout(env, server, db_path, config_path):
    # A one-slot local server still busy with the title must not hold ask's exit (issue 13.5):
    # the title asks for a few tokens, gives up after title_timeout, and the prompt's line stands.
    config_path.write_text(config_path.read_text() + "title_timeout = 1\n", encoding="utf-8")
    server.script(Stream("The answer."), Hang(120))
    result = subprocess.run([sys.executable, "-m", "agentterm", "ask", "Name me please"],
                            capture_output=True, env=env, timeout=60, start_new_session=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().strip() == "The answer."
    # ask left the title's request (the server's own wait ends after 30 s, and counts no departure)
    assert server.client_disconnected.wait(30)
    assert server.requests[1]["max_tokens"] == 30 and server.requests[1]["model"] == "test-title-model"
    assert rows(db_path, "SELECT title, title_source FROM conversations") == [("Name me please", "auto")]
