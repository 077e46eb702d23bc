"""Row-level security on PostgreSQL: the database itself keeps members' rows apart (issue 11.3)."""

from __future__ import annotations

import psycopg
import pytest

from agentterm.store import Store, StoreError
from agentterm.store.row_security import POLICIES, enable_row_security, grant_member, row_security_on


@pytest.fixture
def team(pg_cluster, pg_url):
    """A store made by its owner with row security on, and two members, alice and bob."""
    dbname = pg_url.rsplit("/", 1)[1]
    alice, bob = f"alice_{dbname}", f"bob_{dbname}"
    for role in (alice, bob):
        pg_cluster.admin(f"CREATE ROLE {role} LOGIN")
    with Store(pg_url) as owner:
        enable_row_security(owner)
        for role in (alice, bob):
            grant_member(owner, role)
        assert row_security_on(owner)
    return {"owner": pg_url, alice: pg_cluster.url(dbname, alice), bob: pg_cluster.url(dbname, bob),
            "alice": alice, "bob": bob}


def alice_writes(url: str) -> dict:
    with Store(url) as store:
        private = store.create_agent("Private", model="m")
        shared = store.create_agent("Shared", model="m")
        store.set_agent_owner(shared.id, store._one("SELECT current_user AS u")["u"], shared=True)
        chat = store.create_conversation(private.id, title="Alice's secret plans")
        prompt = store.add_message(chat.id, "user", "the launch is on Friday")
        answer = store.add_message(chat.id, "assistant", "noted")
        store.add_tool_call(answer.id, "c1", 0, "fs.read", arguments="{}")
        store.set_tags(chat.id, ["launch"])
        return {"chat": chat.id, "prompt": prompt.id, "answer": answer.id, "shared": shared.id,
                "private": private.id}


def raw(url: str, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else [(cursor.rowcount,)]


def test_raw_sql_as_one_member_sees_none_of_anothers_rows(team):
    ids = alice_writes(team[team["alice"]])
    bob = team[team["bob"]]
    for table in ("conversations", "messages", "tags", "tool_calls", "agent_versions"):
        rows = raw(bob, f"SELECT * FROM {table}")
        if table == "agent_versions":  # the seeded default agent's and the shared one's only
            assert {r[0] for r in rows} <= {1, ids["shared"]}, rows
        else:
            assert rows == [], table
    assert {r[0] for r in raw(bob, "SELECT name FROM agents")} == {"Assistant", "Shared"}
    # Nor can bob change or add to them: the server refuses, it is not our code's check.
    assert raw(bob, "UPDATE messages SET content = 'x'") == [(0,)]
    assert raw(bob, "DELETE FROM conversations") == [(0,)]
    assert raw(bob, "UPDATE agents SET model = 'x' WHERE name = 'Shared'") == [(0,)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        raw(bob, "INSERT INTO messages (conversation_id, role, content, created_at) VALUES (%s, 'user', 'hi', 'now')",
            [ids["chat"]])
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        raw(bob, "INSERT INTO conversations (title, created_at, last_activity_at, owner) "
                 "VALUES ('planted', 'now', 'now', %s)", [team["alice"]])
    # Alice sees all of hers; the owner (the store's maker) is not bound.
    alice = team[team["alice"]]
    assert len(raw(alice, "SELECT * FROM messages")) == 2
    assert raw(team["owner"], "SELECT count(*) FROM messages") == [(2,)]
    assert set(POLICIES) >= {"agents", "conversations", "messages", "tool_calls"}


def test_the_app_store_of_another_member_lists_and_finds_nothing_of_hers(team):
    ids = alice_writes(team[team["alice"]])
    with Store(team[team["bob"]]) as bob:
        assert bob.list_conversations() == []
        assert bob.get_conversation(ids["chat"]) is None
        assert bob.search("launch") == []
        mine = bob.create_conversation(ids["shared"], title="Bob's own")  # a shared agent is usable
        bob.add_message(mine.id, "user", "hello")
        assert [c.title for c in bob.list_conversations()] == ["Bob's own"]
    with Store(team[team["alice"]]) as alice:
        assert [c.title for c in alice.list_conversations()] == ["Alice's secret plans"]
        assert [h.conversation_id for h in alice.search("launch")] == [ids["chat"]]


def test_a_superuser_member_and_a_sqlite_file_are_refused(team, pg_cluster, tmp_path):
    dbname = team["owner"].rsplit("/", 1)[1]
    pg_cluster.admin(f"CREATE ROLE root_{dbname} LOGIN BYPASSRLS")
    with Store(team["owner"]) as owner, pytest.raises(StoreError, match="bypasses row-level security"):
        grant_member(owner, f"root_{dbname}")
    with Store(team["owner"]) as owner, pytest.raises(StoreError, match="no role"):
        grant_member(owner, "nobody_here")
    with Store(tmp_path / "a.db") as file, pytest.raises(StoreError, match="SQLite file"):
        enable_row_security(file)


def test_store_secure_turns_it_on_and_doctor_says_so(pg_cluster, pg_url, tmp_path):
    import os
    import subprocess
    import sys

    dbname = pg_url.rsplit("/", 1)[1]
    pg_cluster.admin(f"CREATE ROLE carol_{dbname} LOGIN")
    env = {**os.environ, "AGENTTERM_CONFIG": str(tmp_path / "none.toml"), "AGENTTERM_DB": pg_url}

    def cli(*args, url=pg_url):
        return subprocess.run([sys.executable, "-m", "agentterm", *args], capture_output=True, text=True,
                              env={**env, "AGENTTERM_DB": url}, timeout=120)

    before = cli("doctor", "--timeout", "1")
    assert "row-level security off" in before.stdout, before.stderr
    done = cli("store", "secure", "--member", f"carol_{dbname}")
    assert done.returncode == 0 and "row-level security is on" in done.stderr, done.stderr
    assert "row-level security on" in cli("doctor", "--timeout", "1").stdout
    carol = pg_cluster.url(dbname, f"carol_{dbname}")
    assert cli("agents", "create", "Carols", url=carol).returncode == 0
    assert raw(carol, "SELECT owner FROM agents WHERE name = 'Carols'") == [(f"carol_{dbname}",)]
    # The app's own user is the role then: what it writes, it lists.
    assert "Carols" in cli("agents", "list", url=carol).stdout
    bad = cli("store", "secure", "--member", "no_such_role")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "There is no role no_such_role" in bad.stderr


async def test_the_sdk_session_remembers_for_a_member_under_row_security(team):
    # A member's rows are owned by its role (the column's default): the session must find them
    # again on the next run, and bob's session of the same name is his own.
    from agentterm.sdk import AgentTermSession

    alice_url, bob_url = team[team["alice"]], team[team["bob"]]
    first = AgentTermSession("chat-42", db=alice_url)
    await first.add_items([{"role": "user", "content": "remember the launch"}])
    await first.close()
    again = AgentTermSession("chat-42", db=alice_url)
    await again.add_items([{"role": "assistant", "content": "noted"}])
    assert [i["content"] for i in await again.get_items()] == ["remember the launch", "noted"]
    await again.close()
    bobs = AgentTermSession("chat-42", db=bob_url)
    assert await bobs.get_items() == []
    await bobs.add_items([{"role": "user", "content": "bob's own"}])
    assert [i["content"] for i in await bobs.get_items()] == ["bob's own"]
    await bobs.close()
    with Store(alice_url) as store:
        assert len(store.list_conversations(view="all", owner=team["alice"])) == 1
