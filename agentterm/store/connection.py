"""The store's connection to its database, as every store area uses it: over the port (port.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agentterm.models import to_iso, utcnow
from agentterm.store.port import Database, Dialect, Params


class StoreConnection:
    """Queries, writes and transactions through the backend's port (sqlite/ or postgres/)."""

    path: Path | str
    _db: Database
    # The database's clock minus ours (0 on SQLite): the times the store writes are the server's,
    # so heartbeats and activity written from machines whose clocks differ still compare.
    _clock_offset: timedelta = timedelta(0)

    def _set_clock(self) -> None:
        server = self._db.server_now()
        if server is not None:
            self._clock_offset = server - utcnow()

    def _now(self) -> datetime:
        """The time now as the store writes it: the database server's clock when it has one."""
        return utcnow() + self._clock_offset

    def _now_iso(self) -> str:
        return to_iso(self._now())

    @property
    def backend(self) -> str:
        """"sqlite" or "postgres"."""
        return self._db.dialect.name

    @property
    def _dialect(self) -> Dialect:
        return self._db.dialect

    @property
    def _lock(self):
        return self._db.lock

    # The fault-injection seam (tests/store_helpers.py: Faults): called with each write's
    # statement (BEGIN IMMEDIATE, INSERT/UPDATE/DELETE, COMMIT) and its parameters before it
    # runs; an error it raises takes the path the same fault from the database would.
    @property
    def _fault(self) -> Callable[[str, Any], None] | None:
        return self._db.fault

    @_fault.setter
    def _fault(self, fault: Callable[[str, Any], None] | None) -> None:
        self._db.fault = fault

    @property
    def _conn(self):
        """The SQLite connection (tests trace its statements); SQLite only."""
        return self._db.conn

    def check(self) -> list[str]:
        """What is wrong with the store ([] when it is sound): SQLite's quick_check reads every
        page, so it is for `agentterm doctor`, not for every open."""
        return self._db.check()

    def schema_version(self) -> int:
        return self._db.schema_version()

    def latest_schema_version(self) -> int:
        """The newest schema version this agentterm knows for the store's backend."""
        return self._db.latest_version()

    def server_info(self) -> dict[str, Any]:
        """{"backend", "where", "server" (host:port; None for a file), "version" ("PostgreSQL
        15.4", "SQLite 3.40.1"), "schema_version"}, for `agentterm doctor`."""
        return {**self._db.server_info(), "schema_version": self.schema_version()}

    def listen_changes(self, on_change: Callable[[str | None], None]) -> Any:
        """On PostgreSQL, a listener (postgres/notify.py: `.stop()`) calling `on_change` from its
        thread for each committed change to conversations or messages, by any machine; None on
        SQLite (one machine: nothing to hear)."""
        listen = getattr(self._db, "listen", None)
        return listen(on_change) if listen is not None else None

    def close(self) -> None:
        self._db.close()

    @property
    def db(self) -> Any:
        """A handle for tests and scripts, `.execute(sql, params)`: on SQLite a sqlite-utils
        Database over the store's connection."""
        return self._db.scripting()

    # --- transactions and statements ------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction; nested use joins the outer transaction."""
        with self._db.transaction():
            yield

    def _query(self, sql: str, params: Params = ()) -> list[dict]:
        return self._db.query(sql, params)

    def _one(self, sql: str, params: Params = ()) -> dict | None:
        rows = self._db.query(sql, params)
        return rows[0] if rows else None

    def _run(self, sql: str, params: Params = ()) -> int:
        """A write statement; the number of rows it changed."""
        return self._db.execute(sql, params)

    def _run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.execute_many(sql, rows)

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert a row given as {column: value}; its new id."""
        return self._db.insert(table, row)

    def _upsert(self, table: str, row: dict[str, Any], key: tuple[str, ...]) -> None:
        """Insert the row, or update the one with the same key (both dialects spell it so)."""
        updates = ", ".join(f"{c} = excluded.{c}" for c in row if c not in key)
        self._run(
            f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
            f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
            list(row.values()),
        )


def now_iso() -> str:
    """The time now as the store writes it."""
    return to_iso(utcnow())


def insert_sql(table: str, row: dict[str, Any]) -> str:
    """INSERT for a row given as {column: value}; column names are ours, never user input."""
    return f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
