"""Helpers for the app tests: a fixed clock, a seeded store with fixed times, waiting on workers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.pilot import Pilot

from agentterm.tui.app import AgentTermApp
from agentterm.models import Conversation, to_iso

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


def make_app(settings, store, client, **kwargs) -> AgentTermApp:
    """The same constructor the command line uses, with the fixed clock."""
    return AgentTermApp(settings, store, client, clock=fixed_clock, **kwargs)


async def settle(pilot: Pilot, rounds: int = 3) -> None:
    """Let workers finish and the messages they posted be handled."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def until(pilot: Pilot, condition, attempts: int = 200) -> None:
    """Pause until the condition holds (a bounded wait on state, never a blind sleep)."""
    for _ in range(attempts):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition never held")


def set_times(store, cid: int, when: datetime) -> None:
    """Pin a conversation's and its messages' times, so screens and order are deterministic."""
    moment = to_iso(when)
    store.db.execute("UPDATE conversations SET created_at = ?, last_activity_at = ? WHERE id = ?",
                     [moment, moment, cid])
    store.db.execute("UPDATE messages SET created_at = ? WHERE conversation_id = ?", [moment, cid])


def seed_conversation(store, title: str, exchanges: list[tuple[str, str]], *, age: timedelta,
                      agent=True) -> Conversation:
    agent_id = store.default_agent().id if agent else None
    conversation = store.create_conversation(agent_id=agent_id, title=title)
    for prompt, answer in exchanges:
        store.add_message(conversation.id, "user", prompt)
        store.add_message(conversation.id, "assistant", answer, model="test-model",
                          prompt_tokens=10, completion_tokens=20)
    set_times(store, conversation.id, NOW - age)
    return store.get_conversation(conversation.id)


def answer_text(app: AgentTermApp, message_id: int) -> str:
    view = app.main_screen.chat_pane.chat_view.view_for(message_id)
    assert view is not None, f"message {message_id} is not shown"
    return view.source


def option_ids(app: AgentTermApp) -> list[int]:
    return [c.id for c in app.main_screen.sidebar.conversations]
