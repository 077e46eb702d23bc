"""AsyncStore: every Store method awaitable, run on one worker thread so the event loop never waits."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from agentterm.store.store import Store

T = TypeVar("T")


def _settle(waiter: asyncio.Future[Any], call: Future[Any]) -> None:
    # A call whose await was cancelled: its result and its error are nobody's, and not a warning.
    if waiter.cancelled():
        return
    if call.cancelled():  # the executor shut down before it ran
        waiter.cancel()
        return
    error = call.exception()
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(call.result())


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
        # One loop future, settled from the store's thread: cancelling the await leaves the
        # queued call alone (run_in_executor would cancel it), as asyncio.shield over
        # wrap_future did, with one future and one callback a call instead of four and six
        # (every request of `agentterm serve` makes several calls: docs/performance.md).
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()

        def done(call: Future[Any]) -> None:
            if not loop.is_closed():
                try:
                    loop.call_soon_threadsafe(_settle, waiter, call)
                except RuntimeError:  # the loop closed meanwhile: nobody waits
                    pass

        self._executor.submit(fn, *args, **kwargs).add_done_callback(done)
        return await waiter

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Run a call on the store's thread in its turn, with nobody waiting for it: a write off
        a request's path (a title). Its end wakes nothing on the event loop, which an awaited
        call's does; its result and its error are dropped, as is a call after close()."""
        try:
            self._executor.submit(fn, *args, **kwargs)
        except RuntimeError:  # the store's thread has ended: the store is closed
            pass

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
