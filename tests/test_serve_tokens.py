"""API tokens: printed once, kept only as a sha256 hash, verified, listed, revoked (issue 10.3)."""

from __future__ import annotations

import hashlib
import sqlite3

from tests.cli_helpers import as_json, cli  # noqa: F401 - the fixture


def test_the_store_keeps_only_the_hash_and_a_revoked_token_fails(store, db_path):
    token, row = store.create_token("alice", "laptop")
    assert token.startswith("at_") and len(token) > 40
    assert store.verify_token(token) == "alice"
    with sqlite3.connect(db_path) as conn:
        dump = "\n".join(conn.iterdump())
        hashes = [r[0] for r in conn.execute("SELECT token_hash FROM tokens")]
    assert token not in dump and token[8:] not in dump
    assert hashes == [hashlib.sha256(token.encode()).hexdigest()]
    assert store.list_tokens()[0]["last_used_at"] is not None
    assert store.verify_token(token + "x") is None
    store.revoke_token(row["prefix"])
    assert store.verify_token(token) is None
    assert store.list_tokens()[0]["revoked_at"] is not None


def test_tokens_create_list_revoke_from_the_command_line(cli, db_path):  # noqa: F811
    made = cli("tokens", "create", "--user", "bob", "--name", "ci")
    token = made.stdout.strip()
    assert token.startswith("at_") and "shown once" in made.stderr
    rows = as_json(cli("tokens", "list", "--json"))
    assert [(r["user"], r["name"], r["prefix"]) for r in rows] == [("bob", "ci", token[:8])]
    assert token not in cli("tokens", "list").stdout
    cli("tokens", "revoke", str(rows[0]["id"]))
    assert as_json(cli("tokens", "list", "--json"))[0]["revoked_at"]
    from agentterm.store import Store

    with Store(db_path) as store:
        assert store.verify_token(token) is None
    missing = cli("tokens", "revoke", "999", check=False)
    assert missing.returncode == 1 and "no token" in missing.stderr


def test_the_server_stays_off_the_command_lines_start_path():
    import subprocess
    import sys

    code = ("import sys, agentterm.cli as c; c.build_parser();"
            " print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'agentterm.server') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
