"""Snapshots of an answer with several tries ("2/3" in its header) and of a fork just made:
the fixed clock, store times, theme and size of the other snapshots."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from tests.app_helpers import NOW, make_app, seed_conversation, set_times
from tests.test_snapshots_main import still


@pytest.fixture(autouse=True)
def fixed_zone(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield
    time.tzset()


def test_an_answer_with_three_tries(snap_compare, settings, store, client):
    conversation = seed_conversation(store, "Naming a cat", [("Name my cat, please.", "Whiskers.")],
                                     age=timedelta(minutes=20))
    prompt = store.all_messages(conversation.id)[0]
    for text in ("Miso, for a calm one.", "Captain Fluff."):
        variant = store.new_variant(prompt.id)
        store.add_message(conversation.id, "assistant", text, reply_to=prompt.id, variant=variant,
                          model="test-model")
    store.select_variant(prompt.id, 2)
    set_times(store, conversation.id, NOW - timedelta(minutes=20))
    app = make_app(settings, store, client)

    async def run_before(pilot):
        await pilot.pause()
        await app.main_screen.open_conversation(conversation.id)
        await pilot.pause()
        still(pilot)

    assert snap_compare(app, terminal_size=(120, 30), run_before=run_before)


def test_a_fork_just_made(snap_compare, settings, store, client):
    parent = seed_conversation(store, "Trip to Lisbon", [
        ("Plan three days in Lisbon.", "Day 1: Alfama. Day 2: Belém. Day 3: Sintra."),
        ("Make day 3 a beach day.", "Day 3: Cascais, by train from Cais do Sodré."),
    ], age=timedelta(hours=2))
    at = store.all_messages(parent.id)[1]
    app = make_app(settings, store, client)

    async def run_before(pilot):
        await pilot.pause()
        fork_id = await app.main_screen.fork_at(at.id)
        set_times(store, fork_id, NOW - timedelta(minutes=1))
        await app.main_screen.open_conversation(fork_id)
        await pilot.pause()
        app.clear_notifications()  # a toast's timing is not the snapshot's business
        await pilot.pause()
        still(pilot)

    assert snap_compare(app, terminal_size=(120, 30), run_before=run_before)
