"""AsyncStore: every Store method awaitable, run on one worker thread so the event loop never waits."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from agentterm.store.store import Store

T = TypeVar("T")


def _retrieve(future: asyncio.Future[Any]) -> None:
    # A call whose await was cancelled: its error is nobody's to raise, and not a warning.
    if not future.cancelled():
        future.exception()


class AsyncStore:
    """`await astore.add_message(...)`: any public Store method, run on the store's own thread.

    A store held locked by another program makes a write wait up to the busy timeout (5 s);
    here that wait happens on the worker thread, and the event loop keeps handling keys.
    One thread runs every call in the order they were made, so calls never interleave; the
    Store's lock keeps the sync face (the CLI, code not yet moved over) safe beside it.
    A cancelled await stops no call, running or still queued: the call runs in its turn and
    its result is dropped. A turn cancelled by a stop or a client gone still writes its final
    state (the answer interrupted), even when that write waits behind a flush.
    """

    def __init__(self, store: Store):
        self.store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agentterm-store")

    @classmethod
    async def open(cls, path: Path | str, *, password: str | None = None) -> AsyncStore:
        """Open (create, migrate, recover) the store off the event loop: a file's path or a URL."""
        from agentterm.store.opening import open_store

        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agentterm-store")
        try:
            store = await asyncio.get_running_loop().run_in_executor(
                executor, functools.partial(open_store, path, password=password))
        except BaseException:
            executor.shutdown(wait=False)
            raise
        astore = cls.__new__(cls)
        astore.store, astore._executor = store, executor
        return astore

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run any callable on the store's thread: for a few calls that must go together."""
        future = asyncio.wrap_future(self._executor.submit(functools.partial(fn, *args, **kwargs)))
        # Shielded: cancelling the await must not cancel the queued call (run_in_executor would).
        future.add_done_callback(_retrieve)
        return await asyncio.shield(future)

    def __getattr__(self, name: str) -> Any:
        # Only reached for names AsyncStore itself lacks: the Store's methods and attributes.
        if name.startswith("_"):
            raise AttributeError(name)
        attribute = getattr(self.store, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self.run(attribute, *args, **kwargs)

        return call

    async def close(self) -> None:
        """Close the store on its thread (after the calls queued before), then end the thread."""
        try:
            await self.run(self.store.close)
        finally:
            self._executor.shutdown(wait=False)

    async def __aenter__(self) -> AsyncStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
