"""Crash safety on PostgreSQL (issue 11.6): `kill -9` of `agentterm ask` mid-answer loses neither the
prompt nor the answer up to its last flush; the next open marks it interrupted, and the retry and
the continue work. The SQLite twin is tests/test_reliability_crash.py."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from agentterm.models import STALE_AFTER, to_iso, utcnow
from agentterm.store import Store
from tests.openai_server import Stream
from tests.reliability_helpers import AGENTTERM, KEY_ENV, agentterm_pid, cli_env, descendants, run_cli, wait_until, write_config
from tests.tmux import Tmux, ensure_tmux

WORDS = [f"w{i:03d} " for i in range(400)]
FULL = "".join(WORDS)
WAIT = 60  # seconds: generous, the suite runs on a loaded machine


def app_pid(root: int) -> int:
    """The python process running the app at or below the terminal's shell: `python -m
    agentterm` (reliability_helpers.agentterm_pid) or the installed `agentterm` script."""
    for pid in [root, *descendants(root)]:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"python" in cmdline[0] and any(Path(part.decode()).name == "agentterm" for part in cmdline[1:2]):
            return pid
    return agentterm_pid(root)


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


@pytest.mark.parametrize(("command_name", "then"), [("Continue answer", "continued"), ("Retry answer", "retried")])
def test_kill_9_of_the_app_in_a_terminal_then_reopen_shows_it_interrupted_and_retry_or_continue_works(
        tmp_path, server, pg_url, command_name, then):
    """The installed `agentterm --db postgresql://...` in tmux, killed with SIGKILL mid-answer;
    started again, it shows the prompt and the flushed answer, marked interrupted, with [retry]
    [continue]; the palette's "Continue answer" carries it on where it stopped, or "Retry
    answer" answers the prompt again (a new try, the cut one kept)."""
    if ensure_tmux() is None:
        pytest.fail("tmux is needed for the end-to-end tests and could not be installed")
    env = cli_env(pg_url, write_config(tmp_path / "config.toml", server.base_url))  # type: ignore[arg-type]
    server.script(Stream(chunks=WORDS, delay=0.05),
                  Stream(text=" and the rest.") if then == "continued" else Stream(text="Answered again."))
    command = shutil.which("agentterm")
    argv = [command] if command else list(AGENTTERM)
    terminal_env = {k: env[k] for k in ("AGENTTERM_CONFIG", "HOME", "PATH", KEY_ENV)} | {"TERM": "xterm-256color"}
    session = Tmux([*argv, "--db", pg_url], terminal_env)
    try:
        session.wait_for("Inbox", timeout=WAIT)
        session.send("C-n")
        session.wait_for("Type to filter agents", timeout=WAIT)  # the default agent highlighted
        session.send("Enter")
        session.wait_for("Type a prompt", timeout=WAIT)
        session.type("tell me")
        session.send("Enter")
        try:
            wait_until(lambda: answers(pg_url) and len(answers(pg_url)[-1][2]) > 20, timeout=WAIT,
                       what="some of the answer in the store")
        except AssertionError:
            raise AssertionError(session.screen()) from None
        before_kill = answers(pg_url)[-1][2]
        pane_pid = int(session._tmux("list-panes", "-t", session.name, "-F", "#{pane_pid}").split()[0])
        pid = app_pid(pane_pid)
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not Path(f"/proc/{pid}").exists(), timeout=WAIT, what="the killed app gone")
    finally:
        session.close()
    # As the killed app left it: the prompt, and the answer still streaming, cut short.
    assert rows(pg_url, "SELECT content FROM messages WHERE role = 'user'") == [("tell me",)]
    [(answer_id, status, content)] = answers(pg_url)
    assert status == "streaming" and FULL.startswith(content) and content.startswith(before_kill)
    assert 0 < len(content) < len(FULL)
    as_if_stale(pg_url)  # its heartbeat STALE_AFTER old, instead of waiting

    session = Tmux([*argv, "--db", pg_url], terminal_env)  # started again
    try:
        session.wait_for("Recent conversations", timeout=WAIT)  # the sidebar and the dashboard read
        session.send("Enter")  # the sidebar has the focus: opens its highlighted (and only) conversation
        screen = session.wait_for("Interrupted: the partial answer is kept.", timeout=WAIT)
        assert "[retry] [continue]" in screen and "tell me" in screen and "Traceback" not in screen
        assert content.split()[-2] in screen  # the flushed text, to its end
        assert rows(pg_url, "SELECT status, content FROM messages WHERE id = %s", (answer_id,)) == [
            ("interrupted", content)]
        session.send("C-p")  # the command palette: its "Continue answer" or "Retry answer"
        session.type(command_name)
        session.wait_for(command_name, timeout=WAIT)
        session.send("Enter")
        try:
            wait_until(lambda: [r[1] for r in answers(pg_url)][-1:] == ["complete"], timeout=WAIT,
                       what=f"the answer {then}")
        except AssertionError:
            raise AssertionError(session.screen()) from None
        if then == "continued":
            session.wait_for("and the rest.", timeout=WAIT)
        else:
            session.wait_for("Answered again.", timeout=WAIT)
    finally:
        session.close()
    if then == "continued":  # carried on from where it stopped: the kept text is not lost
        [(same_id, _, finished)] = answers(pg_url)
        assert same_id == answer_id and finished.startswith(content) and finished.endswith("and the rest.")
    else:  # a new try; the cut answer stays, as the variant no longer shown
        assert rows(pg_url, "SELECT role, status, content FROM messages ORDER BY id") == [
            ("user", "complete", "tell me"), ("assistant", "interrupted", content),
            ("assistant", "complete", "Answered again.")]
