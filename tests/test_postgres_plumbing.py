"""store copy between SQLite and PostgreSQL, both ways: the round trip gives the same store (issue 11.5)."""

from __future__ import annotations

import sqlite3

from agentterm.store import Store
from agentterm.store.copy import TABLES, copy_store
from tests.test_store_copy import fill


def sqlite_rows(path, table):
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()


def test_sqlite_to_postgres_to_sqlite_gives_the_same_store(tmp_path, pg_url):
    with Store(tmp_path / "a.db") as a:
        ids = fill(a)
        token, _ = a.create_token("dora")
    with Store(tmp_path / "a.db") as a, Store(pg_url) as pg:
        first = copy_store(a, pg)
        assert first.changed > 0
        assert copy_store(a, pg).changed == 0  # safe to run again
        assert pg.get_conversation(ids["fork"]).parent_id == ids["chat"]
        assert pg.get_conversation(ids["chat"]).message_count == 3
        assert pg.search("Monday")
        # New rows take ids past the copied ones: the sequences were moved on.
        assert pg.create_conversation(ids["agent"]).id > ids["owned"]
    with Store(pg_url) as pg, Store(tmp_path / "b.db") as b:
        back = copy_store(pg, b)
        assert copy_store(pg, b).changed == 0
        assert b.verify_token(token) == "dora"  # the hash made on SQLite, through PostgreSQL
    by_table = {t.table: t.checksum for t in first.tables}
    # The new conversation made on PostgreSQL came back too; every other table is as it was.
    for table, _ in TABLES:
        if table not in ("conversations", "tokens"):  # tokens: verify_token above marked it used
            assert sqlite_rows(tmp_path / "b.db", table) == sqlite_rows(tmp_path / "a.db", table), table
            assert {t.table: t.checksum for t in back.tables}[table] == by_table[table]
    assert len(sqlite_rows(tmp_path / "b.db", "conversations")) == len(sqlite_rows(tmp_path / "a.db", "conversations")) + 1


def test_every_command_and_doctor_work_on_a_postgresql_url(tmp_path, pg_url):
    import os
    import subprocess
    import sys

    env = {**os.environ, "AGENTTERM_CONFIG": str(tmp_path / "none.toml"), "AGENTTERM_DB": pg_url}

    def cli(*args):
        result = subprocess.run([sys.executable, "-m", "agentterm", *args], capture_output=True, text=True,
                                env=env, timeout=120)
        assert "Traceback" not in result.stderr
        return result

    assert cli("agents", "create", "OnServer").returncode == 0
    listed = cli("agents", "list", "--json")
    assert "OnServer" in listed.stdout, listed.stderr
    doctor = cli("doctor", "--timeout", "1").stdout.splitlines()
    assert f"store:  {pg_url}" in doctor
    line = next(line for line in doctor if line.startswith("ok   store opened"))
    assert "schema version" in line and "(the latest)" in line and ", server 127.0.0.1:" in line
    assert ", PostgreSQL " in line
    with Store(pg_url) as store:
        assert store.get_agent_by_name("OnServer") is not None
