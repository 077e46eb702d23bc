"""What the benchmark scripts share: the stores, a clean environment, tmux runs, statistics."""

from __future__ import annotations

import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("AGENTTERM_BENCH_DIR", "/tmp/agentterm-bench"))
BIG_DB = WORK / "big.db"


def big_store(path: Path = BIG_DB) -> Path:
    """The full benchmark store, generated on first use (about a minute)."""
    if not path.exists():
        print(f"generating {path} (10,000 conversations, 200,000 messages) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "bench.generate", "--db", str(path), "--quiet"],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return path


def empty_store(tag: str = "empty") -> Path:
    """A path where no store exists yet: the app creates it, as on a first start."""
    folder = Path(tempfile.mkdtemp(prefix=f"agentterm-{tag}-", dir=WORK))
    return folder / "agentterm.db"


def clean_env(home: Path | None = None) -> dict[str, str]:
    """A user with no config and no key: what a first start sees (the app still opens)."""
    home = home or Path(tempfile.mkdtemp(prefix="home-", dir=WORK))
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TERM": "tmux-256color",
        "LANG": "C.UTF-8",
    }
    return env


def real_binary(name: str) -> str:
    """The program itself, past a pyenv shim (a bash script that would add its own start time)."""
    found = shutil.which(name) or name
    try:
        text = Path(found).read_text(errors="replace")[:200]
    except OSError:
        return found
    if "pyenv" in text and shutil.which("pyenv"):
        out = subprocess.run(["pyenv", "which", name], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return found


class TmuxRun:
    """One program in a detached tmux session of a given size, started on our signal.

    The session first waits on a FIFO, so the tmux server's own start is not timed: the clock
    starts when we release it and the shell execs the program (same pid).
    """

    def __init__(self, command: list[str], env: dict[str, str], *, width: int = 120, height: int = 40) -> None:
        self.socket = f"agentterm-bench-{uuid.uuid4().hex[:8]}"
        self.fifo = WORK / f"{self.socket}.fifo"
        os.mkfifo(self.fifo)
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        script = f"read _ < {shlex.quote(str(self.fifo))}; exec env -i {exports} {shlex.join(command)}"
        self._tmux("new-session", "-d", "-s", "b", "-x", str(width), "-y", str(height), f"sh -c {shlex.quote(script)}")
        self.pid = int(self._tmux("display-message", "-p", "-t", "b", "#{pane_pid}").strip())
        self.started = 0.0

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30).stdout

    def start(self) -> float:
        with open(self.fifo, "w") as fifo:
            self.started = time.perf_counter()
            fifo.write("go\n")
        return self.started

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "b")

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "b", *keys)

    def wait_for(self, *texts: str, timeout: float = 60.0, interval: float = 0.005) -> float:
        """Seconds from start until every text is on the screen at once."""
        deadline = time.perf_counter() + timeout
        while True:
            screen = self.screen()
            now = time.perf_counter()
            if all(text in screen for text in texts):
                return now - self.started
            if now > deadline:
                raise TimeoutError(f"{texts!r} not on screen after {timeout} s:\n{screen}")
            time.sleep(interval)

    def rss_mb(self) -> float:
        return status_mb(self.pid, "VmRSS")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)
        # The server may leave its socket file behind.
        sockets = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        for leftover in (self.fifo, sockets / self.socket):
            leftover.unlink(missing_ok=True)


def status_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def median(values: list[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    from importlib.metadata import version

    return (f"{os.cpu_count()} cores, {model}, {mem / 1024 / 1024:.0f} GiB, Python {platform.python_version()}, "
            f"Textual {version('textual')}")


def ensure_tmux() -> None:
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed: apt-get install tmux")
    WORK.mkdir(parents=True, exist_ok=True)
