"""Exports to files: private, never over a file unasked, whole or not at all, one clear line on a fault."""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys

import pytest

from agentterm.store import Store
from tests.cli_helpers import cli, one_error  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("cli")


@pytest.fixture
def cid(db_path) -> int:
    with Store(db_path) as store:
        conversation = store.create_conversation(store.default_agent().id, "Kept private")
        store.add_message(conversation.id, "user", "a secret plan")
        store.add_message(conversation.id, "assistant", "x" * 200_000)
        return conversation.id


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("fmt", ["md", "json", "html"])
def test_an_export_is_created_0600_whatever_the_umask(cli, cid, tmp_path, fmt):
    target = tmp_path / f"chat.{fmt}"
    old = os.umask(0o022)
    try:
        cli("chats", "export", str(cid), "-f", fmt, "-o", str(target))
    finally:
        os.umask(old)
    assert mode(target) == 0o600
    assert "a secret plan" in target.read_text()


def test_an_agent_export_is_created_0600(cli, tmp_path):
    target = tmp_path / "agent.toml"
    cli("agents", "export", "Assistant", "-o", str(target))
    assert mode(target) == 0o600 and 'name = "Assistant"' in target.read_text()


@pytest.mark.parametrize("command", [["chats", "export", "CID"], ["agents", "export", "Assistant"]])
def test_an_existing_file_is_overwritten_only_with_force(cli, cid, tmp_path, command):
    command = [str(cid) if word == "CID" else word for word in command]
    target = tmp_path / "taken.txt"
    target.write_text("my notes")
    target.chmod(0o644)

    line = one_error(cli(*command, "-o", str(target), check=False))
    assert "already exists" in line and "--force" in line
    assert target.read_text() == "my notes"

    cli(*command, "-o", str(target), "--force")
    assert target.read_text() != "my notes" and mode(target) == 0o600


@pytest.mark.parametrize("where,words", [
    ("DIR", "is a directory"),
    ("/dev/full", "no space left"),
    ("DIR/missing/chat.md", "does not exist"),
])
def test_an_export_that_cannot_be_written_is_one_clear_line(cli, cid, tmp_path, where, words):
    target = where.replace("DIR", str(tmp_path / "out"))
    (tmp_path / "out").mkdir()
    line = one_error(cli("chats", "export", str(cid), "-o", target, check=False))
    assert words in line
    assert list((tmp_path / "out").iterdir()) == []


def test_a_write_cut_short_leaves_the_old_file_and_no_scraps(cid, tmp_path, db_path):
    """A file size limit (as a full disk would) stops the write half way: nothing half-written stays."""
    out = tmp_path / "out"
    out.mkdir()
    target = out / "chat.md"
    target.write_text("the previous export")

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))

    env = {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(tmp_path / "none.toml")}
    result = subprocess.run([sys.executable, "-m", "agentterm", "chats", "export", str(cid), "-o", str(target),
                             "--force"], capture_output=True, text=True, env=env, preexec_fn=limit, timeout=60)
    line = one_error(result)
    assert "nothing was written" in line
    assert target.read_text() == "the previous export"
    assert [p.name for p in out.iterdir()] == ["chat.md"]
