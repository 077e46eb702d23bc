"""Helpers for store tests: times moved into the past, and writes that fail as SQLite's do."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from agentterm.models import to_iso, utcnow
from agentterm.store import Store


def age(store: Store, cid: int, **delta: float) -> None:
    """Move a conversation's last activity into the past."""
    moment = to_iso(utcnow() - timedelta(**delta))
    store.db.execute("UPDATE conversations SET last_activity_at = ? WHERE id = ?", [moment, cid])


def stale(store: Store, mid: int, seconds: float = 11) -> None:
    """Move a streaming answer's heartbeat into the past, as if its writer died that long ago."""
    moment = to_iso(utcnow() - timedelta(seconds=seconds))
    store.db.execute("UPDATE messages SET heartbeat_at = ? WHERE id = ?", [moment, mid])


# What SQLite says for each fault, word for word: the store words its StoreError from it.
SQLITE_FAULTS: dict[str, str] = {
    "full": "database or disk is full",  # SQLITE_FULL: a full disk, or max_page_count reached
    "io": "disk I/O error",  # SQLITE_IOERR: a failing disk, a vanished network mount
    "locked": "database is locked",  # SQLITE_BUSY after the busy timeout: another writer held it
}
_WRITE = re.compile(r"\s*(BEGIN|COMMIT|INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


@dataclass
class Faults:
    """Make the store's writes fail as SQLite would, at a chosen step, on a real store file.

    Through the store's own seam (StoreConnection._fault, called before each write statement
    runs), so the failure takes exactly the path a real one takes: the transaction is rolled
    back, and the caller gets the StoreError that fault gets ("The store ... is full ...").

        faults = Faults.install(store)
        faults.fail("full", nth=3)                     # the 3rd write statement from now
        faults.fail("io", when="UPDATE messages")      # the next statement starting so
        faults.fail("locked", when=lambda sql, params: sql.startswith("BEGIN"), times=None)
        ...                                            # run the reply flow
        faults.log                                     # every write statement seen, in order
        faults.failed                                  # those that were made to fail
        faults.clear()                                 # writes succeed again
        faults.remove()                                # the seam taken out of the store

    Writes are BEGIN IMMEDIATE, COMMIT and each INSERT/UPDATE/DELETE (a trigger's own
    statements are inside its statement); reads are never failed. `nth` counts matching
    writes from the call to fail(), from 1; `when` is a prefix of the statement's SQL or a
    predicate over (sql, params); `times` is how many consecutive matches fail (None: all).
    A fault at "COMMIT" is the disk filling at the very end: the whole write is rolled back.
    Works from any thread (AsyncStore's worker included).
    """

    store: Store
    log: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    _rules: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def install(cls, store: Store) -> Faults:
        faults = cls(store)
        store._fault = faults._check
        return faults

    def fail(
        self,
        fault: str = "full",
        *,
        nth: int = 1,
        when: str | Callable[[str, Any], bool] | None = None,
        times: int | None = 1,
    ) -> None:
        if fault not in SQLITE_FAULTS:
            raise ValueError(f"fault must be one of {', '.join(SQLITE_FAULTS)}")
        if isinstance(when, str):
            prefix = when
            when = lambda sql, params: sql.lstrip().startswith(prefix)  # noqa: E731
        with self._lock:
            self._rules.append({"fault": fault, "skip": nth - 1, "when": when, "times": times})

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def remove(self) -> None:
        self.clear()
        self.store._fault = None

    def _check(self, sql: str, params: Any) -> None:
        if not _WRITE.match(sql):
            return
        with self._lock:
            self.log.append(sql)
            for rule in self._rules:
                if rule["when"] is not None and not rule["when"](sql, params):
                    continue
                if rule["skip"] > 0:
                    rule["skip"] -= 1
                    continue
                if rule["times"] is not None:
                    rule["times"] -= 1
                    if rule["times"] <= 0:
                        self._rules.remove(rule)
                self.failed.append(sql)
                raise sqlite3.OperationalError(SQLITE_FAULTS[rule["fault"]])
