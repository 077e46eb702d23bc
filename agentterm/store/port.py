"""The database port: what the store's repositories need from a database, whichever it is.

The repositories (agents.py, conversations.py, messages.py ...) write one SQL for both backends:
`?` and `:name` placeholders (the PostgreSQL port rewrites them for psycopg), ON CONFLICT for
upserts, 0/1 integers for booleans, times as ISO text, COLLATE NOCASE (a collation of that name
on PostgreSQL). What the two dialects spell differently comes from `Dialect`; what only one
backend has (opening a file or a server, its migrations, its full-text search, its error
wording) lives in sqlite/ and postgres/.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

Params = Sequence[Any] | dict[str, Any]


@dataclass(frozen=True)
class Dialect:
    """The few spellings the dialects differ in, as SQL templates."""

    name: str
    # An aggregate of one expression per row into a JSON array, as text (NULL or '[]' if none).
    json_array: str
    # A JSON object from alternating keys and values.
    json_object: str

    def array(self, expression: str) -> str:
        return self.json_array.format(expression)

    def object(self, pairs: str) -> str:
        return f"{self.json_object}({pairs})"


SQLITE = Dialect("sqlite", json_array="json_group_array({})", json_object="json_object")
POSTGRES = Dialect("postgres", json_array="json_agg({})::text", json_object="json_build_object")


class Database(Protocol):
    """One backend's connection(s), as the repositories use them."""

    dialect: Dialect
    # How messages name the store: the SQLite file's path, or the server's URL without secrets.
    label: Any
    # Held by every call and across a transaction: one thread's transaction never sees another's
    # statements, and the sync face (the CLI) and AsyncStore's thread can share one Store.
    lock: threading.RLock
    # The fault-injection seam (tests/store_helpers.py): called with each write statement and
    # its parameters before it runs.
    fault: Callable[[str, Any], None] | None

    def prepare(self, seed: Callable[[], None]) -> None:
        """Check, migrate (calling `seed` in the same transaction for a new store)."""

    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction; nested use joins the outer one."""

    def query(self, sql: str, params: Params = ()) -> list[dict]:
        """Rows as dicts."""

    def execute(self, sql: str, params: Params = ()) -> int:
        """A write statement; the number of rows it changed."""

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert one row; its new id."""

    def search_rows(self, query: str, limit: int, mine: tuple[str, list]) -> list[dict]:
        """Full-text matches, best first: conversation_id, conversation_title, message_id,
        role, snippet, created_at (see search.py); `mine` is SQL over the conversation `c`
        with its parameters, the rows a user sees."""

    def matching_ids(self, query: str, where: str, params: list, limit: int) -> list[int]:
        """Ids of the conversations `where` keeps whose title or newest `limit` matching
        messages match (see SearchMixin.matching_conversations)."""

    def server_now(self) -> Any:
        """The server's clock (an aware datetime), or None for a local file."""

    def schema_version(self) -> int: ...

    def latest_version(self) -> int:
        """The newest schema version this agentterm's migrations for the backend reach."""

    def check(self) -> list[str]:
        """What is wrong with the store; [] when it is sound."""

    def server_info(self) -> dict[str, Any]:
        """{"backend", "where", "server" (host:port, None for a file), "version"}, for doctor."""

    def scripting(self) -> Any:
        """A handle for tests and scripts: `.execute(sql, params)` returning a DB-API cursor."""

    def close(self) -> None: ...
