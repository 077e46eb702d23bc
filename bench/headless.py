"""Headless app runs for the benchmarks: the real app, its store and client, and frame timing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from textual.widget import Widget


def make_app(db: Path, config: Path | None = None):
    """The app as the command line builds it (no config: the defaults, no key needed)."""
    from agentterm.cli import make_app as build
    from agentterm.config import load_settings
    from agentterm.llm import LLMClient
    from agentterm.store import Store

    settings = load_settings(config or Path("/nonexistent/agentterm/config.toml"))
    store = Store(db)
    return build(settings, store, LLMClient(settings)), store


def settle_collector() -> None:
    """The collector as the real app sets it a second after start; headless apps skip that."""
    try:
        from agentterm.tui.app import settle_collector as settle
    except ImportError:  # an older app: nothing to apply
        return
    settle()


class FrameClock:
    """Records when each frame of the current screen is composed (what a terminal would be sent).

    Headless, Textual still lays out and renders every widget into the compositor's update; it
    only skips turning that update into escape sequences and writing them.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.frames: list[float] = []
        self._want: Widget | None = None
        self._condition = None
        self.drawn_at: float | None = None
        original = app._display

        def display(screen, renderable) -> None:
            original(screen, renderable)
            if renderable is None or screen is not app.screen:
                return
            now = time.perf_counter()
            self.frames.append(now)
            if self.drawn_at is None:
                if self._want is not None and self._visible(self._want):
                    self.drawn_at = now
                elif self._condition is not None and self._condition():
                    self.drawn_at = now

        app._display = display

    def _visible(self, widget: Widget) -> bool:
        try:
            return widget in self.app.screen._compositor.visible_widgets
        except Exception:  # noqa: BLE001 - not laid out yet
            return False

    def expect(self, widget: Widget | None) -> None:
        self._want = widget
        self._condition = None
        self.drawn_at = None

    def expect_frame_when(self, condition) -> None:
        """Time the first frame composed once `condition()` holds (the state it shows is new)."""
        self._want = None
        self._condition = condition
        self.drawn_at = None

    async def wait_frame(self, timeout: float = 30.0) -> float:
        deadline = time.perf_counter() + timeout
        while self.drawn_at is None:
            if time.perf_counter() > deadline:
                raise TimeoutError("no frame showed the change in time")
            await asyncio.sleep(0.0005)
        return self.drawn_at

    async def wait_drawn(self, find, timeout: float = 30.0) -> float:
        """The first frame in which `find()` (a widget, or None while missing) is visible.

        `find` is called at every frame from now on, so the frame is the first one even when
        the caller is still busy (inside `pilot.press`, say) while it is composed.
        """
        self.expect_frame_when(lambda: (widget := find()) is not None and self._visible(widget))
        if self.frames and self._condition():
            return self.frames[-1]  # drawn before we were asked: the caller started the clock too late
        return await self.wait_frame(timeout)


class LoopMonitor:
    """Event-loop stalls: a task that wakes every `interval` and records how late it was."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.lates: list[float] = []
        self.times: list[float] = []
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.interval)
            now = time.perf_counter()
            self.lates.append(now - before - self.interval)
            self.times.append(now)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def stalls(self, over: float, since: float = 0.0) -> int:
        return sum(1 for late, at in zip(self.lates, self.times) if late > over and at > since)

    def worst(self, since: float = 0.0) -> float:
        return max((late for late, at in zip(self.lates, self.times) if at > since), default=0.0)
