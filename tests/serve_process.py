"""`agentterm serve` as a real process on a free loopback port, for tests (and bench/serve.py).

Started with `--port 0 --port-file`, so no port is guessed; stopped by its pid only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


class ServeProcess:
    def __init__(self, workdir: Path, db_path, config_path, *, start_timeout: float = 120.0) -> None:
        self.port_file = Path(workdir) / "serve.port"
        self.stderr_path = Path(workdir) / "serve.stderr"
        self.env = {**os.environ, "AGENTTERM_DB": str(db_path), "AGENTTERM_CONFIG": str(config_path)}
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> ServeProcess:
        self.port_file.unlink(missing_ok=True)
        self._stderr = self.stderr_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agentterm", "serve", "--port", "0", "--port-file", str(self.port_file)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=self._stderr)
        deadline = time.monotonic() + self.start_timeout
        while not (self.port_file.exists() and self.port_file.read_text().strip()):
            if self.proc.poll() is not None:
                raise RuntimeError(f"agentterm serve exited at start: {self.stderr()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"agentterm serve did not listen within {self.start_timeout} s")
            time.sleep(0.05)
        self.port = int(self.port_file.read_text())
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        """Send `sig` and wait for the exit; its exit code."""
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # this process's own pid, never a pattern
            self.proc.wait(30)
        self._stderr.close()
