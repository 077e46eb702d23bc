"""Store writes a turn cannot let go wrong silently: every one guarded, a failed final write kept for later."""

from __future__ import annotations

import dataclasses
import time
import weakref
from typing import Any

from agentterm.engine.stores import sync_store


class StoreFault(Exception):
    """A store write of the turn failed (full, locked, I/O, gone); `error` is what the store raised."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


async def guarded(method: Any, *args: Any, **kwargs: Any) -> Any:
    """Await one store call; any failure (not only StoreError: a number too big, a bad value) is a StoreFault."""
    try:
        return await method(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - every write fault ends the turn the same clear way
        raise StoreFault(error) from None


def replaced(message: Any, **fields: Any) -> Any:
    """`message` with `fields` changed, the ones its class does not have left out (in memory only)."""
    names = {f.name for f in dataclasses.fields(message)}
    return dataclasses.replace(message, **{k: v for k, v in fields.items() if k in names})


# Final writes that failed, by store, retried by the next turn (or by retry_pending) so the
# answer shown reaches the file as soon as the store allows. Keyed by (method, row id).
_pending: weakref.WeakKeyDictionary[Any, dict[tuple[str, int], dict[str, Any]]] = weakref.WeakKeyDictionary()


def keep_for_later(astore: Any, message_id: int, changes: dict[str, Any],
                   method: str = "update_message") -> None:
    _pending.setdefault(sync_store(astore), {})[(method, message_id)] = changes


def has_pending(astore: Any) -> bool:
    return bool(_pending.get(sync_store(astore)))


async def retry_pending(astore: Any, *, for_seconds: float = 0.0, interval: float = 0.5) -> bool:
    """Write the final states a full, locked or failing store refused; True when none is left.

    Tries once, then again every `interval` for up to `for_seconds`.
    """
    import asyncio

    from agentterm.engine.stores import as_async
    from agentterm.store import GoneError

    astore = as_async(astore)
    deadline = time.monotonic() + for_seconds
    while True:
        waiting = _pending.get(sync_store(astore), {})
        for key, changes in list(waiting.items()):
            method, row_id = key
            try:
                await getattr(astore, method)(row_id, **changes)
            except GoneError:
                waiting.pop(key, None)  # purged meanwhile: nothing left to write to
                continue
            except Exception:  # noqa: BLE001 - still failing: kept for the next try
                continue
            waiting.pop(key, None)
        if not waiting or time.monotonic() >= deadline:
            return not waiting
        await asyncio.sleep(interval)
