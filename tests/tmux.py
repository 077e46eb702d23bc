"""Drive the real `agentterm` command in tmux, as a person at a terminal would."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid


def ensure_tmux() -> str | None:
    """The tmux binary, installing Debian's package when missing and allowed; None if unavailable."""
    found = shutil.which("tmux")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "timeout": 600}
    subprocess.run(["apt-get", "update"], check=False, **quiet)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "tmux"], check=False, env=env, **quiet)
    return shutil.which("tmux")


class Tmux:
    """One detached tmux session running a command, with its own server socket."""

    def __init__(self, command: list[str], env: dict[str, str], width: int = 120, height: int = 40) -> None:
        self.socket = f"agentterm-test-{uuid.uuid4().hex[:8]}"
        self.name = "t"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        shell_command = f"env {exports} {shlex.join(command)}"
        self._tmux("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), shell_command)

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        return result.stdout

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.name, *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.name, "-l", text)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not appear within {timeout} s; the screen:\n{screen}")
            time.sleep(0.1)

    def wait_gone(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text not in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} was still shown after {timeout} s; the screen:\n{screen}")
            time.sleep(0.1)

    def alive(self) -> bool:
        return self.name in self._tmux("list-sessions", "-F", "#{session_name}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)
