"""Adapters until the store's AsyncStore lands: a store's methods awaited on one worker thread."""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class ThreadStore:
    """Every Store method as `await astore.method(...)`, run in order on one worker thread."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agentterm-store")

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)
        if not callable(method):
            return method

        async def call(*args: Any, **kwargs: Any) -> Any:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, functools.partial(method, *args, **kwargs))

        return call


def as_async(store: Any) -> Any:
    """The async face of `store`: the store's own AsyncStore when there is one, else ours."""
    if isinstance(store, ThreadStore) or not callable(getattr(store, "add_message", None)):
        return store
    if asyncio.iscoroutinefunction(store.add_message):
        return store  # already an async store
    try:
        from agentterm.store import AsyncStore  # type: ignore[attr-defined]
    except ImportError:
        return ThreadStore(store)
    return AsyncStore(store)


def sync_store(astore: Any) -> Any:
    """The Store under an async face, to see which of the store's newer methods it has."""
    for name in ("store", "_store", "sync"):
        inner = getattr(astore, "__dict__", {}).get(name)
        if inner is not None:
            return inner
    return astore


@dataclass
class ToolCallRecord:
    """models.ToolCall's fields, for a store that cannot keep tool calls yet (kept in memory)."""

    id: int
    message_id: int
    call_id: str
    index: int
    name: str
    server: str
    tool: str
    arguments: str
    status: str
    result: str | None = None
    error: str | None = None
    reason: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
