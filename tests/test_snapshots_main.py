"""Snapshots of the main screen in its states: a fixed clock, fixed store times, theme and size."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from textual.widgets import Input, TextArea

from agentterm.tui.widgets.chat_pane import ChatPane
from tests.app_helpers import make_app, seed_conversation, set_times, until, NOW

ANSWER = """Here is a plan:

1. **Prepare** the soil
2. Plant the `seeds`

```python
def water(plants):
    return [p.soak() for p in plants]
```
"""


@pytest.fixture(autouse=True)
def fixed_zone(monkeypatch):
    """Times in the local zone, and the colours on: both fixed for every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield
    time.tzset()


@pytest.fixture
def seeded(store):
    garden = seed_conversation(store, "Garden plan", [("How do I start a garden?", ANSWER)],
                               age=timedelta(minutes=20))
    seed_conversation(store, "Tax questions", [("What is a W-2?", "A wage statement.")],
                      age=timedelta(days=3))
    seed_conversation(store, "Old recipes", [("Bread?", "Flour, water, salt, yeast.")],
                      age=timedelta(days=40))
    store.set_pinned(garden.id, False)
    return garden


def still(pilot) -> None:
    """No blinking cursor in a snapshot."""
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    for widget in pilot.app.screen.query(TextArea):
        widget.cursor_blink = False


def test_home(snap_compare, settings, store, client, seeded):
    app = make_app(settings, store, client)

    async def run_before(pilot):
        await pilot.pause()
        still(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_conversation_after_an_answer(snap_compare, settings, store, client, seeded):
    app = make_app(settings, store, client)

    async def run_before(pilot):
        await pilot.pause()
        await app.main_screen.open_conversation(seeded.id)
        await pilot.pause()
        still(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_answer_mid_stream(snap_compare, settings, store, client, seeded):
    app = make_app(settings, store, client)

    async def run_before(pilot):
        await pilot.pause()
        pane = app.main_screen.chat_pane
        await app.main_screen.open_conversation(seeded.id)
        prompt = store.add_message(seeded.id, "user", "And then?")
        answer = store.add_message(seeded.id, "assistant", "", status="streaming", model="test-model")
        set_times(store, seeded.id, NOW - timedelta(minutes=1))
        prompt, answer = store.get_message(prompt.id), store.get_message(answer.id)
        # The events the reply worker posts, delivered as it would deliver them.
        pane.streaming_conversation = seeded.id
        pane.post_message(ChatPane.ConversationChanged(seeded.id))  # the sidebar reads it again
        pane.post_message(ChatPane.PromptStored(prompt))
        pane.post_message(ChatPane.ReplyStarted(answer))
        for chunk in ("Then you ", "**water** it", " every", " morning:\n\n- early\n- ", "gently"):
            pane.post_message(ChatPane.ReplyDelta(answer.id, chunk))
        # Chunks are shown together a moment later, not one by one.
        await until(pilot, lambda: (view := pane.chat_view.view_for(answer.id)) is not None
                    and view.source.endswith("gently"))
        pane.update_status()
        await pilot.pause()
        still(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_error_in_the_chat(snap_compare, settings, store, client, seeded):
    store.add_message(seeded.id, "user", "One more thing?")
    store.add_message(seeded.id, "assistant", "", status="error", model="test-model", extra={
        "error": "The server at 127.0.0.1 answered 500: upstream exploded.",
        "hint": "It is the server's fault; retry in a moment."})
    set_times(store, seeded.id, NOW - timedelta(minutes=2))
    app = make_app(settings, store, client)

    async def run_before(pilot):
        await pilot.pause()
        await app.main_screen.open_conversation(seeded.id)
        await pilot.pause()
        still(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_search_results(snap_compare, settings, store, client, seeded):
    app = make_app(settings, store, client)

    async def run_before(pilot):
        await pilot.press("ctrl+f", *"soil", "enter")
        await pilot.pause()
        still(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_confirm_delete_dialog(snap_compare, settings, store, client, seeded):
    app = make_app(settings, store, client)

    async def run_before(pilot):
        await pilot.pause()
        await app.main_screen.open_conversation(seeded.id)
        await pilot.press("ctrl+d")
        await pilot.pause()
        still(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_help(snap_compare, settings, store, client, seeded):
    settings.keymap = {"app.new_conversation": "ctrl+t"}
    app = make_app(settings, store, client)

    async def run_before(pilot):
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_main_at_80x24(snap_compare, settings, store, client, seeded):
    app = make_app(settings, store, client)

    async def run_before(pilot):
        await pilot.pause()
        await app.main_screen.open_conversation(seeded.id)
        await pilot.pause()
        still(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_main_light_theme(snap_compare, settings, store, client, seeded):
    settings.theme = "textual-light"
    app = make_app(settings, store, client)

    async def run_before(pilot):
        await pilot.pause()
        await app.main_screen.open_conversation(seeded.id)
        await pilot.pause()
        still(pilot)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
