"""The SQLite store: agents, conversations and messages in one file."""

from agentterm.store.errors import StoreError, ValidationError
from agentterm.store.store import (
    SNIPPET_CLOSE,
    SNIPPET_OPEN,
    Store,
)

__all__ = ["SNIPPET_CLOSE", "SNIPPET_OPEN", "Store", "StoreError", "ValidationError"]
