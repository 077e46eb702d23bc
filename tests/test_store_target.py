"""Choosing the store: --db, $AGENTTERM_DB and the config's `store`, a file or a postgresql:// URL (issue 11.1)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentterm.store import Store, StoreError
from agentterm.store.target import mask, parse_target

SECRET = "Tr0ub4dor-and-3"


def cli(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "agentterm", *args], capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=60)
    assert "Traceback" not in result.stderr
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def plain_env(tmp_path, monkeypatch) -> dict[str, str]:
    """No $AGENTTERM_DB; a config of our own in tmp_path."""
    monkeypatch.delenv("AGENTTERM_DB", raising=False)
    config = tmp_path / "conf" / "config.toml"
    config.parent.mkdir()
    config.write_text("")
    env = {k: v for k, v in os.environ.items() if k != "AGENTTERM_DB"}
    env["AGENTTERM_CONFIG"] = str(config)
    return env


def test_a_password_in_a_url_is_masked_and_a_path_is_shown_as_it_is():
    assert mask(f"postgresql://bob:{SECRET}@db.example:5432/team") == "postgresql://bob:***@db.example:5432/team"
    assert mask(f"postgres://db.example/team?sslmode=require&password={SECRET}") == \
        "postgres://db.example/team?sslmode=require&password=***"
    assert mask("postgresql://bob@db.example/team") == "postgresql://bob@db.example/team"
    assert mask(Path("/tmp/a:b@c.db")) == "/tmp/a:b@c.db"


def test_a_relative_path_in_the_config_is_taken_from_the_config_dir(tmp_path):
    assert parse_target("chats.db", base=tmp_path) == tmp_path / "chats.db"
    assert parse_target("postgresql://me@h/db", base=tmp_path) == "postgresql://me@h/db"


def test_a_url_of_another_kind_is_one_line_that_hides_its_password():
    with pytest.raises(StoreError) as caught:
        parse_target(f"mysql://bob:{SECRET}@db/x")
    assert SECRET not in str(caught.value) and "postgresql://" in str(caught.value)


def test_the_config_store_is_used_and_the_flag_and_environment_win_over_it(tmp_path, plain_env):
    config = Path(plain_env["AGENTTERM_CONFIG"])
    config.write_text('store = "team.db"\n')
    cli("agents", "create", "FromConfig", env=plain_env)
    with Store(config.parent / "team.db") as store:
        assert store.get_agent_by_name("FromConfig") is not None

    env_db, flag_db = tmp_path / "env.db", tmp_path / "flag.db"
    cli("agents", "create", "FromEnv", env={**plain_env, "AGENTTERM_DB": str(env_db)})
    cli("--db", str(flag_db), "agents", "create", "FromFlag", env={**plain_env, "AGENTTERM_DB": str(env_db)})
    names = {}
    for path in (config.parent / "team.db", env_db, flag_db):
        with Store(path) as store:
            names[path.name] = {a.name for a in store.list_agents()} - {store.default_agent().name}
    assert names == {"team.db": {"FromConfig"}, "env.db": {"FromEnv"}, "flag.db": {"FromFlag"}}


def test_the_store_table_form_and_doctor_shows_the_store_and_its_engine(tmp_path, plain_env):
    config = Path(plain_env["AGENTTERM_CONFIG"])
    config.write_text(f'[store]\nlocation = "{tmp_path / "t.db"}"\n')
    result = cli("doctor", "--timeout", "1", env=plain_env, check=False)
    assert f"store:  {tmp_path / 't.db'}" in result.stdout.splitlines()
    assert any(line.startswith("ok   store opened (0 conversations), schema version ") and ", SQLite 3." in line
               for line in result.stdout.splitlines()), result.stdout


def test_a_password_written_in_the_config_is_refused_without_repeating_it(plain_env):
    config = Path(plain_env["AGENTTERM_CONFIG"])
    config.write_text(f'store = "postgresql://bob:{SECRET}@127.0.0.1:9/team"\n')
    result = cli("chats", "list", env=plain_env, check=False)
    assert result.returncode == 2
    assert SECRET not in result.stdout + result.stderr
    assert "store: holds a password" in result.stderr and "password_cmd" in result.stderr


@pytest.mark.parametrize("where", ["flag", "environment"])
def test_a_postgresql_url_is_one_line_that_never_shows_its_password(plain_env, where):
    # Port 9 has no server: whatever the backend says, it says it in one line without the password.
    url = f"postgresql://bob:{SECRET}@127.0.0.1:9/team"
    args, env = (["--db", url], plain_env) if where == "flag" else ([], {**plain_env, "AGENTTERM_DB": url})
    result = cli(*args, "chats", "list", env=env, check=False)
    assert result.returncode == 1
    assert SECRET not in result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "postgresql://bob:***@127.0.0.1:9/team" in result.stderr
    doctor = cli(*args, "doctor", "--timeout", "1", env=env, check=False)
    assert SECRET not in doctor.stdout + doctor.stderr
    assert "store:  postgresql://bob:***@127.0.0.1:9/team" in doctor.stdout.splitlines()
    assert any(line.startswith("FAIL store: ") for line in doctor.stdout.splitlines()), doctor.stdout


def test_password_cmd_runs_for_a_server_and_its_output_is_never_shown(tmp_path, plain_env):
    config = Path(plain_env["AGENTTERM_CONFIG"])
    marker = tmp_path / "ran"
    script = tmp_path / "pw.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\necho {SECRET}\n")
    script.chmod(0o700)
    config.write_text(f'[store]\nlocation = "postgresql://bob@127.0.0.1:9/team"\npassword_cmd = ["{script}"]\n')
    result = cli("chats", "list", env=plain_env, check=False)
    assert result.returncode == 1 and marker.exists()
    assert SECRET not in result.stdout + result.stderr

    # A file store asks for no password: the command is not run.
    marker.unlink()
    cli("--db", str(tmp_path / "file.db"), "chats", "list", env=plain_env)
    assert not marker.exists()


def test_a_failing_password_cmd_is_one_line_naming_the_key(tmp_path, plain_env):
    config = Path(plain_env["AGENTTERM_CONFIG"])
    config.write_text('[store]\nlocation = "postgresql://bob@127.0.0.1:9/team"\npassword_cmd = "false"\n')
    result = cli("chats", "list", env=plain_env, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("agentterm: error: store: password_cmd: ") and result.stderr.count("\n") == 1
    assert "failed with exit status 1" in result.stderr


def test_the_sdk_session_opens_the_config_store(tmp_path, monkeypatch):
    from agentterm.sdk import AgentTermSession

    config = tmp_path / "config.toml"
    config.write_text('store = "sdk.db"\n')
    monkeypatch.delenv("AGENTTERM_DB", raising=False)
    monkeypatch.setenv("AGENTTERM_CONFIG", str(config))

    async def go():
        session = AgentTermSession("s-1")
        await session.add_items([{"role": "user", "content": "hello"}])
        await session.close()

    asyncio.run(go())
    with Store(tmp_path / "sdk.db") as store:
        [conversation] = store.list_conversations()
        assert [m.content for m in store.all_messages(conversation.id)] == ["hello"]
