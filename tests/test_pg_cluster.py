"""The test harness's PostgreSQL: a real server, a database of its own per test."""

from __future__ import annotations

import psycopg


def test_each_test_gets_an_empty_database_of_its_own(pg_cluster, pg_url):
    other = pg_cluster.create_database()
    assert other != pg_url
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (x int)")
        assert conn.execute("SELECT current_user").fetchone()[0] == "agentterm"
        version = conn.execute("SHOW server_version_num").fetchone()[0]
        assert int(version) >= 130000
    with psycopg.connect(other) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()[0]
        assert tables == 0


def test_the_store_role_is_not_a_superuser(pg_url):
    """Row-level security binds only a role that is not a superuser."""
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")\
            .fetchone()[0] is False
