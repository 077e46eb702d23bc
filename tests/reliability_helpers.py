"""Helpers for the reliability tests: configs, the command line as a process, a raw pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

# A key that appears nowhere else: every byte agentterm writes is searched for it.
MARKER_KEY = "sk-reliability-MARKER-5f3a9c71e2"
KEY_ENV = "AGENTTERM_RELIABILITY_KEY"
AGENTTERM = [sys.executable, "-m", "agentterm"]


def write_config(path: Path, base_url: str, *, timeout: float = 5, key_env: str | None = KEY_ENV,
                 extra: str = "") -> Path:
    """A config whose default provider is `base_url`, its key (if any) in $`key_env`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ['default_provider = "local"', "", "[providers.local]", f'base_url = "{base_url}"',
             'model = "test-model"', 'title_model = "test-title-model"', f"timeout = {timeout}"]
    if key_env:
        lines.append(f'api_key_env = "{key_env}"')
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def cli_env(db: Path, config: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "AGENTTERM_DB": str(db), "AGENTTERM_CONFIG": str(config), KEY_ENV: MARKER_KEY}
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str], stdin: bytes | str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    """`agentterm ARGS` as a process; stdout and stderr as bytes (what reaches a terminal)."""
    if isinstance(stdin, str):
        stdin = stdin.encode()
    return subprocess.run([*AGENTTERM, *args], input=stdin, capture_output=True, env=env, timeout=timeout,
                          check=False)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The command failed with exactly one line on stderr, no traceback: that line."""
    err = result.stderr.decode()
    assert result.returncode != 0, (result.returncode, err)
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("agentterm: error: "), err
    return lines[0]


def wait_until(condition, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    """Poll until `condition()` is truthy; its value. Generous: the suite runs on busy machines."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s")
        time.sleep(interval)


def read_rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows read straight from the file (read-only), without opening a Store (which recovers)."""
    if not Path(db).exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []  # not created yet
    finally:
        conn.close()


def answers(db: Path) -> list[tuple[int, str, str]]:
    """(id, status, content) of every assistant message, oldest first."""
    return read_rows(db, "SELECT id, status, content FROM messages WHERE role = 'assistant' ORDER BY id")


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def agentterm_pid(root: int) -> int:
    """The python process running agentterm at or below `root`."""
    for pid in [root, *descendants(root)]:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"agentterm" in cmdline and any(b"python" in part for part in cmdline[:1]):
            return pid
    raise AssertionError(f"no agentterm process under {root}")


class PtyProcess:
    """A command on a real pseudo-terminal; `output` is every raw byte it wrote to the terminal."""

    def __init__(self, argv: list[str], env: dict[str, str], cols: int = 120, rows: int = 40) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {**env, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
        env.pop("NO_COLOR", None)
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.master = master
        self._chunks: list[bytes] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self._chunks.append(data)

    @property
    def output(self) -> bytes:
        with self._lock:
            return b"".join(self._chunks)

    def send(self, data: str | bytes) -> None:
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    def type(self, text: str, pause: float = 0.0) -> None:
        for char in text:
            self.send(char)
            if pause:
                time.sleep(pause)

    def wait_for(self, needle: bytes, timeout: float = 30.0, start: int = 0) -> None:
        wait_until(lambda: needle in self.output[start:], timeout, what=f"{needle!r} on the terminal")

    def close(self, timeout: float = 10.0) -> int | None:
        """Quit (ctrl+q), then make sure it is gone; the exit code."""
        if self.proc.poll() is None:
            try:
                self.send(b"\x11")
                self.proc.wait(timeout=timeout)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        try:
            os.close(self.master)
        except OSError:
            pass
        return self.proc.returncode
