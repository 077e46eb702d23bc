"""AgentTermApp: the stylesheet, global bindings, command providers and the user's keymap."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.binding import Binding

from agentterm.tui.commands import AgentTermCommands
from agentterm.models import utcnow

if TYPE_CHECKING:
    from agentterm.config import Settings
    from agentterm.llm import LLMClient
    from agentterm.tui.screens.main import MainScreen
    from agentterm.store import Store

# Conversation-level actions live on the main screen; elsewhere (the agents screens) they are off.
MAIN_ONLY = "main"
# A store server away fails every call for a while: one notice of it in this long at most
# (the rest of those calls fail quietly; the chat pane's own lines still say what was kept).
STORE_AWAY_QUIET_SECONDS = 10.0


def settle_collector() -> None:
    """Once started, keep the cyclic collector off what start-up made: it lives as long as the app.

    Streaming a 40,000-character answer (bench/streaming.py): event-loop stalls over 50 ms went
    from 26 to 3, the worst collector pause from 227 to 59 ms.
    """
    gc.freeze()
    gc.set_threshold(10_000, 20, 10)


class AgentTermApp(App[None]):
    """Built from its parts so tests and the command line build it the same way."""

    CSS_PATH = "app.tcss"
    TITLE = "agentterm"
    COMMANDS = App.COMMANDS | {AgentTermCommands}

    # Priority: the prompt (a TextArea) and the filter (an Input) would take ctrl+d, ctrl+e, ctrl+f
    # and ctrl+y for themselves otherwise. Modal screens cut the chain, so they keep their keys.
    BINDINGS = [
        Binding("ctrl+n", "main('new_conversation')", "New", id="app.new_conversation", priority=True),
        Binding("ctrl+up", "main('previous_conversation')", "Previous", id="app.previous_conversation",
                show=False, priority=True),
        Binding("ctrl+down", "main('next_conversation')", "Next", id="app.next_conversation",
                show=False, priority=True),
        Binding("ctrl+f", "main('focus_filter')", "Search", id="app.search", priority=True),
        Binding("ctrl+b", "main('toggle_sidebar')", "Sidebar", id="app.toggle_sidebar", show=False,
                priority=True),
        Binding("f2", "main('rename')", "Rename", id="app.rename", show=False, priority=True),
        Binding("f3", "main('switch_model')", "Model", id="app.switch_model", show=False, priority=True),
        Binding("f4", "main('instructions')", "System prompt", id="app.instructions", show=False,
                priority=True),
        Binding("ctrl+d", "main('delete')", "Delete", id="app.delete", show=False, priority=True),
        Binding("ctrl+g", "agents", "Agents", id="app.agents", priority=True),
        Binding("ctrl+e", "main('edit_agent')", "Edit agent", id="app.edit_agent", show=False,
                priority=True),
        Binding("escape", "main('stop')", "Stop", id="app.stop", show=False),
        Binding("ctrl+y", "main('copy_last_answer')", "Copy answer", id="app.copy_last_answer",
                show=False, priority=True),
        Binding("ctrl+p", "command_palette", "Commands", id="app.command_palette", show=False,
                priority=True),
        Binding("f1", "help", "Help", id="app.help", priority=True),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(self, settings: Settings, store: Store, client: LLMClient, *,
                 open_agent: str | None = None, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.store = store
        # The local user: lists, search and the dashboard show theirs, never other users' (serve).
        self.viewer: str | None = settings.local_user()
        self.client = client
        self.open_agent = open_agent
        self.clock: Callable[[], datetime] = clock or utcnow
        self.keymap: dict[str, str] = dict(settings.keymap)
        self._main_screen: MainScreen | None = None
        self._astore: Any = None
        self._tools: Any = None
        self._owns_store = False  # a store opened from the palette: the app closes it at the end
        self._theme_problem = self._apply_theme(settings.theme)

    collector_paused = False
    """The command line turned the cyclic collector off for the start (cli.make_app)."""

    def resume_collector(self) -> None:
        """The collector back on, once the first frame is out (MainScreen's first show)."""
        if self.collector_paused:
            self.collector_paused = False
            gc.enable()

    def _apply_theme(self, theme: str) -> str | None:
        if theme in self.available_themes:
            self.theme = theme
            return None
        return f"Unknown theme {theme!r} in the config; using {self.theme}."

    @property
    def main_screen(self) -> MainScreen:
        if self._main_screen is None:
            from agentterm.tui.screens.main import MainScreen

            self._main_screen = MainScreen()
        return self._main_screen

    @property
    def astore(self) -> Any:
        """The store's async face: its calls run on one thread of their own, never on the event loop."""
        if self._astore is None:
            from agentterm.store import AsyncStore

            self._astore = AsyncStore(self.store)
        return self._astore

    def tools_for(self, agent: Any) -> Any:
        """The MCP tools for a turn of this agent (None when it names no server: nothing starts)."""
        if agent is None or not getattr(agent, "mcp_servers", None):
            return None
        if self._tools is None:
            from agentterm.tools import MCPTools

            self._tools = MCPTools(self.settings)
        return self._tools

    async def on_unmount(self) -> None:
        # A turn cancelled by the quit is still writing its answer as interrupted (a store thread,
        # perhaps behind another process's lock): let it finish before the process ends.
        import asyncio

        turns = [worker for worker in self.workers if worker.group == "reply" and not worker.is_finished]
        for worker in turns:
            worker.cancel()
        for worker in turns:
            try:
                await asyncio.wait_for(worker.wait(), timeout=6)
            except BaseException:  # noqa: BLE001 - cancelled, failed or too slow: recovery has it
                pass
        if self._owns_store and self._astore is not None:
            try:
                await self._astore.close()
            except Exception:  # noqa: BLE001 - exiting: the store's own recovery covers a failed close
                pass
        # The MCP servers this process started end with it (their process groups, after a grace).
        if self._tools is not None:
            tools, self._tools = self._tools, None
            try:
                await tools.aclose()
            except Exception:  # noqa: BLE001 - exiting: a server that will not stop is not the user's problem
                pass

    async def reopen_on(self, astore: Any, notice: str = "") -> None:
        """Run on another store from now on: the main screen composed anew over it (every widget
        reads it afresh), then the old store closed after the calls queued on it."""
        old_store, old_astore = self.store, self._astore
        self.store, self._astore = astore.store, astore
        self.open_agent = None
        self._owns_store = True
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        await self.main_screen.reopened()
        # The first store is the command line's to close at exit too (closing twice is harmless).
        if old_astore is not None:
            await old_astore.close()
        else:
            old_store.close()
        self._remember_store()
        if notice:
            self.notify(notice, title="Store", markup=False)

    def _remember_store(self) -> None:
        """This store first in the recent list (the state dir), on a thread: nothing waits on it."""
        from agentterm.recent_stores import remember_store

        self.run_worker(lambda: remember_store(self.store.path), thread=True, group="recent-stores",
                        exit_on_error=False)

    def get_default_screen(self) -> MainScreen:
        return self.main_screen

    def on_mount(self) -> None:
        if self.keymap:
            self.set_keymap(self.keymap)
            from agentterm.tui.keymap import clashes, key_label, unknown_ids

            if unknown := unknown_ids(self.keymap):
                self.notify("These [keymap] ids match no binding: " + ", ".join(sorted(unknown)),
                            title="Config", severity="warning", markup=False)
            if lost := clashes(self.keymap):
                self.notify("Your [keymap] took keys from other bindings: your binding wins. "
                            + " ".join(lost) + f" {key_label(self, 'app.help')} shows the keys now.",
                            title="Keymap", severity="warning", timeout=20, markup=False)
        if self._theme_problem:
            self.notify(self._theme_problem, title="Config", severity="warning", markup=False)
        self.call_after_refresh(self._remember_store)  # after the first frame
        # Tests run many headless apps in one process: a freeze would keep their garbage.
        if not self.is_headless:
            self.set_timer(1.0, settle_collector)
            self._catch_signals()

    def _catch_signals(self) -> None:
        """SIGTERM (kill, a supervisor) and SIGHUP (the terminal closed) end the app as ctrl+q
        does: the answer streaming is stored as interrupted and the terminal is restored. Left
        to Python's default they killed it raw: no echo, alternate screen and mouse on."""
        import asyncio
        import signal

        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(number, self.exit)
            except (NotImplementedError, RuntimeError, ValueError):  # not on this platform
                pass

    # The model client's transport (httpx2) costs a tenth of a second and some MB to import: not
    # at start (nor a second later: a user who only reads never needs it), and not on the event
    # loop at the first send either (the screen would pause), but in a thread as soon as text is
    # typed, most likely a prompt.
    _warmed_up = False

    def on_text_area_changed(self) -> None:
        if not self._warmed_up:
            self._warmed_up = True
            self._warm_up()

    def _warm_up(self) -> None:
        def import_transport() -> None:
            import httpx2  # noqa: F401

            import agentterm.llm.transport  # noqa: F401

        self.run_worker(import_transport, thread=True, group="warm-up", exit_on_error=False)

    def _handle_exception(self, error: Exception) -> None:
        # Textual's crash screen prints every frame's local variables, where a key or a server's
        # reply may sit: one scrubbed line instead. The app still exits (its state is unknown),
        # and run_test still re-raises the error for the tests.
        from rich.text import Text
        from textual.worker import WorkerFailed

        from agentterm.store import StoreError

        if isinstance(error, WorkerFailed) and isinstance(error.error, StoreError):
            # A failed worker stops nothing else (no message loop ended with it): a locked or
            # damaged store while loading earlier messages, say, is a notice and the app runs on.
            self.store_notice(error.error)
            return
        self._return_code = 1
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        if not self._exit_renderables:  # the first error says it; the rest follow from it
            self._exit_renderables.append(Text(self.crash_report(error)))
        self._close_messages_no_wait()

    def store_notice(self, error: BaseException, *, title: str = "The store could not do that") -> None:
        """A store fault as a notice; a server away only once in STORE_AWAY_QUIET_SECONDS."""
        from time import monotonic

        from agentterm.store import StoreUnreachable

        if isinstance(error, StoreUnreachable):
            said = getattr(self, "_store_away_said", None)
            if said is not None and monotonic() - said < STORE_AWAY_QUIET_SECONDS:
                return
            pane = getattr(self._main_screen, "_chat", None)
            if getattr(pane, "store_away", None) is not None:
                return  # the status line under the chat says so already
            self._store_away_said = monotonic()
            self._store_away_notice = (title, str(error))
            self._store_away_notice_pending = True  # shown when the app reads its Notify
        self.notify(str(error), title=title, severity="error", markup=False)

    def _on_notify(self, event) -> None:
        # Called before Textual's own (which shows the notice), as handlers are along the MRO.
        notice = (event.notification.title, event.notification.message)
        if getattr(self, "_store_away_notice_pending", False) and notice == getattr(self, "_store_away_notice", None):
            self._store_away_notice_pending = False
        elif notice == getattr(self, "_store_away_withdrawn", None):
            self._store_away_withdrawn = None  # taken back before it was shown: never shown
            event.prevent_default()
            self._unnotify(event.notification)

    def store_away_said(self) -> None:
        """The chat pane says the store's server is away in a line of its own (a prompt not
        sent): the calls failing around it say it no more, and a notice of it just before goes."""
        from time import monotonic

        self._store_away_said = monotonic()
        shown, self._store_away_notice = getattr(self, "_store_away_notice", None), None
        if shown is not None and getattr(self, "_store_away_notice_pending", False):
            # Notices are messages: one notified just now may not be shown yet.
            self._store_away_notice_pending, self._store_away_withdrawn = False, shown
            return
        for notification in list(self._notifications) if shown else []:
            if (notification.title, notification.message) == shown:
                self._unnotify(notification)

    def crash_report(self, error: BaseException) -> str:
        """The line printed when the app ends on an unexpected error: no traceback, no key."""
        from textual.worker import WorkerFailed

        from agentterm.llm.errors import one_line, register_secret
        from agentterm.store import StoreError

        if isinstance(error, WorkerFailed):
            error = error.error
        for provider in self.settings.providers.values():
            if provider.api_key_env:
                register_secret(os.environ.get(provider.api_key_env))
        if isinstance(error, StoreError):
            return f"agentterm: error: {one_line(str(error))}"
        return (f"agentterm: error: unexpected {type(error).__name__}: {one_line(str(error))} "
                "This is a bug in agentterm; please report it with what you were doing.")

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: Any) -> None:
        # Textual calls this on every key with a clash in the keymap; each clash is reported
        # once, at start, naming both ids (keymap.clashes), and F1 shows what won.
        return

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == MAIN_ONLY:
            return self.screen is self._main_screen
        return True

    async def action_main(self, action: str) -> None:
        await self.main_screen.run_action(action)

    def action_help(self) -> None:
        from agentterm.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_agents(self) -> None:
        self.main_screen.open_agents()

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    async def on_agents_screen_conversation_requested(self, event: Any) -> None:
        agent = self.store.get_agent(event.agent_id)
        if agent is not None:
            await self.main_screen.open_draft(agent)

    def copy_text(self, text: str, *, what: str = "the text") -> None:
        """Copy through the terminal (OSC 52) and a native tool, and say plainly what happened."""
        from agentterm.clipboard import copy_report, native_copy

        # Always handed to Textual (app.clipboard keeps it); it reaches a terminal only when there is one.
        self.copy_to_clipboard(text)
        osc52 = not self.is_headless
        tool = native_copy(text)
        message, severity = copy_report(what, tool, osc52)
        self.notify(message, severity=severity, markup=False)  # type: ignore[arg-type]
