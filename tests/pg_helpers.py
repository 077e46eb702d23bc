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

    def stop_server(self) -> None:
        """Stop the server and leave it stopped (the tests of a server away); start_server()."""
        self._pg("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")

    def start_server(self) -> None:
        """Start it again on the same port, after stop_server()."""
        self._pg_ctl_start()

    def terminate(self, dbname: str) -> int:
        """pg_terminate_backend of every connection to `dbname` (ours): how many there were."""
        rows = self.admin(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            f"WHERE datname = '{dbname}' AND pid <> pg_backend_pid()"
        )
        return rows[0][0]

    def stop(self) -> None:
        """Stop our own server (pg_ctl on our data directory) and remove its directory."""
        if self._running:
            self._pg("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w", check=False)
            self._running = False
        shutil.rmtree(self.root, ignore_errors=True)


class TcpProxy:
    """A loopback TCP proxy in front of the test server, which a test can cut (every connection
    through it closed at once, new ones refused: a network cut as the client sees it) and mend
    (the same port listening again). Threads of its own; close() ends them."""

    def __init__(self, target_port: int) -> None:
        import threading

        self._target = ("127.0.0.1", target_port)
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._closed = False
        self.port = 0
        self.mend()

    def url(self, pg_url: str) -> str:
        """`pg_url` through the proxy."""
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(pg_url)
        return urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{self.port}"))

    def mend(self) -> None:
        import threading

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        for sock in [listener, *sockets]:
            if sock is None:
                continue
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self) -> None:
        self._closed = True
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        import threading

        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut or closed
            try:
                upstream = socket.create_connection(self._target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
