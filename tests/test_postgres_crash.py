"""Crash safety on PostgreSQL (issue 11.6): `kill -9` of `agentterm ask` mid-answer loses neither the
prompt nor the answer up to its last flush; the next open marks it interrupted, and the retry and
the continue work. The SQLite twin is tests/test_reliability_crash.py."""

from __future__ import annotations

import signal
import subprocess
from datetime import timedelta

import psycopg
import pytest

from agentterm.models import STALE_AFTER, to_iso, utcnow
from agentterm.store import Store
from tests.openai_server import Stream
from tests.reliability_helpers import AGENTTERM, cli_env, run_cli, wait_until, write_config

WORDS = [f"w{i:03d} " for i in range(400)]
FULL = "".join(WORDS)
WAIT = 60  # seconds: generous, the suite runs on a loaded machine


def rows(pg_url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows read straight from the database, without opening a Store (which recovers)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        try:
            return conn.execute(sql, params).fetchall()
        except psycopg.errors.UndefinedTable:
            return []  # not created yet


def answers(pg_url: str) -> list[tuple[int, str, str]]:
    return rows(pg_url, "SELECT id, status, content FROM messages WHERE role = 'assistant' ORDER BY id")


def as_if_stale(pg_url: str) -> None:
    """Move the dead writer's last heartbeat STALE_AFTER into the past, instead of waiting."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE messages SET heartbeat_at = %s WHERE status = 'streaming'",
                     [to_iso(utcnow() - STALE_AFTER - timedelta(seconds=5))])


@pytest.fixture
def killed(tmp_path, server, pg_url):
    """`agentterm ask` on the PostgreSQL store, killed with SIGKILL once some of its answer is stored."""
    env = cli_env(pg_url, write_config(tmp_path / "config.toml", server.base_url))  # type: ignore[arg-type]
    server.script(Stream(chunks=WORDS, delay=0.05), Stream(text=" and the rest."))
    proc = subprocess.Popen([*AGENTTERM, "--db", pg_url, "ask", "--no-title", "tell me"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_until(lambda: answers(pg_url) and len(answers(pg_url)[-1][2]) > 20, timeout=WAIT,
                   what="some of the answer in the store")
        before_kill = answers(pg_url)[-1][2]
        assert proc.poll() is None, "ask ended before it was killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # As the killed process left it: the prompt, and the answer still marked streaming, cut short.
    assert rows(pg_url, "SELECT content FROM messages WHERE role = 'user'") == [("tell me",)]
    [(answer_id, status, content)] = answers(pg_url)
    assert status == "streaming" and FULL.startswith(content) and 0 < len(content) < len(FULL)
    assert content.startswith(before_kill)  # nothing stored before the kill was lost
    return env, answer_id, content


def test_kill_9_of_ask_on_postgresql_keeps_the_prompt_and_the_streamed_text(killed, pg_url):
    env, answer_id, content = killed
    # Opened before the heartbeat is stale, the answer might still be streaming elsewhere: left alone.
    with Store(pg_url) as store:
        assert store.get_message(answer_id).status == "streaming"
    as_if_stale(pg_url)
    with Store(pg_url) as store:  # the next start recovers it
        message = store.get_message(answer_id)
        assert (message.status, message.content) == ("interrupted", content)
        [user, answer] = store.all_messages(message.conversation_id)
        assert (user.role, user.status, user.content) == ("user", "complete", "tell me")
        assert answer.id == answer_id

    shown = run_cli("--db", pg_url, "chats", "show", "1", env=env)
    text = shown.stdout.decode()
    assert shown.returncode == 0 and "## assistant (interrupted)" in text and content in text
    retried = run_cli("--db", pg_url, "ask", "--retry", env=env, timeout=120)
    assert retried.returncode == 0, retried.stderr
    # The scripted second answer; the retry never deletes: the cut answer stays as a variant.
    assert retried.stdout.decode().strip() == "and the rest."
    assert rows(pg_url, "SELECT role, status, content FROM messages ORDER BY id") == [
        ("user", "complete", "tell me"), ("assistant", "interrupted", content),
        ("assistant", "complete", " and the rest.")]


def test_kill_9_of_ask_on_postgresql_then_continue_finishes_the_answer(killed, pg_url):
    env, answer_id, content = killed
    as_if_stale(pg_url)
    continued = run_cli("--db", pg_url, "chats", "continue", "1", env=env, timeout=120)
    assert continued.returncode == 0, continued.stderr
    with Store(pg_url) as store:
        message = store.get_message(answer_id)
        messages = store.all_messages(message.conversation_id)
    # The continue carries the cut answer on from where it stopped: the kept text is not lost.
    assert [(m.role, m.status) for m in messages] == [("user", "complete"), ("assistant", "complete")]
    assert messages[1].content.startswith(content)
    assert messages[1].content.endswith("and the rest.")
