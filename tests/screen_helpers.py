"""Helpers for testing one screen at a time: a host app, settling, typing into fields."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.screen import Screen
from textual.widgets import Input, Static

from agentterm.tui.screens.agents import AgentsScreen

SIZE = (80, 24)


class Host(App[None]):
    """Stands in for AgentTermApp: the store, client and settings, and one screen pushed."""

    def __init__(self, screen: Screen[Any], store: Any, client: Any = None, settings: Any = None) -> None:
        super().__init__()
        self.store, self.client, self.settings = store, client, settings
        self.first_screen = screen
        self.results: list[Any] = []
        self.requests: list[AgentsScreen.ConversationRequested] = []

    def on_mount(self) -> None:
        self.push_screen(self.first_screen, self.results.append)

    def on_agents_screen_conversation_requested(self, message: AgentsScreen.ConversationRequested) -> None:
        self.requests.append(message)


def text_of(widget: Static) -> str:
    return str(widget.render())


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_into(pilot, selector: str, text: str, *, keys: bool = False) -> None:
    """Replace a field's text: with keys=True keystroke by keystroke, as a user types (slow in
    the Pilot, so kept for short text); else as one edit, which the form sees just the same."""
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    if isinstance(widget, Input):
        widget.value = ""
        if not keys:
            widget.insert_text_at_cursor(text)
    else:
        widget.clear()
        if not keys:
            widget.insert(text)
    if keys:
        await pilot.press(*[{" ": "space"}.get(c, c) for c in text])
    await pilot.pause()
