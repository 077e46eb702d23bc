"""The SQLite store: agents, conversations and messages in one file."""

from agentterm.store.errors import StoreError, ValidationError
from agentterm.store.search import SNIPPET_CLOSE, SNIPPET_OPEN
from agentterm.store.store import Store

__all__ = ["SNIPPET_CLOSE", "SNIPPET_OPEN", "Store", "StoreError", "ValidationError"]
