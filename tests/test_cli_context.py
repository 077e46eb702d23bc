"""`ask` when the request would not fit the window (one line, then --drop-oldest / --compact), and
`chats compact`, the twin of the app's "Make room in the context": subprocesses on a real store."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from agentterm.store import Store
from tests.cli_helpers import one_error
from tests.conftest import TEST_KEY
from tests.openai_server import Stream


@pytest.fixture
def run(db_path, config_path):
    with config_path.open("a", encoding="utf-8") as out:
        out.write("context_window = 1000\n")

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path)}
        result = subprocess.run([sys.executable, "-m", "agentterm", *args], capture_output=True, text=True,
                                env=env, timeout=60, stdin=subprocess.DEVNULL)
        if check:
            assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr and TEST_KEY not in result.stdout + result.stderr
        return result

    return run


def long_conversation(db_path) -> int:
    with Store(db_path) as store:
        conversation = store.create_conversation(store.default_agent().id, "Long")
        for n in range(6):
            store.add_message(conversation.id, "user", f"question {n} " + "q" * 800)
            store.add_message(conversation.id, "assistant", f"answer {n} " + "a" * 800)
        return conversation.id


def test_ask_says_in_one_line_that_it_would_not_fit_and_sends_nothing(run, server, db_path):
    cid = long_conversation(db_path)
    line = one_error(run("ask", "--conversation", str(cid), "one more", check=False))
    assert "window of 1,000" in line and "--drop-oldest or --compact" in line
    assert not server.requests
    with Store(db_path) as store:
        assert store.count_messages(cid) == 12


def test_ask_drop_oldest_sends_the_newest_turns_and_says_so(run, server, db_path):
    cid = long_conversation(db_path)
    server.script(Stream("It fits."))
    result = run("ask", "--conversation", str(cid), "--drop-oldest", "one more")
    assert result.stdout.strip() == "It fits."
    assert "oldest turn(s) did not fit" in result.stderr and "stay in the conversation" in result.stderr
    sent = " ".join(str(m["content"]) for m in server.requests[-1]["messages"])
    assert "question 0" not in sent and "question 5" in sent
    with Store(db_path) as store:
        assert store.count_messages(cid) == 14


def test_chats_compact_summarises_all_but_the_newest_turn(run, server, db_path):
    cid = long_conversation(db_path)
    server.script(Stream("Six questions, six answers."))
    result = run("chats", "compact", str(cid))
    assert "The 5 oldest turn(s)" in result.stdout and "summarised into message" in result.stdout
    with Store(db_path) as store:
        summary = store.all_messages(cid)[-1]
        assert summary.role == "system" and summary.content == "Six questions, six answers."
        assert store.get_conversation(cid).context_from == store.all_messages(cid)[10].id
        assert store.count_messages(cid) == 13


def test_chats_compact_drop_and_a_conversation_with_one_turn(run, server, db_path):
    cid = long_conversation(db_path)
    assert "left out of what is sent" in run("chats", "compact", str(cid), "--drop").stdout
    assert not server.requests
    line = one_error(run("chats", "compact", str(cid), check=False))
    assert "nothing older than the newest turn" in line
