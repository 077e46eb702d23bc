"""Store: the facade over the SQLite file (through sqlite-utils), returning models."""

from __future__ import annotations

import threading
from pathlib import Path

from agentterm.store.agents import AgentsMixin
from agentterm.store.connection import StoreConnection
from agentterm.store.conversations import ConversationsMixin
from agentterm.store.forks import ForksMixin
from agentterm.store.import_export import ImportExportMixin
from agentterm.store.messages import MessagesMixin
from agentterm.store.owned import OwnedMixin
from agentterm.store.prompt_history import PromptHistoryMixin
from agentterm.store.search import SearchMixin
from agentterm.store.tool_calls import ToolCallsMixin
from agentterm.store.users import UsersMixin
from agentterm.store.variants import VariantsMixin


class Store(
    AgentsMixin,
    ConversationsMixin,
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
    """The one SQLite file holding agents, conversations and messages.

    Each area is a mixin over StoreConnection (connection.py: opening the file, write
    transactions, queries): agents.py, conversations.py, forks.py, messages.py,
    tool_calls.py, variants.py, search.py and import_export.py. They call one another through
    self (a message bumps its conversation, a new store seeds the default agent).
    """

    def __init__(self, path: Path | str):
        self.path = path if path == ":memory:" else Path(path).expanduser()
        self._lock = threading.RLock()
        self._conn = self._connect()
        try:
            self._prepare()
            self.recover_interrupted()
        except BaseException:
            self._conn.close()
            raise

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
