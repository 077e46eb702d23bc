"""The SQLite store: agents, conversations and messages in one file."""

from agentterm.models import STALE_AFTER
from agentterm.store.errors import GoneError, StoreError, ValidationError
from agentterm.store.search import SNIPPET_CLOSE, SNIPPET_OPEN
from agentterm.store.store import Store

__all__ = [
    "SNIPPET_CLOSE",
    "SNIPPET_OPEN",
    "STALE_AFTER",
    "GoneError",
    "Store",
    "StoreError",
    "ValidationError",
]
