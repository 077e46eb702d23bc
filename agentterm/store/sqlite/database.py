"""The SQLite backend's port: opening the file (created private, checked, migrated), one write
transaction at a time, queries, and SQLite's errors worded for the user."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentterm.store.errors import StoreError, ValueRefused
from agentterm.store.port import SQLITE, Params
from agentterm.store.sqlite import migrations

BUSY_TIMEOUT_SECONDS = 5.0
INTEGER_RANGE = range(-(2**63), 2**63)


def _readable(params: Params) -> Params:
    """sqlite3 raises OverflowError for an int beyond 64 bits (`chats show 99999999999999999999`,
    GET /api/sessions/99999999999999999999). As a float it compares as the number it is: no
    row's id equals it, every id is below it, so a lookup finds nothing and says so."""
    if isinstance(params, dict):
        return {k: _fit(v) for k, v in params.items()}
    return [_fit(v) for v in params]


def _fit(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value not in INTEGER_RANGE:
        return float(value)
    return value


def _storable(params: Params) -> None:
    """A number beyond 64 bits cannot be stored: one line, not sqlite3's OverflowError."""
    values = params.values() if isinstance(params, dict) else params
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value not in INTEGER_RANGE:
            raise ValueRefused(f"The number {value} is too large for the store (the largest is "
                             f"{2**63 - 1}): give a smaller one.")


class SqliteDatabase:
    """One sqlite3 connection to the store's file, shared by the threads through `lock`."""

    dialect = SQLITE

    def __init__(self, path: Path | str):
        self.path = path if path == ":memory:" else Path(path).expanduser()
        self.label = self.path
        self.lock = threading.RLock()
        self.fault: Callable[[str, Any], None] | None = None
        self.conn = self._connect()

    # --- opening -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            self._create_file()
        try:
            # isolation_level=None: the driver opens no transaction of its own; transaction() does.
            conn = sqlite3.connect(
                str(self.path),
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as error:
            raise StoreError(f"Cannot open the store {self.path}: {error}.") from error
        try:
            # A file that is not a database opens fine and fails at the first read; read now,
            # before anything could write to it.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError as error:
            conn.close()
            raise StoreError(
                f"{self.path} is not an agentterm store, or it is damaged ({error}). "
                "It was left as it is: move it aside or choose another file with --db."
            ) from error
        problem = None
        if version > migrations.latest_version():
            problem = (
                f"The store {self.path} was written by a newer agentterm (schema version "
                f"{version}; this one knows up to {migrations.latest_version()}). It was left "
                "as it is: upgrade agentterm to open it."
            )
        elif version == 0 and tables:
            problem = (
                f"{self.path} is an SQLite database but not an agentterm store. It was left "
                "as it is: choose another file with --db."
            )
        elif self.path != ":memory:" and not os.access(self.path, os.W_OK):
            problem = f"The store {self.path} is read-only: check its permissions."
        if problem:
            conn.close()
            raise StoreError(problem)
        return conn

    def _create_file(self) -> None:
        """Create the directory (0700) and the file (0600) when missing, before SQLite does."""
        path = self.path
        try:
            if path.is_dir():
                raise StoreError(f"The store {path} is a directory; give the path of a file.")
            if path.exists() and not path.is_file():  # a FIFO, a device: SQLite says only "disk I/O error"
                raise StoreError(f"The store {path} is not a regular file (a pipe or a device); "
                                 "give the path of a SQLite file.")
            if not path.parent.is_dir():
                path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
                path.parent.chmod(0o700)
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:
                return  # there already, or another process created it a moment ago
            os.close(fd)
            path.chmod(0o600)
        except OSError as error:
            raise StoreError(
                f"Cannot create the store {path}: {error.strerror or error}. "
                "Choose a writable location with --db or $AGENTTERM_DB."
            ) from error

    def prepare(self, seed: Callable[[], None]) -> None:
        for pragma in (
            "PRAGMA journal_mode = WAL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA recursive_triggers = ON",  # as sqlite-utils sets it, for scripts sharing the file
            f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}",
        ):
            try:
                self.conn.execute(pragma)
            except sqlite3.Error as error:
                raise self.error(error) from error
        with self.transaction():
            # Read again inside the lock: another process may have migrated it meanwhile.
            found = migrations.schema_version(self.conn)
            if found > migrations.latest_version():
                raise StoreError(
                    f"The store {self.path} was upgraded by a newer agentterm meanwhile; "
                    "upgrade agentterm to open it."
                )
            foreign = migrations.foreign_migration(self.conn)
            if foreign:
                version, theirs, ours = foreign
                raise StoreError(
                    f"The store {self.path} was written by another build of agentterm: its "
                    f"schema step {version} is {theirs!r}, here it is {ours!r}. It was left as "
                    "it is: open it with the agentterm that made it."
                )
            try:
                migrations.apply_migrations(self.conn)
                if found == 0:
                    seed()
            except Exception as error:  # any fault: the transaction is rolled back
                what = "Creating" if found == 0 else f"Upgrading (from schema version {found})"
                raise StoreError(
                    f"{what} the store {self.path} failed: {type(error).__name__}: {error}. "
                    "It was rolled back: the file is as it was."
                ) from error

    def server_now(self) -> None:
        return None  # one machine: its own clock

    def schema_version(self) -> int:
        return migrations.schema_version(self.conn)

    def check(self) -> list[str]:
        """What SQLite's quick_check finds wrong with the file; [] when it is sound.

        It reads every page, so it is for `agentterm doctor`, not for every open.
        """
        try:
            rows = self.fetch("PRAGMA quick_check")
        except sqlite3.DatabaseError as error:
            return [str(error)]
        problems = [next(iter(row.values())) for row in rows]
        return [] if problems == ["ok"] else problems

    def server_info(self) -> dict[str, Any]:
        return {"backend": "sqlite", "where": str(self.path), "server": None,
                "version": f"SQLite {sqlite3.sqlite_version}"}

    def latest_version(self) -> int:
        return migrations.latest_version()

    def close(self) -> None:
        with self.lock:
            try:
                self.conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass  # only planner statistics: never worth failing a close
            self.conn.close()

    # --- transactions --------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction, begun with BEGIN IMMEDIATE so it takes the write lock up front.

        A deferred BEGIN (what sqlite3 and sqlite-utils' atomic() issue) takes the lock at the
        first write and can then fail with SQLITE_BUSY without waiting, when another process
        wrote since our read. Nested use joins the outer transaction.
        """
        with self.lock:
            if self.conn.in_transaction:
                yield
                return
            try:
                self._execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise self.error(error) from error
            try:
                yield
            except sqlite3.Error as error:
                self._rollback()
                raise self.error(error) from error
            except BaseException:
                self._rollback()
                raise
            try:
                self._execute("COMMIT")
            except sqlite3.Error as error:
                self._rollback()
                raise self.error(error) from error

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def error(self, error: sqlite3.Error) -> StoreError:
        text = str(error)
        if "locked" in text or "busy" in text:
            return StoreError(
                f"The store {self.path} is busy: another agentterm process (or another program) "
                f"held it for more than {BUSY_TIMEOUT_SECONDS:g} seconds. Try again."
            )
        if getattr(error, "sqlite_errorname", "") == "SQLITE_FULL" or "disk is full" in text:
            return StoreError(
                f"The store {self.path} is full: the disk (or its size limit) has no room, so "
                "nothing more was saved. Free some space and try again."
            )
        if "readonly" in text:
            return StoreError(f"The store {self.path} is read-only: check its permissions.")
        if "malformed" in text or "not a database" in text:
            return StoreError(
                f"The store {self.path} is damaged ({text}). Copy it aside, then try "
                f'`sqlite3 {self.path} ".recover" | sqlite3 recovered.db`.'
            )
        return StoreError(f"The store {self.path} failed: {text}.")

    # --- statements ----------------------------------------------------------------------

    def query(self, sql: str, params: Params = ()) -> list[dict]:
        try:
            return self.fetch(sql, params)
        except sqlite3.Error as error:
            raise self.error(error) from error

    def fetch(self, sql: str, params: Params = ()) -> list[dict]:
        """Rows as dicts, letting sqlite3's errors through (search needs to see FTS5's)."""
        # The lock keeps another thread's read out of a write transaction in progress.
        with self.lock:
            cursor = self.conn.execute(sql, _readable(params))
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row)) for row in cursor]

    def execute(self, sql: str, params: Params = ()) -> int:
        with self.lock:
            return self._run(sql, params).rowcount

    def insert(self, table: str, row: dict[str, Any]) -> int:
        # Column names are ours, never user input.
        sql = f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
        with self.lock:
            return self._run(sql, list(row.values())).lastrowid

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.lock:
            if self.fault is not None:
                rows = list(rows)
                self.fault(sql, rows)
            self.conn.executemany(sql, (_storable(row) or row for row in rows))

    def _run(self, sql: str, params: Params) -> sqlite3.Cursor:
        _storable(params)
        return self._execute(sql, params if isinstance(params, dict) else tuple(params))

    def _execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        if self.fault is not None:
            self.fault(sql, params)
        return self.conn.execute(sql, params)

    def search_rows(self, query: str, limit: int, mine: tuple[str, list]) -> list[dict]:
        from agentterm.store.sqlite.search import search_rows

        return search_rows(self, query, limit, mine)

    def matching_ids(self, query: str, where: str, params: list, limit: int) -> list[int]:
        from agentterm.store.sqlite.search import matching_ids

        return matching_ids(self, query, where, params, limit)

    def scripting(self) -> Any:
        """The connection as a sqlite-utils Database, for tests and scripts.

        The store itself talks to sqlite3: importing sqlite-utils (and numpy, which it imports
        when installed) would add a tenth of a second and 15 MB to every start.
        """
        from sqlite_utils import Database

        return Database(self.conn, execute_plugins=False)
