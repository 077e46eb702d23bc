"""Snapshots of the chat header: the usual one, the meter near the window (amber), a fork."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from agentterm.config import load_settings
from agentterm.llm import LLMClient
from tests.app_helpers import make_app, seed_conversation, settle, set_times, NOW
from tests.test_snapshots_main import still


@pytest.fixture(autouse=True)
def fixed_zone(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield
    time.tzset()


@pytest.fixture
def priced(config_path):
    """The loopback provider with a window of 2,000 tokens and prices per million tokens."""
    with config_path.open("a", encoding="utf-8") as out:
        out.write("context_window = 2000\ninput_price = 2.5\noutput_price = 10\n")
    settings = load_settings(config_path)
    return settings, LLMClient(settings)


async def _open(app, pilot, cid: int) -> None:
    await pilot.pause()
    await app.main_screen.open_conversation(cid)
    await settle(pilot)
    still(pilot)


def test_header(snap_compare, priced, store):
    settings, client = priced
    garden = seed_conversation(store, "Garden plan", [("How do I start a garden?", "Dig, then plant.")],
                               age=timedelta(minutes=20))
    app = make_app(settings, store, client)
    assert snap_compare(app, terminal_size=(120, 16), run_before=lambda pilot: _open(app, pilot, garden.id))


def test_header_near_the_window(snap_compare, priced, store):
    settings, client = priced
    long = seed_conversation(store, "A long one", [], age=timedelta(minutes=5))
    store.add_message(long.id, "user", "Tell me everything.")
    store.add_message(long.id, "assistant", "Everything, at length.", model="test-model",
                      prompt_tokens=1500, completion_tokens=180)
    set_times(store, long.id, NOW - timedelta(minutes=5))
    app = make_app(settings, store, client)
    assert snap_compare(app, terminal_size=(120, 16), run_before=lambda pilot: _open(app, pilot, long.id))


def test_header_of_a_fork(snap_compare, settings, client, store):
    garden = seed_conversation(store, "Garden plan", [("How do I start a garden?", "Dig, then plant."),
                                                      ("And then?", "Water it.")],
                               age=timedelta(minutes=20))
    first_answer = store.all_messages(garden.id)[1]
    fork = store.fork_conversation(garden.id, first_answer.id)
    set_times(store, fork.id, NOW - timedelta(minutes=2))
    app = make_app(settings, store, client)
    assert snap_compare(app, terminal_size=(120, 16), run_before=lambda pilot: _open(app, pilot, fork.id))
