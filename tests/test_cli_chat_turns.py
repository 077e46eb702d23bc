"""`chats continue` and `chats regenerate` against the loopback OpenAI server: new text streamed, nothing deleted."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from agentterm.store import Store
from tests.cli_helpers import one_error
from tests.conftest import TEST_KEY
from tests.openai_server import Error, Stream


@pytest.fixture
def run(db_path, config_path):
    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path)}
        result = subprocess.run([sys.executable, "-m", "agentterm", *args], capture_output=True, text=True,
                                env=env, timeout=60, stdin=subprocess.DEVNULL)
        if check:
            assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr and TEST_KEY not in result.stdout + result.stderr
        return result

    return run


def answered(db_path, status="complete", content="The first answer."):
    with Store(db_path) as store:
        conversation = store.create_conversation(store.default_agent().id, "Turns")
        store.add_message(conversation.id, "user", "tell me")
        store.add_message(conversation.id, "assistant", content, status=status)
        return conversation.id


def rows(db_path, cid):
    with Store(db_path) as store:
        return store.db.execute("SELECT role, status, content FROM messages WHERE conversation_id = ? ORDER BY id",
                                [cid]).fetchall()


def test_regenerate_streams_a_new_answer_and_keeps_the_old_one(run, server, db_path):
    cid = answered(db_path)
    server.script(Stream(text="A second answer."))
    assert run("chats", "regenerate", str(cid)).stdout.strip() == "A second answer."
    assert server.requests[-1]["messages"][-1] == {"role": "user", "content": "tell me"}
    assert [r[2] for r in rows(db_path, cid)] == ["tell me", "The first answer.", "A second answer."]
    with Store(db_path) as store:
        assert [m.content for m in store.all_messages(cid)] == ["tell me", "A second answer."]


def test_a_failed_regenerate_is_one_line_and_the_old_answer_stays_shown(run, server, db_path):
    cid = answered(db_path)
    server.script(Error(status=401, message="bad key"))
    result = run("chats", "regenerate", str(cid), check=False)
    assert result.returncode != 0 and "agentterm: error:" in result.stderr
    with Store(db_path) as store:
        assert [m.content for m in store.all_messages(cid)] == ["tell me", "The first answer."]


def test_continue_extends_a_cut_answer(run, server, db_path):
    cid = answered(db_path, status="interrupted", content="Half an ans")
    server.script(Stream(text="wer, finished."))
    assert "wer, finished." in run("chats", "continue", str(cid)).stdout
    with Store(db_path) as store:
        messages = store.all_messages(cid)
        assert messages[-1].content.endswith("wer, finished.") and messages[-1].content.startswith("Half an ans")


def test_continue_refuses_an_answer_that_was_not_cut(run, server, db_path):
    cid = answered(db_path)
    line = one_error(run("chats", "continue", str(cid), check=False))
    assert "nothing to continue" in line and "regenerate" in line
    assert server.requests == []


def test_an_unknown_conversation_is_one_line(run, server):
    assert "no conversation 999" in one_error(run("chats", "regenerate", "999", check=False))


def test_edit_prompt_changes_the_last_prompt_and_answers_it_again(run, server, db_path):
    cid = answered(db_path)
    server.script(Stream(text="Answer to the better question."))
    assert run("chats", "edit-prompt", str(cid), "a", "better", "question").stdout.strip() == \
        "Answer to the better question."
    assert server.requests[-1]["messages"][-1] == {"role": "user", "content": "a better question"}
    with Store(db_path) as store:
        messages = store.all_messages(cid)
        assert [m.content for m in messages] == ["a better question", "Answer to the better question."]
        assert messages[0].edited_at is not None
    assert "The first answer." in [r[2] for r in rows(db_path, cid)]  # kept, as a variant


def test_edit_prompt_of_a_conversation_without_prompts_is_one_line(run, server, db_path):
    with Store(db_path) as store:
        cid = store.create_conversation(None, "Empty").id
    assert "no prompt to edit" in one_error(run("chats", "edit-prompt", str(cid), "hello", check=False))


def test_variants_lists_every_answer_and_selects_the_one_shown(run, server, db_path):
    cid = answered(db_path)
    server.script(Stream(text="A second answer."))
    run("chats", "regenerate", str(cid))
    with Store(db_path) as store:
        prompt = store.all_messages(cid)[0].id
    listed = run("chats", "variants", str(cid)).stdout
    assert "1/2  The first answer." in listed and "* 2/2  A second answer." in listed

    run("chats", "variants", str(cid), "--prompt", str(prompt), "--select", "1")
    with Store(db_path) as store:
        assert [m.content for m in store.all_messages(cid)] == ["tell me", "The first answer."]
    [item] = json.loads(run("chats", "variants", str(cid), "--json").stdout)
    assert [(a["variant"], a["shown"]) for a in item["answers"]] == [(1, True), (2, False)]
    assert "has no answer 7" in one_error(run("chats", "variants", str(cid), "--prompt", str(prompt),
                                              "--select", "7", check=False))
