"""The SQLite connection under a Store: opening the file, one write transaction at a time, queries."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentterm.models import to_iso, utcnow
from agentterm.store import migrations
from agentterm.store.errors import StoreError

if TYPE_CHECKING:
    from sqlite_utils import Database

BUSY_TIMEOUT_SECONDS = 5.0


class StoreConnection:
    """Opens the file (created private, checked, migrated) and talks to it for every store area."""

    path: Path | str
    _lock: threading.RLock
    _conn: sqlite3.Connection
    # The fault-injection seam (tests/store_helpers.py: Faults): called with each write's
    # statement (BEGIN IMMEDIATE, INSERT/UPDATE/DELETE, COMMIT) and its parameters before it
    # runs; an sqlite3.Error it raises takes the path the same fault from SQLite would.
    _fault: Callable[[str, Any], None] | None = None

    # --- opening -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            self._create_file()
        try:
            # isolation_level=None: the driver opens no transaction of its own; _write() does.
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

    def _prepare(self) -> None:
        for pragma in (
            "PRAGMA journal_mode = WAL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA recursive_triggers = ON",  # as sqlite-utils sets it, for scripts sharing the file
            f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}",
        ):
            try:
                self._conn.execute(pragma)
            except sqlite3.Error as error:
                raise self._error(error) from error
        with self._write():
            # Read again inside the lock: another process may have migrated it meanwhile.
            found = migrations.schema_version(self._conn)
            if found > migrations.latest_version():
                raise StoreError(
                    f"The store {self.path} was upgraded by a newer agentterm meanwhile; "
                    "upgrade agentterm to open it."
                )
            foreign = migrations.foreign_migration(self._conn)
            if foreign:
                version, theirs, ours = foreign
                raise StoreError(
                    f"The store {self.path} was written by another build of agentterm: its "
                    f"schema step {version} is {theirs!r}, here it is {ours!r}. It was left as "
                    "it is: open it with the agentterm that made it."
                )
            try:
                migrations.apply_migrations(self._conn)
                if found == 0:
                    self._seed()
            except Exception as error:  # any fault: the transaction is rolled back
                what = "Creating" if found == 0 else f"Upgrading (from schema version {found})"
                raise StoreError(
                    f"{what} the store {self.path} failed: {type(error).__name__}: {error}. "
                    "It was rolled back: the file is as it was."
                ) from error

    def check(self) -> list[str]:
        """What SQLite's quick_check finds wrong with the file; [] when it is sound.

        It reads every page, so it is for `agentterm doctor`, not for every open.
        """
        try:
            rows = self._fetch("PRAGMA quick_check")
        except sqlite3.DatabaseError as error:
            return [str(error)]
        problems = [next(iter(row.values())) for row in rows]
        return [] if problems == ["ok"] else problems

    def close(self) -> None:
        with self._lock:
            try:
                self._conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass  # only planner statistics: never worth failing a close
            self._conn.close()

    # --- transactions --------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction, begun with BEGIN IMMEDIATE so it takes the write lock up front.

        A deferred BEGIN (what sqlite3 and sqlite-utils' atomic() issue) takes the lock at the
        first write and can then fail with SQLITE_BUSY without waiting, when another process
        wrote since our read. Nested use joins the outer transaction.
        """
        with self._lock:
            if self._conn.in_transaction:
                yield
                return
            try:
                self._execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise self._error(error) from error
            try:
                yield
            except sqlite3.Error as error:
                self._rollback()
                raise self._error(error) from error
            except BaseException:
                self._rollback()
                raise
            try:
                self._execute("COMMIT")
            except sqlite3.Error as error:
                self._rollback()
                raise self._error(error) from error

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _error(self, error: sqlite3.Error) -> StoreError:
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

    def _query(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[dict]:
        try:
            return self._fetch(sql, params)
        except sqlite3.Error as error:
            raise self._error(error) from error

    def _fetch(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[dict]:
        """Rows as dicts, letting sqlite3's errors through (search needs to see FTS5's)."""
        # The lock keeps another thread's read out of a write transaction in progress.
        with self._lock:
            cursor = self._conn.execute(sql, params)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row)) for row in cursor]

    @cached_property
    def db(self) -> Database:
        """The connection as a sqlite-utils Database, for tests and scripts.

        The store itself talks to sqlite3: importing sqlite-utils (and numpy, which it imports
        when installed) would add a tenth of a second and 15 MB to every start.
        """
        from sqlite_utils import Database

        return Database(self._conn, execute_plugins=False)

    def _one(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> dict | None:
        rows = self._query(sql, params)
        return rows[0] if rows else None

    def _run(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._execute(sql, params if isinstance(params, dict) else tuple(params))

    def _run_many(self, sql: str, rows: Iterable[Iterable[Any]]) -> sqlite3.Cursor:
        with self._lock:
            if self._fault is not None:
                rows = list(rows)
                self._fault(sql, rows)
            return self._conn.executemany(sql, rows)

    def _execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        if self._fault is not None:
            self._fault(sql, params)
        return self._conn.execute(sql, params)


def now_iso() -> str:
    """The time now as the store writes it."""
    return to_iso(utcnow())


def insert_sql(table: str, row: dict[str, Any]) -> str:
    """INSERT for a row given as {column: value}; column names are ours, never user input."""
    return f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
