"""A config that cannot be read, met when the app starts: said in the app, which keeps running.

The app cannot open its store or its providers without the config (the config may name the
store, and guessing another store would show the wrong conversations), so this small app shows
what is wrong, with its line, and waits: fix the file and press r to read it again and go on, or
q to quit. Imported only when a start meets a broken config.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Footer, Static


class ConfigProblemApp(App[bool]):
    """Returns True once `read()` succeeds (the caller then opens the real app), else False."""

    TITLE = "agentterm"
    CSS = """
    Screen { align: center middle; }
    #problem { width: 90; max-width: 95%; height: auto; border: thick $error; padding: 1 2; }
    #problem-title { text-style: bold; margin-bottom: 1; }
    #problem-error { margin-bottom: 1; }
    #problem-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("r", "retry", "Read the config again"),
        Binding("q,escape,ctrl+q", "quit_app", "Quit"),
    ]

    def __init__(self, message: str, read: Callable[[], Any]) -> None:
        super().__init__()
        self.message = message
        self.read = read

    def compose(self) -> ComposeResult:
        with Vertical(id="problem"):
            yield Static(Content("The config cannot be read, so the app has not opened its store."),
                         id="problem-title")
            yield Static(Content(self.message), id="problem-error")
            yield Static(Content("Fix the file, then press r to read it again and go on; q quits. "
                                 "`agentterm doctor` checks it too."), id="problem-hint")
        yield Footer()

    def action_retry(self) -> None:
        from agentterm.config import ConfigError

        try:
            self.read()
        except ConfigError as error:
            self.message = str(error)
            self.query_one("#problem-error", Static).update(Content(self.message))
            self.notify("Still not readable: the line above says where.", severity="error")
            return
        self.exit(True)

    def action_quit_app(self) -> None:
        self.exit(False)
