"""The async face a turn writes through: the store's own AsyncStore, made for a plain Store when given one."""

from __future__ import annotations

import asyncio
from typing import Any


def as_async(store: Any) -> Any:
    """`store` when it is already awaitable (an AsyncStore, a test's own), else AsyncStore(store)."""
    from agentterm.store import AsyncStore

    if isinstance(store, AsyncStore) or asyncio.iscoroutinefunction(getattr(store, "add_message", None)):
        return store
    return AsyncStore(store)


def sync_store(astore: Any) -> Any:
    """The Store under an async face (the key for what is kept per store)."""
    return getattr(astore, "__dict__", {}).get("store", astore)
