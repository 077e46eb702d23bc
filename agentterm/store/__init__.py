"""The store: agents, conversations and messages, in one SQLite file or a PostgreSQL database."""

from agentterm.models import STALE_AFTER
from agentterm.store.errors import GoneError, StoreError, StoreUnreachable, ValidationError, ValueRefused
from agentterm.store.search import SNIPPET_CLOSE, SNIPPET_OPEN
from agentterm.store.opening import open_store
from agentterm.store.store import Store


def __getattr__(name: str):
    # Lazy: the CLI's commands need no asyncio machinery.
    if name == "AsyncStore":
        from agentterm.store.async_store import AsyncStore

        return AsyncStore
    raise AttributeError(name)


__all__ = [
    "AsyncStore",
    "SNIPPET_CLOSE",
    "SNIPPET_OPEN",
    "STALE_AFTER",
    "GoneError",
    "ValueRefused",
    "Store",
    "StoreError",
    "StoreUnreachable",
    "ValidationError",
    "open_store",
]
