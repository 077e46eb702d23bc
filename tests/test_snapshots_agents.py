"""Snapshots of the agent screens at 80x24: fixed times, theme, time zone; no cursor blink."""

from __future__ import annotations

import time

import pytest
from textual.widgets import Input, TextArea

from agentterm.tui.screens.agent_editor import AgentEditorScreen
from agentterm.tui.screens.agent_picker import AgentPickerScreen
from agentterm.tui.screens.agents import AgentsScreen
from agentterm.tui.screens.confirm import ChoiceScreen, ConfirmScreen
from tests.screen_helpers import SIZE, Host

FIXED = "2025-03-14T09:26:53.000+00:00"
LATER = "2025-03-15T17:05:00.000+00:00"


@pytest.fixture
def snapshot_env(monkeypatch):
    """UTC for the local times shown, and colour (the suite's NO_COLOR would flatten them)."""
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("NO_COLOR", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def agents_store(store, snapshot_env):
    """A few agents with usage, every time fixed."""
    default = store.default_agent()
    reviewer = store.create_agent("Code reviewer", description="Reads diffs, quotes lines [b]bold?[/b]",
                                  status="paused", model="gpt-4o-mini", temperature=0.2)
    store.create_agent("Writer", description="Plain, short prose", model="llama3.1:8b")
    store.create_agent("Old helper", status="inactive")
    for agent_id, tokens in ((default.id, 40), (reviewer.id, 1234)):
        conversation = store.create_conversation(agent_id, title="Chat")
        store.add_message(conversation.id, "user", "hi", prompt_tokens=tokens)
        store.add_message(conversation.id, "assistant", "hello", completion_tokens=tokens)
    conn = store._conn
    conn.execute("UPDATE agents SET created_at = ?, updated_at = ?", [FIXED, FIXED])
    conn.execute("UPDATE agent_versions SET created_at = ?", [FIXED])
    conn.execute("UPDATE conversations SET created_at = ?, last_activity_at = ?", [FIXED, LATER])
    conn.execute("UPDATE messages SET created_at = ?", [FIXED])
    conn.commit()
    return store


def still(pilot) -> None:
    """No blinking cursor to catch mid-blink."""
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    for widget in pilot.app.screen.query(TextArea):
        widget.cursor_blink = False


class SnapHost(Host):
    def on_mount(self) -> None:
        self.theme = "textual-dark"
        super().on_mount()


def test_agent_picker(snap_compare, agents_store):
    reviewer = agents_store.get_agent_by_name("Code reviewer")
    app = SnapHost(AgentPickerScreen(default_agent_id=reviewer.id), agents_store)

    async def run_before(pilot) -> None:
        await pilot.pause()
        still(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_agent_editor_with_errors(snap_compare, agents_store, settings, client):
    writer = agents_store.get_agent_by_name("Writer")
    app = SnapHost(AgentEditorScreen(agent_id=writer.id), agents_store, client, settings)

    async def run_before(pilot) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        still(pilot)
        screen = pilot.app.screen
        screen.query_one("#name", Input).value = "Code reviewer"
        screen.query_one("#temperature", Input).value = "abc"
        screen.query_one("#name", Input).focus()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_agents_screen(snap_compare, agents_store, settings):
    app = SnapHost(AgentsScreen(), agents_store, None, settings)

    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press("down")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_confirm_dialog(snap_compare, store, snapshot_env):
    app = SnapHost(ConfirmScreen("Discard your changes?", "The agent [b]Writer[/b] has unsaved changes.",
                                 confirm_label="Discard", danger=True), store)
    assert snap_compare(app, terminal_size=SIZE)


def test_delete_choice_dialog(snap_compare, store, snapshot_env):
    app = SnapHost(ChoiceScreen("Delete the agent Writer?",
                                "It has 3 conversation(s) and 41 message(s). Its versions go with it.",
                                [("Keep its conversations (unlinked, still readable)", "keep"),
                                 ("Move its conversations to the trash too", "delete")],
                                danger=True), store)
    assert snap_compare(app, terminal_size=SIZE)
