"""`agentterm store copy SRC DST`: a whole store, checked by counts and checksums, safe to run again (issue 11.5)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from agentterm.store import Store, StoreError
from agentterm.store.copy import NOT_COPIED, TABLES, copy_store


def fill(store: Store) -> dict:
    """A store using every table: versions, allowed tools, forks, variants, drafts, overrides, owners, tokens."""
    agent = store.create_agent("Writer", model="m1", instructions="Be brief.")
    store.update_agent(agent.id, model="m2")  # a second version
    store.allow_tool(agent.id, "fs.read")
    store.set_agent_owner(agent.id, "alice", shared=True)
    chat = store.create_conversation(agent.id, title="Plans for the week")
    prompt = store.add_message(chat.id, "user", "What is on Monday?")
    first = store.add_message(chat.id, "assistant", "Nothing yet.", prompt_tokens=12, completion_tokens=3,
                              extra={"finish": "stop", "ü": [1, 2]})
    call = store.add_tool_call(first.id, "call-1", 0, "fs.read", server="fs", tool="read", arguments='{"p": 1}')
    store.update_tool_call(call.id, status="done", result="ok")
    store.add_message(chat.id, "assistant", "Monday: the dentist.", reply_to=prompt.id,
                      variant=store.new_variant(prompt.id), thinking="look it up")
    store.set_tags(chat.id, ["work", "Week"])
    store.set_draft(chat.id, "and Tuesday?")
    store.override_conversation(chat.id, model="m3", instructions_override="In French.")
    fork = store.fork_conversation(chat.id, first.id)
    store.add_message(fork.id, "user", "A fork's own prompt")
    owned = store.create_owned_conversation(agent.id, "bob", "session-9", origin="api")
    store.add_message(owned.id, "user", "bob's question")
    store.create_token("bob", "laptop")
    store.trash(store.create_conversation(agent.id, title="Old").id)
    return {"chat": chat.id, "fork": fork.id, "owned": owned.id, "agent": agent.id}


def table_rows(path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()


@pytest.fixture
def src(tmp_path):
    with Store(tmp_path / "src.db") as store:
        ids = fill(store)
    return tmp_path / "src.db", ids


def test_every_table_of_the_store_is_copied_or_named_as_not(tmp_path):
    # A migration that adds a table fails here until store copy knows it.
    with Store(tmp_path / "s.db"):
        pass
    with sqlite3.connect(tmp_path / "s.db") as db:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    own = {n for n in names if not n.startswith("sqlite_") and "_fts" not in n}
    assert own == {t for t, _ in TABLES} | set(NOT_COPIED)


def test_a_copy_is_the_same_store_row_for_row_and_a_second_run_copies_nothing(src, tmp_path):
    path, ids = src
    dst_path = tmp_path / "dst.db"
    with Store(path) as a, Store(dst_path) as b:
        report = copy_store(a, b)
        assert report.changed > 0
        again = copy_store(a, b)
        assert again.changed == 0
        assert [t.checksum for t in again.tables] == [t.checksum for t in report.tables]
    for table, _ in TABLES:
        assert table_rows(dst_path, table) == table_rows(path, table), table
    with Store(dst_path) as b:
        chat = b.get_conversation(ids["chat"])
        assert (chat.title, chat.draft, chat.model, chat.message_count) == ("Plans for the week", "and Tuesday?", "m3", 3)
        assert b.get_conversation(ids["fork"]).parent_id == ids["chat"]
        assert sorted(v.version for v in b.agent_versions(ids["agent"])) == [1, 2]
        assert b.verify_token  # tokens are hashes: the copied hash still verifies below
        # The copy's own full-text index was built from the copied rows.
        with Store(path) as a:
            found = [(h.conversation_id, h.message_id) for h in a.search("Monday")]
        assert found and [(h.conversation_id, h.message_id) for h in b.search("Monday")] == found
        # New rows get new ids past the copied ones.
        assert b.create_conversation(ids["agent"]).id > ids["owned"]


def test_a_token_still_works_after_the_copy(tmp_path):
    with Store(tmp_path / "a.db") as a:
        token, _ = a.create_token("carol")
        with Store(tmp_path / "b.db") as b:
            copy_store(a, b)
            assert b.verify_token(token) == "carol"


def test_a_second_run_brings_what_changed_and_is_new(src, tmp_path):
    path, ids = src
    with Store(path) as a, Store(tmp_path / "dst.db") as b:
        copy_store(a, b)
        a.rename_conversation(ids["chat"], "Renamed")
        a.add_message(ids["chat"], "user", "one more")
        report = copy_store(a, b)
        changed = {t.table: (t.inserted, t.updated) for t in report.tables if t.inserted or t.updated}
        assert changed == {"conversations": (0, 1), "messages": (1, 0)}
        assert b.get_conversation(ids["chat"]).title == "Renamed"
        assert b.get_conversation(ids["chat"]).message_count == 4


def test_a_store_that_is_not_a_copy_is_refused_and_left_as_it_was(src, tmp_path):
    path, _ = src
    with Store(tmp_path / "other.db") as other:
        other.create_conversation(other.default_agent().id, title="Someone else's")
    before = table_rows(tmp_path / "other.db", "conversations")
    with Store(path) as a, Store(tmp_path / "other.db") as b, pytest.raises(StoreError) as caught:
        copy_store(a, b)
    assert "not a copy of SRC" in str(caught.value)
    assert table_rows(tmp_path / "other.db", "conversations") == before


def cli(*args, check=True):
    env = {**os.environ, "AGENTTERM_CONFIG": os.devnull + ".none.toml"}
    env.pop("AGENTTERM_DB", None)
    result = subprocess.run([sys.executable, "-m", "agentterm", *args], capture_output=True, text=True,
                            env=env, timeout=120)
    assert "Traceback" not in result.stderr
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_the_command_says_what_it_copied_then_that_nothing_was_new(src, tmp_path):
    path, _ = src
    dst = tmp_path / "copy.db"
    first = cli("store", "copy", str(path), str(dst))
    assert "rows written; every table's count and checksum match" in first.stderr
    assert any(line.startswith("messages") and "copied" in line for line in first.stdout.splitlines())
    second = cli("store", "copy", str(path), str(dst), "--json")
    assert json.loads(second.stdout)["changed"] == 0
    assert "nothing new to copy" in second.stderr


@pytest.mark.parametrize("args, says", [
    (["missing.db", "x.db"], "missing.db does not exist."),
    (["same.db", "same.db"], "SRC and DST are the same store."),
    (["a.db", "mysql://h/db"], "is not a store agentterm can open"),
])
def test_bad_input_is_one_line(tmp_path, args, says):
    Store(tmp_path / "same.db").close()
    Store(tmp_path / "a.db").close()
    result = cli("store", "copy", *[str(tmp_path / a) if "://" not in a else a for a in args], check=False)
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and says in result.stderr, result.stderr


def test_an_agent_made_in_an_otherwise_empty_dst_is_not_dropped(src, tmp_path):
    path, _ = src
    with Store(tmp_path / "d.db") as d:
        mine = d.create_agent("Mine")
        d.delete_agent(d.default_agent().id)
    with Store(path) as a, Store(tmp_path / "d.db") as b, pytest.raises(StoreError, match="not"):
        copy_store(a, b)
    with Store(tmp_path / "d.db") as d:
        assert d.get_agent(mine.id).name == "Mine"
