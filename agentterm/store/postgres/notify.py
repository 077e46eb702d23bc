"""LISTEN/NOTIFY for the app's store watch: the store's writes to conversations and messages send
a notification in their own transaction (delivered on commit, no trigger DDL), and a listener on
one dedicated connection in a thread turns each into a call back. The app's 1 s poll stays as the
fallback: through pgbouncer in transaction mode (which drops LISTEN), or while the listener is
away, a change costs latency, never visibility."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import psycopg

CHANNEL = "agentterm_changes"
NOTIFY_SQL = "SELECT pg_notify(%s, %s)"
# How long one wait for notifications lasts: how soon the thread sees it was asked to stop.
WAIT_SECONDS = 0.5
# Between attempts to connect again after the listener's connection was lost (a server restart).
RETRY_SECONDS = 1.0
# A silent network drop would leave the wait listening to nothing: ask the server once in a while.
CHECK_EVERY_SECONDS = 10.0

_WRITE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(conversations|messages)\b", re.I)
_BY_ID = re.compile(r"\bWHERE\s+id\s*=\s*\?\s*$", re.I)
_BY_CONVERSATION = re.compile(r"\bWHERE\s+conversation_id\s*=\s*\?\s*$", re.I)


def payload(sql: str, params: Any) -> str | None:
    """None for a statement the watch does not care about; else the conversation's id when the
    statement names it, "" when it does not (a change somewhere: the watch reads again anyway)."""
    found = _WRITE.match(sql)
    if found is None:
        return None
    table = found.group(1).lower()
    last = params[-1] if isinstance(params, list | tuple) and params else None
    if table == "conversations":
        if _BY_ID.search(sql) and isinstance(last, int):
            return str(last)  # an insert's new id is added by the port once it is known
    elif isinstance(params, dict) and isinstance(params.get("conversation_id"), int):
        return str(params["conversation_id"])
    elif _BY_CONVERSATION.search(sql) and isinstance(last, int):
        return str(last)
    return ""


def send(conn: psycopg.Connection, payloads: set[str]) -> None:
    """The notifications, on the writing transaction's connection (sent when it commits)."""
    for text in sorted(payloads):
        conn.execute(NOTIFY_SQL, [CHANNEL, text])


class ChangeListener:
    """LISTEN on a connection of its own, in a daemon thread: `on_change(payload)` for each
    notification, and `on_change(None)` each time it (re)connects (what was written while it was
    away). Connects again after a lost connection; `stop()` never waits for the server."""

    def __init__(self, url: str, kwargs: dict[str, Any], on_change: Callable[[str | None], None]):
        self._url = url
        self._kwargs = {**kwargs, "autocommit": True}
        self._on_change = on_change
        self._stopping = threading.Event()
        self.connected = threading.Event()  # set while LISTEN is in place (tests wait on it)
        self.connections = 0  # how many times it connected
        self._thread = threading.Thread(target=self._run, name="agentterm-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()  # the thread sees it within WAIT_SECONDS and closes its connection

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except Exception:  # noqa: BLE001 - a lost server: the poll covers, we connect again
                pass
            self.connected.clear()
            self._stopping.wait(RETRY_SECONDS)

    def _listen(self) -> None:
        with psycopg.connect(self._url, **self._kwargs) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self.connections += 1
            self.connected.set()
            self._on_change(None)
            quiet = 0.0
            while not self._stopping.is_set():
                heard = False
                for note in conn.notifies(timeout=WAIT_SECONDS):
                    heard = True
                    self._on_change(note.payload)
                    if self._stopping.is_set():
                        return
                quiet = 0.0 if heard else quiet + WAIT_SECONDS
                if quiet >= CHECK_EVERY_SECONDS:
                    conn.execute("SELECT 1")
                    quiet = 0.0
