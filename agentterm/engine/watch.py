"""A store fault seen by the flush timer ends the turn even while it waits on the model, a tool or the user."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from agentterm.engine.writes import StoreFault

T = TypeVar("T")


class FaultWatch:
    """Holds the first store fault of a turn and interrupts the turn's long waits with it.

    Only waits made through `wait` are interrupted (by cancelling the task and taking the
    cancellation back, as asyncio.timeout does); while the turn is suspended at a `yield` the
    consumer's own code runs, and the fault is raised at the next `check` instead.
    """

    def __init__(self) -> None:
        self.fault: StoreFault | None = None
        self._waiting: asyncio.Task | None = None
        self._cancelled = False

    def report(self, fault: StoreFault) -> None:
        self.fault = self.fault or fault
        if self._waiting is not None and not self._cancelled:
            self._cancelled = True
            self._waiting.cancel()

    def check(self) -> None:
        if self.fault is not None:
            raise self.fault

    async def wait(self, awaitable: Awaitable[T]) -> T:
        task = asyncio.current_task()
        self._waiting = task
        try:
            return await awaitable
        except asyncio.CancelledError:
            if self._cancelled and task is not None:
                self._cancelled = False
                if task.uncancel() == 0 and self.fault is not None:
                    raise self.fault from None
            raise
        finally:
            self._waiting = None
