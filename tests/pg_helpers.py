"""A real PostgreSQL for the tests: Debian's initdb and pg_ctl, in a temporary directory, on a
free loopback port, run as an unprivileged user when the tests run as root (initdb refuses root).

    cluster = PostgresCluster.start()     # tests/conftest.py: the session's `pg_cluster`
    url = cluster.create_database()       # a fresh, empty database owned by the role `agentterm`
    cluster.stop()                        # pg_ctl stop on our own data directory, then removed

The cluster trusts loopback connections (no password) and runs with fsync off: it is thrown
away at the end, and a test killing a client (kill -9 mid-stream) never needs the server's
own crash safety. Where the binaries are missing, the harness runs `.ci/install-postgres` first.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROLE = "agentterm"  # the role the store connects as: not a superuser (row-level security binds it)
ADMIN = "postgres"  # the cluster's superuser, for creating databases and roles
INSTALL_HINT = "run .ci/install-postgres (apt-get install postgresql), or set AGENTTERM_PG_BIN"


class PostgresMissing(RuntimeError):
    """No initdb/pg_ctl on this machine."""


INSTALL_SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "install-postgres"


def find_bindir() -> Path:
    """Where initdb and pg_ctl are; on a machine without them, .ci/install-postgres first.

    The tests install what they need themselves, so the README's one test command is all the
    set-up a fresh machine needs (and .ci/run stays exactly that command).
    """
    try:
        return _find_bindir()
    except PostgresMissing:
        if os.environ.get("AGENTTERM_PG_BIN") or not INSTALL_SCRIPT.exists():
            raise
    installed = subprocess.run([str(INSTALL_SCRIPT)], capture_output=True, text=True)
    if installed.returncode != 0:
        tail = (installed.stderr or installed.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PostgresMissing(f"{INSTALL_SCRIPT.name} failed ({tail[0]}): {INSTALL_HINT}.")
    return _find_bindir()


def _find_bindir() -> Path:
    """Where initdb and pg_ctl are: $AGENTTERM_PG_BIN, Debian's newest, or the PATH."""
    candidates = []
    if os.environ.get("AGENTTERM_PG_BIN"):
        candidates.append(Path(os.environ["AGENTTERM_PG_BIN"]))
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    candidates += [Path(p) for p in versions]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    raise PostgresMissing(f"PostgreSQL's initdb and pg_ctl were not found: {INSTALL_HINT}.")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged user to run the server as when we are root; None when we are not."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresMissing("Running as root with no 'postgres' or 'nobody' user to run initdb as.")


@dataclass
class PostgresCluster:
    """One throwaway server; `create_database()` hands each test an empty database."""

    bindir: Path
    root: Path
    port: int
    user: pwd.struct_passwd | None
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))
    _running: bool = False

    @property
    def data(self) -> Path:
        return self.root / "data"

    @classmethod
    def start(cls) -> PostgresCluster:
        bindir = find_bindir()
        user = _run_as()
        root = Path(tempfile.mkdtemp(prefix="agentterm-pg-"))
        if user is not None:
            os.chown(root, user.pw_uid, user.pw_gid)
        cluster = cls(bindir=bindir, root=root, port=0, user=user)
        try:
            cluster._initdb()
            cluster._start_server()
            cluster._create_role()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _pg(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        kwargs = {}
        if self.user is not None:
            kwargs = dict(user=self.user.pw_uid, group=self.user.pw_gid, extra_groups=[])
        result = subprocess.run(
            [str(self.bindir / program), *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            env={**os.environ, "LC_ALL": "C.UTF-8", "PGTZ": "UTC"},
            **kwargs,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{program} {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}\n{self._log_tail()}"
            )
        return result

    def _log_tail(self) -> str:
        log = self.root / "server.log"
        try:
            return "server.log:\n" + "\n".join(log.read_text().splitlines()[-20:])
        except OSError:
            return ""

    def _initdb(self) -> None:
        self._pg(
            "initdb", "-D", str(self.data), "-U", ADMIN, "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip

    def _options(self) -> str:
        return " ".join([
            f"-p {self.port}", "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.root}",
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
            "-c max_connections=200", "-c shared_buffers=32MB",
        ])  # fmt: skip

    def _pg_ctl_start(self, check: bool = True) -> subprocess.CompletedProcess:
        return self._pg(
            "pg_ctl", "start", "-D", str(self.data), "-l", str(self.root / "server.log"),
            "-w", "-t", "120", "-o", self._options(), check=check,
        )  # fmt: skip

    def _start_server(self) -> None:
        # A port free a moment ago may be taken by another test run by now: try a few.
        for attempt in range(5):
            self.port = _free_port()
            if self._pg_ctl_start(check=attempt == 4).returncode == 0:
                self._running = True
                return

    def _create_role(self) -> None:
        self.admin(f"CREATE ROLE {ROLE} LOGIN CREATEDB")

    def admin(self, sql: str, dbname: str = "postgres") -> list[tuple]:
        """Run SQL as the superuser (autocommit: CREATE DATABASE needs it)."""
        import psycopg

        with psycopg.connect(self.url(dbname, user=ADMIN), autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def url(self, dbname: str, user: str = ROLE) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database owned by the role `agentterm`; its URL as that role."""
        name = name or f"test_{next(self._names)}"
        # FILE_COPY: a small database is copied in a few milliseconds, without WAL-logging it.
        self.admin(f'CREATE DATABASE "{name}" OWNER {ROLE} TEMPLATE template0 STRATEGY FILE_COPY')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def restart(self) -> None:
        """Stop the server and start it again on the same port (the reconnection tests)."""
        self._pg("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")
        self._pg_ctl_start()

    def stop(self) -> None:
        """Stop our own server (pg_ctl on our data directory) and remove its directory."""
        if self._running:
            self._pg("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w", check=False)
            self._running = False
        shutil.rmtree(self.root, ignore_errors=True)
