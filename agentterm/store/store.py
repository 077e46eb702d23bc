"""Store: the facade over the store's database (an SQLite file or a PostgreSQL server), returning
models."""

from __future__ import annotations

from pathlib import Path

from agentterm.store.agents import AgentsMixin
from agentterm.store.connection import StoreConnection
from agentterm.store.context import ContextMixin
from agentterm.store.conversations import ConversationsMixin
from agentterm.store.forks import ForksMixin
from agentterm.store.import_export import ImportExportMixin
from agentterm.store.messages import MessagesMixin
from agentterm.store.owned import OwnedMixin
from agentterm.store.prompt_history import PromptHistoryMixin
from agentterm.store.search import SearchMixin
from agentterm.store.target import is_postgres
from agentterm.store.tool_calls import ToolCallsMixin
from agentterm.store.users import UsersMixin
from agentterm.store.variants import VariantsMixin


class Store(
    AgentsMixin,
    ConversationsMixin,
    ContextMixin,
    ForksMixin,
    MessagesMixin,
    PromptHistoryMixin,
    ToolCallsMixin,
    VariantsMixin,
    SearchMixin,
    ImportExportMixin,
    UsersMixin,
    OwnedMixin,
    StoreConnection,
):
    """The store holding agents, conversations and messages: an SQLite file, or a PostgreSQL
    database when `target` is a postgresql:// URL.

    Each area is a mixin over StoreConnection (connection.py: write transactions, queries,
    through the backend's port, port.py): agents.py, conversations.py, forks.py, messages.py,
    tool_calls.py, variants.py, search.py and import_export.py. They call one another through
    self (a message bumps its conversation, a new store seeds the default agent). The backend
    (sqlite/ or postgres/) opens the database, migrates it, searches it and words its errors.

    `password` (PostgreSQL only) is for a password_cmd's output: otherwise libpq's own
    sources (PGPASSWORD, ~/.pgpass, a service file) are used. It is never kept as an attribute.
    """

    def __init__(self, target: Path | str, *, password: str | None = None):
        if is_postgres(target):
            from agentterm.store.postgres.database import PostgresDatabase

            self._db = PostgresDatabase(str(target), password=password)
        else:
            from agentterm.store.sqlite.database import SqliteDatabase

            self._db = SqliteDatabase(target)
        self.path = self._db.label
        try:
            self._set_clock()
            self._db.prepare(self._seed)
            self.recover_interrupted()
        except BaseException:
            self._db.close()
            raise

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

