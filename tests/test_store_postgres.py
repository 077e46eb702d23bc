"""What only the PostgreSQL backend has: its migrations, its refusals, its errors, a restart.

The store's behaviour on PostgreSQL is the rest of tests/test_store_*.py, run on both backends.
"""

from __future__ import annotations

import re

import psycopg
import pytest

from agentterm.store import Store, StoreError
from agentterm.store.postgres import migrations
from agentterm.store.sqlite import migrations as sqlite_migrations


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in rows}


def test_a_new_database_gets_sqlites_steps_by_the_same_names(pg_url):
    with Store(pg_url) as store:
        assert store.backend == "postgres"
        assert store.schema_version() == migrations.latest_version() == store.latest_schema_version()
        info = store.server_info()
        assert info["version"].startswith("PostgreSQL ") and info["schema_version"] == store.schema_version()
        assert store.list_agents()[0].name == "Assistant"  # seeded once
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT version, name, applied_at FROM migrations ORDER BY version").fetchall()
    assert [name for _, name, _ in rows] == [m.__name__ for m in sqlite_migrations.MIGRATIONS]
    assert all(applied_at for _, _, applied_at in rows)
    assert {"agents", "conversations", "messages", "tags", "tool_calls", "users"} <= tables(pg_url)
    with Store(pg_url) as again:
        assert [a.name for a in again.list_agents()] == ["Assistant"]  # not seeded twice


def test_an_old_schema_is_upgraded_in_place(pg_url):
    then = "2025-01-01T00:00:00.000+00:00"
    with psycopg.connect(pg_url) as conn:  # a database written at schema version 3
        with conn.transaction():
            migrations.apply_migrations(conn, target=3)
            conn.execute("INSERT INTO agents (name, created_at, updated_at) VALUES ('Old', %s, %s)",
                         [then, then])
            conn.execute("INSERT INTO conversations (title, agent_id, created_at, last_activity_at)"
                         " VALUES ('Kept', 1, %s, %s)", [then, then])
            conn.execute("INSERT INTO messages (conversation_id, role, content, created_at)"
                         " VALUES (1, 'user', 'Hello penguins', %s), (1, 'assistant', 'Hi', %s)",
                         [then, then])
    with Store(pg_url) as store:
        assert store.schema_version() == migrations.latest_version()
        kept = store.list_conversations()[0]
        assert (kept.title, kept.message_count) == ("Kept", 2)
        answer = store.all_messages(kept.id)[1]
        assert answer.reply_to == store.all_messages(kept.id)[0].id  # m004 linked old answers
        assert [h.conversation_id for h in store.search("penguin")] == [kept.id]
        assert store.get_agent_by_name("old") is not None  # no seeding into an existing store


def test_a_database_from_a_newer_agentterm_is_refused_untouched(pg_url):
    Store(pg_url).close()
    newer = migrations.latest_version() + 1
    with psycopg.connect(pg_url) as conn:
        conn.execute("INSERT INTO migrations VALUES (%s, 'm999_future', 'later')", [newer])
    with pytest.raises(StoreError, match=f"newer agentterm \\(schema version {newer}") as info:
        Store(pg_url)
    assert "upgrade agentterm" in str(info.value)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT max(version) FROM migrations").fetchone()[0] == newer


def test_steps_recorded_under_other_names_are_refused(pg_url):
    Store(pg_url).close()
    with psycopg.connect(pg_url) as conn:
        conn.execute("UPDATE migrations SET name = 'm002_their_search' WHERE version = 2")
    with pytest.raises(StoreError, match="another build of agentterm.*'m002_their_search'"):
        Store(pg_url)


def test_another_programs_database_is_refused_untouched(pg_url):
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(StoreError, match="is a PostgreSQL database but not an agentterm store"):
        Store(pg_url)
    assert tables(pg_url) == {"invoices"}


def test_a_server_that_cannot_be_reached_is_one_line_without_the_password(pg_cluster):
    url = f"postgresql://agentterm:s3cret-pw@127.0.0.1:{pg_cluster.port}/no_such_database"
    with pytest.raises(StoreError) as info:
        Store(url)
    message = str(info.value)
    assert "Cannot open the store postgresql://agentterm:***@127.0.0.1" in message
    assert "no_such_database" in message and "\n" not in message
    assert "s3cret-pw" not in message


def test_text_with_a_nul_is_refused_in_one_line_and_nothing_is_saved(pg_url):
    with Store(pg_url) as store:
        conversation = store.create_conversation()
        with pytest.raises(StoreError, match="NUL character"):
            store.add_message(conversation.id, "user", "bad\x00byte")
        assert store.all_messages(conversation.id) == []
        assert store.get_conversation(conversation.id).message_count == 0


def test_a_server_restart_fails_one_call_in_one_line_then_the_store_reconnects(pg_cluster, pg_url):
    with Store(pg_url) as store:
        conversation = store.create_conversation(title="Before")
        pg_cluster.restart()
        try:
            store.rename_conversation(conversation.id, "During")
        except StoreError as error:  # the pooled connection died with the server
            assert "cannot be reached" in str(error) and "what was saved before it is kept" in str(error) and "\n" not in str(error)
        store.rename_conversation(conversation.id, "After")
        assert store.get_conversation(conversation.id).title == "After"


def plan(url: str, sql: str, params: list) -> str:
    """PostgreSQL's plan for the store's SQL, with sequential scans priced out: on a table this
    small the planner would rather read it all, and the question is whether an index serves."""
    from agentterm.store.postgres.database import to_psycopg

    with psycopg.connect(url) as conn:
        conn.execute("SET enable_seqscan = off")
        return "\n".join(row[0] for row in conn.execute("EXPLAIN " + to_psycopg(sql), params))


@pytest.mark.parametrize("view", ["inbox", "archive", "trash", "all"])
def test_a_sidebar_page_is_an_index_walk_in_sidebar_order(pg_url, view):
    with Store(pg_url) as store:
        where, params = store._conversation_filter(view, None, None, None)
    found = plan(pg_url, f"SELECT id FROM conversations c WHERE {where}"
                 " ORDER BY c.pinned DESC, c.last_activity_at DESC, c.id DESC LIMIT 50", params)
    # Which of the sidebar's indexes the planner takes on an empty table is its choice; that one
    # serves the page in order, with no sort of the whole view, is the promise.
    assert re.search(r"Index (Only )?Scan using conversations_", found), found
    assert "Sort" not in found, found


def test_a_message_window_walks_the_context_index(pg_url):
    from agentterm.store.messages import CONTEXT

    Store(pg_url).close()
    found = plan(pg_url, f"SELECT id FROM messages WHERE {CONTEXT} ORDER BY id DESC LIMIT 50", [1])
    assert re.search(r"Index (Only )?Scan Backward using messages_context", found), found
    assert "Sort" not in found, found


def test_a_role_that_may_not_create_tables_opens_a_current_store(pg_cluster, pg_url):
    """A team member's role reads and writes rows but cannot change the schema (docs/postgres.md)."""
    Store(pg_url).close()
    database = pg_url.rsplit("/", 1)[1]
    pg_cluster.admin("DO $$ BEGIN CREATE ROLE member_nocreate LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    pg_cluster.admin("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO member_nocreate;"
                     " GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO member_nocreate", dbname=database)
    with Store(pg_cluster.url(database, user="member_nocreate")) as store:
        conversation = store.create_conversation(title="From a member")
        assert store.get_conversation(conversation.id).title == "From a member"
        assert store.schema_version() == migrations.latest_version()


def test_a_writer_whose_clock_runs_behind_is_not_taken_for_dead(pg_url, monkeypatch):
    """Two machines' clocks differ: the store writes the server's time, so a live answer written
    from a machine 30 s behind does not look 30 s stale to another machine opening the store."""
    from datetime import timedelta

    from agentterm.store import connection

    real = connection.utcnow
    monkeypatch.setattr(connection, "utcnow", lambda: real() - timedelta(seconds=30))
    with Store(pg_url) as writer:  # the machine running behind
        conversation = writer.create_conversation()
        writer.add_message(conversation.id, "user", "Go on")
        answer = writer.add_message(conversation.id, "assistant", "Still going", status="streaming")
        writer.heartbeat(answer.id)
        monkeypatch.setattr(connection, "utcnow", real)
        with Store(pg_url) as other:  # opening recovers what is dead: this is not
            assert other.get_message(answer.id).status == "streaming"


def test_numbers_beyond_the_columns_are_no_row_to_read_and_one_line_to_write(pg_url):
    with Store(pg_url) as store:
        assert store.get_conversation(99999999999999999999) is None
        conversation = store.create_conversation()
        with pytest.raises(StoreError, match="too large for the store"):
            store.add_message(conversation.id, "assistant", "x", prompt_tokens=2**40)
        assert store.all_messages(conversation.id) == []
