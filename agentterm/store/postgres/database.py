"""The PostgreSQL backend's port: a psycopg 3 pool, transactions, `?` placeholders rewritten
for psycopg, migrations under an advisory lock, and the server's errors worded for the user."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg_pool import ConnectionPool

from agentterm.store.errors import StoreError, StoreUnreachable, ValueRefused
from agentterm.store.port import POSTGRES, Params
from agentterm.store.postgres import migrations, notify
from agentterm.store.target import mask

# The pool logs a connection it discards as a warning; with no handler Python would print it
# over the app's screen. The store says what happened in its own error instead.
logging.getLogger("psycopg").addHandler(logging.NullHandler())

CONNECT_TIMEOUT_SECONDS = 10
# A statement is prepared on its connection from its second run (psycopg's default: its sixth),
# so the server parses and plans the app's statements once, not five times each. The first
# page of the sidebar and an open, as the benchmark reads them in a new process: 1.8 -> 1.3 ms
# and 4.1 -> 2.7 ms (medians of 16, load 4-5). Search plans for its words (prepare=False).
PREPARE_THRESHOLD = 1
# Calls are serialised by the store's lock (one transaction at a time, as on SQLite); the pool
# keeps a spare connection or two so one lost to a server restart is replaced, not awaited.
POOL_SIZE = 2
# While the server is away, each call asks it directly, this long at most (a stopped server
# refuses at once; a cut network takes the whole wait), instead of waiting out the pool's
# timeout: the pool's own attempts back off, 1 s, 2 s, 4 s ... up to minutes apart.
PROBE_TIMEOUT_SECONDS = 3
# PostgreSQL's codes for a connection lost or refused by a server going down or full; with
# no code at all (the socket closed, nothing answered), psycopg's own connection errors.
_AWAY_STATES = ("57P01", "57P02", "57P03", "53300")


class PostgresDatabase:
    """A pool of connections to one database; a transaction holds one connection throughout."""

    dialect = POSTGRES

    def __init__(self, url: str, *, password: str | None = None):
        self.label = mask(url)  # a password in the URL shown as ***
        self.lock = threading.RLock()
        self.fault: Callable[[str, Any], None] | None = None
        self._tx: psycopg.Connection | None = None  # the connection of the transaction open
        self._away = False  # a call lost the server: the next one asks it directly first
        # What the open transaction wrote that the app's watch cares about (notify.py): sent
        # as NOTIFYs just before it commits.
        self._changes: set[str] = set()
        kwargs: dict[str, Any] = {"autocommit": True, "row_factory": dict_row,
                                  "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                                  "prepare_threshold": PREPARE_THRESHOLD}
        if password is not None:
            kwargs["password"] = password
        self._url, self._kwargs = url, kwargs  # for the change listener's own connection
        try:
            # Once directly, for the server's own reason when it cannot be reached (a pool
            # would only time out); also the server version, for doctor.
            with psycopg.connect(url, **kwargs) as probe:
                version = probe.info.parameter_status("server_version") or "?"
                self.server = f"{probe.info.host}:{probe.info.port}"
                self.server_version = f"PostgreSQL {version.split()[0]}"
        except psycopg.Error as error:
            raise StoreError(
                f"Cannot open the store {self.label}: {_first_line(error)}. Check that the "
                "server runs and the URL, user and password (PGPASSWORD, ~/.pgpass) are right."
            ) from None
        except Exception as error:  # a malformed URL: psycopg.ProgrammingError or ValueError
            raise StoreError(f"Cannot open the store {self.label}: {error}.") from None
        self.pool = self._new_pool()

    def _new_pool(self) -> ConnectionPool:
        return ConnectionPool(
            self._url, kwargs=self._kwargs, min_size=1, max_size=POOL_SIZE, open=True,
            name="agentterm-store", timeout=CONNECT_TIMEOUT_SECONDS,
        )  # fmt: skip

    # --- opening -------------------------------------------------------------------------

    def prepare(self, seed: Callable[[], None]) -> None:
        latest = migrations.latest_version()
        with self.transaction():
            conn = self._tx
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [migrations.MIGRATION_LOCK])
            found = migrations.schema_version(conn)
            if found == 0 and not migrations.has_migrations_table(conn) and migrations.tables(conn):
                raise StoreError(
                    f"{self.label} is a PostgreSQL database but not an agentterm store. It was "
                    "left as it is: choose another database."
                )
            if found > latest:
                raise StoreError(
                    f"The store {self.label} was written by a newer agentterm (schema version "
                    f"{found}; this one knows up to {latest}). It was left as it is: upgrade "
                    "agentterm to open it."
                )
            foreign = migrations.foreign_migration(conn)
            if foreign:
                version, theirs, ours = foreign
                raise StoreError(
                    f"The store {self.label} was written by another build of agentterm: its "
                    f"schema step {version} is {theirs!r}, here it is {ours!r}. It was left as "
                    "it is: open it with the agentterm that made it."
                )
            try:
                with conn.transaction():  # a savepoint: our message, not psycopg's, on failure
                    migrations.apply_migrations(conn)
                    if found == 0:
                        seed()
            except Exception as error:
                what = "Creating" if found == 0 else f"Upgrading (from schema version {found})"
                raise StoreError(
                    f"{what} the store {self.label} failed: {type(error).__name__}: "
                    f"{_first_line(error)}. It was rolled back: the database is as it was."
                ) from error

    def server_now(self) -> Any:
        """The server's clock, half a round trip late at most (loopback: well under 1 ms)."""
        return self.query("SELECT now() AS now")[0]["now"]

    def schema_version(self) -> int:
        with self.lock, self._connection() as conn:
            return migrations.schema_version(conn)

    def check(self) -> list[str]:
        return []  # the server checks its own pages; nothing to read through here

    def server_info(self) -> dict[str, Any]:
        return {"backend": "postgres", "where": self.label, "server": self.server,
                "version": self.server_version}

    def latest_version(self) -> int:
        return migrations.latest_version()

    def close(self) -> None:
        with self.lock:
            self.pool.close()

    # --- transactions --------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """The open transaction's connection, else one from the pool for this statement."""
        if self._tx is not None:
            yield self._tx
            return
        if self._away:
            self._come_back()
        try:
            with self.pool.connection() as conn:
                yield conn
        except psycopg.Error as error:
            raise self.error(error) from None
        except Exception as error:
            if type(error).__name__ == "PoolTimeout":
                raise self.error(error) from None
            raise

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction on one connection; nested use joins the outer one."""
        with self.lock:
            if self._tx is not None:
                yield
                return
            if self.fault is not None:
                self.fault("BEGIN", ())
            with self._connection() as conn:
                self._tx = conn
                self._changes = set()
                try:
                    with conn.transaction():
                        yield
                        if self._changes:
                            notify.send(conn, self._changes)
                        if self.fault is not None:
                            self.fault("COMMIT", ())
                except psycopg.Error as error:
                    raise self.error(error) from None
                finally:
                    self._tx = None
                    self._changes = set()

    def error(self, error: Exception) -> StoreError:
        text = _first_line(error)
        if isinstance(error, psycopg.errors.DiskFull):
            return StoreError(
                f"The store {self.label} is full: the server's disk has no room, so nothing "
                "more was saved. Free some space and try again."
            )
        if isinstance(error, psycopg.errors.NumericValueOutOfRange):
            return ValueRefused(f"A number is too large for the store ({text}): give a smaller one.")
        if isinstance(error, psycopg.errors.ReadOnlySqlTransaction):
            return StoreError(f"The store {self.label} is read-only (a standby?): {text}.")
        if isinstance(error, psycopg.errors.InsufficientPrivilege):
            return StoreError(f"The store {self.label} refused: {text}. Check the role's grants.")
        if isinstance(error, psycopg.errors.UntranslatableCharacter | psycopg.DataError) and (
            "NUL" in text or "0x00" in text
        ):
            return StoreError(
                f"The store {self.label} cannot keep text with a NUL character: this change was not saved."
            )
        if _lost(error):
            # The pool's idle connections went with it (a restart, a cut): the next call asks
            # the server directly, and once it answers starts a fresh pool (_come_back).
            self._away = True
            return StoreUnreachable(
                f"The store {self.label} cannot be reached ({text}): this change was not saved "
                "(what was saved before it is kept). Try again once the server is back."
            )
        if isinstance(error, psycopg.OperationalError):
            return StoreError(f"The store {self.label} failed ({text}): this change was not saved.")
        return StoreError(f"The store {self.label} failed: {text}.")

    def _come_back(self) -> None:
        """The server was lost: ask it directly, and once it answers, calls go to a fresh pool
        (the old one's attempts back off for minutes, and its idle connections are dead)."""
        try:
            psycopg.connect(self._url, **{**self._kwargs, "connect_timeout": PROBE_TIMEOUT_SECONDS}).close()
        except psycopg.Error as error:
            raise self.error(error) from None
        old, self.pool = self.pool, self._new_pool()
        self._away = False
        try:
            old.close(timeout=0)
        except Exception:  # noqa: BLE001 - its threads end on their own
            pass

    # --- statements ----------------------------------------------------------------------

    def query(self, sql: str, params: Params = (), *, prepare: bool | None = None) -> list[dict]:
        """Rows as dicts. A statement run often is prepared on its connection (psycopg's
        prepare_threshold); prepare=False plans it with its parameters every time (search.py:
        a generic plan cannot see which words are asked for)."""
        with self.lock, self._connection() as conn:
            try:
                cursor = conn.execute(to_psycopg(sql), _params(params), prepare=prepare)
                return cursor.fetchall() if cursor.description else []
            except psycopg.Error as error:
                raise self.error(error) from None

    def execute(self, sql: str, params: Params = ()) -> int:
        with self.lock, self._connection() as conn:
            if self.fault is not None:
                self.fault(sql, params)
            try:
                with self._notifying(conn, notify.payload(sql, params)):
                    return conn.execute(to_psycopg(sql), _params(params)).rowcount
            except psycopg.Error as error:
                raise self.error(error) from None

    def insert(self, table: str, row: dict[str, Any]) -> int:
        # Column names are ours, never user input.
        sql = (f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
               " RETURNING id")
        with self.lock, self._connection() as conn:
            if self.fault is not None:
                self.fault(sql, list(row.values()))
            try:
                with self._notifying(conn, notify.payload(sql, row)) as changed:
                    new_id = conn.execute(to_psycopg(sql), list(row.values())).fetchone()["id"]
                    if table == "conversations":
                        changed(str(new_id))
                    return new_id
            except psycopg.Error as error:
                raise self.error(error) from None

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        with self.lock, self._connection() as conn:
            if self.fault is not None:
                self.fault(sql, rows)
            try:
                with self._notifying(conn, notify.payload(sql, ())), conn.cursor() as cursor:
                    cursor.executemany(to_psycopg(sql), rows)
            except psycopg.Error as error:
                raise self.error(error) from None

    @contextmanager
    def _notifying(self, conn: psycopg.Connection, payload: str | None) -> Iterator[Callable]:
        """A write the watch cares about sends its NOTIFY in its own transaction: the open one's
        (at its commit), else one made for this statement. Yields `changed(payload)` for a payload
        known only after the statement (an insert's new id)."""
        found: set[str] = set() if payload is None else {payload}

        def changed(known: str) -> None:
            found.discard("")
            found.add(known)

        if payload is None:
            yield changed  # not the watch's business: no transaction of its own either
            return
        if self._tx is not None:
            yield changed
            self._changes |= found
            return
        with conn.transaction():
            yield changed
            if found:
                notify.send(conn, found)

    def listen(self, on_change: Callable[[str | None], None]) -> notify.ChangeListener:
        """LISTEN for the store's changes on a connection of its own (notify.py)."""
        return notify.ChangeListener(self._url, self._kwargs, on_change)

    def search_rows(self, query: str, limit: int, mine: tuple[str, list]) -> list[dict]:
        from agentterm.store.postgres.search import search_rows

        return search_rows(self, query, limit, mine)

    def matching_ids(self, query: str, where: str, params: list, limit: int) -> list[int]:
        from agentterm.store.postgres.search import matching_ids

        return matching_ids(self, query, where, params, limit)

    def scripting(self) -> Scripting:
        return Scripting(self)


class Scripting:
    """`store.db.execute(sql, params)` on PostgreSQL, as tests and scripts use sqlite-utils':
    `?` placeholders, tuples back, each statement committed (or joining the open transaction)."""

    def __init__(self, db: PostgresDatabase):
        self._db = db

    def execute(self, sql: str, params: Params = ()) -> psycopg.Cursor:
        with self._db.lock, self._db._connection() as conn:
            cursor = conn.cursor(row_factory=tuple_row)
            return cursor.execute(to_psycopg(sql), _params(params))


def _params(params: Params) -> Any:
    return params if isinstance(params, dict) else list(params)


@lru_cache(maxsize=1024)
def to_psycopg(sql: str) -> str:
    """The repositories' SQL (`?` and `:name` placeholders) as psycopg's (`%s`, `%(name)s`),
    with a literal % doubled; nothing inside quotes is taken for a placeholder."""
    out, i, n, quote = [], 0, len(sql), None
    while i < n:
        ch = sql[i]
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        elif ch == ":" and sql.startswith("::", i):
            out.append("::")
            i += 2
            continue
        elif ch == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            out.append(f"%({sql[i + 1:j]})s")
            i = j
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _lost(error: BaseException) -> bool:
    """The server is away (stopped, restarting, out of connections) or the network to it cut."""
    if type(error).__name__ == "PoolTimeout":
        return True
    if not isinstance(error, psycopg.OperationalError):
        return False
    state = getattr(error, "sqlstate", None)
    return state is None or state.startswith("08") or state in _AWAY_STATES


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(error).__name__
