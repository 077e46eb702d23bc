"""The palette's store actions: importing a file (agentterm JSON, ChatGPT) with a summary of what
happened, and reopening the app on another store chosen from the recent ones or typed."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from textual.command import CommandPalette

from agentterm.recent_stores import recent_stores, remember_store
from agentterm.store import Store
from agentterm.tui.screens.confirm import ChoiceScreen, ConfirmScreen
from agentterm.tui.screens.text_prompt import TextPromptScreen
from tests.app_helpers import make_app, seed_conversation, settle, until

CHATGPT = {
    "id": "chatgpt-conv-1", "title": "From ChatGPT", "create_time": 1700000000.0,
    "update_time": 1700000100.0, "current_node": "n2",
    "mapping": {
        "n1": {"id": "n1", "parent": None, "children": ["n2"], "message": {
            "id": "n1", "author": {"role": "user"}, "create_time": 1700000000.0,
            "content": {"content_type": "text", "parts": ["Hello there"]}}},
        "n2": {"id": "n2", "parent": "n1", "children": [], "message": {
            "id": "n2", "author": {"role": "assistant"}, "create_time": 1700000050.0,
            "content": {"content_type": "text", "parts": ["General Kenobi"]}}},
    },
}


def titles(app) -> list[str]:
    lists = app.main_screen.query("ConversationList")  # none while a new main screen composes
    return [c.title for c in lists.first().conversations] if lists else []


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def palette(app, pilot, name: str) -> None:
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*name)
    await pilot.pause(0.3)
    await pilot.press("enter")


async def answer_path(app, pilot, path: str) -> None:
    await until(pilot, lambda: isinstance(app.screen, TextPromptScreen)
                and bool(app.screen.query("#value")), attempts=500)
    field = app.screen.query_one("#value")
    field.value = path
    await pilot.pause()
    await pilot.press("enter")


@pytest.fixture
def export_file(tmp_path, store):
    """Two agentterm conversations (the first imported already), ChatGPT's, and a bad item."""
    other = Store(tmp_path / "other.db")
    one = seed_conversation(other, "Exported one", [("q1", "a1")], age=timedelta(days=1))
    two = seed_conversation(other, "Exported two", [("q2", "a2")], age=timedelta(days=1))
    items = [other.export_conversation(one.id), other.export_conversation(two.id), CHATGPT,
             {"title": "Broken", "messages": "not a list"}]
    other.close()
    store.import_conversations(items[:1])
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


async def test_import_from_the_palette_says_what_it_did(settings, store, client, server, export_file):
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await palette(app, pilot, "Import conversations")
        await answer_path(app, pilot, str(export_file))
        await until(pilot, lambda: any("imported" in n for n in notices(app)), attempts=500)
        summary = next(n for n in notices(app) if "imported" in n)
        assert summary.startswith("2 imported, 1 already there, 1 refused. Item 4 ('Broken'):")
        await until(pilot, lambda: {"Exported two", "From ChatGPT"} <= set(titles(app)))
        assert sorted(c.title for c in store.list_conversations()) == [
            "Exported one", "Exported two", "From ChatGPT"]


async def test_import_of_an_unreadable_file_is_one_line(settings, store, client, server, tmp_path):
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    os.mkfifo(tmp_path / "fifo.json")  # nobody writes: reading it would block the store's thread
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        try:
            for path, said in ((tmp_path / "missing.json", "no such file"),
                               (tmp_path, "is a directory"),
                               (tmp_path / "bad.json", "not valid JSON"),
                               (tmp_path / "fifo.json", "not a regular file")):
                app.main_screen.action_import_file()
                await answer_path(app, pilot, str(path))
                await until(pilot, lambda: any(said in n for n in notices(app)), attempts=500)
                line = next(n for n in notices(app) if said in n)
                assert "\n" not in line and "Traceback" not in line
        finally:
            _release(tmp_path / "fifo.json")
        assert store.list_conversations() == []


def _release(fifo: Path) -> None:
    """Let a reader blocked on the FIFO (the fault this guards against) reach its end, so a
    failing run ends instead of hanging the app's teardown."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass  # nobody reads it: as it should be


async def test_open_a_recent_store_from_the_palette(settings, store, client, server, tmp_path, db_path):
    seed_conversation(store, "Here", [("q", "a")], age=timedelta(hours=1))
    elsewhere = tmp_path / "elsewhere.db"
    other = Store(elsewhere)
    seed_conversation(other, "Over there", [("q", "a")], age=timedelta(hours=1))
    other.close()
    remember_store(elsewhere)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: titles(app) == ["Here"])
        await until(pilot, lambda: recent_stores()[:1] == [str(db_path.absolute())])  # this one, at start
        old_sidebar = app.main_screen.sidebar
        await palette(app, pilot, "Open another store")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), attempts=500)
        assert app.screen.choices[0][1] == str(elsewhere)  # the one open is not offered
        await pilot.press("1")
        await until(pilot, lambda: titles(app) == ["Over there"], attempts=500)
        assert not old_sidebar.is_attached  # every widget made anew over the new store
        await settle(pilot)
        assert Path(app.store.path) == elsewhere and app.astore.store is app.store
        assert app.screen is app.main_screen
        with pytest.raises(sqlite3.ProgrammingError):
            store.db.execute("SELECT 1")  # the first store was closed
        await until(pilot, lambda: recent_stores()[:2] == [str(elsewhere), str(db_path.absolute())])
        assert any("Opened the store" in n for n in notices(app))
        # The app works on it: a conversation opens from the new sidebar.
        await app.main_screen.open_conversation(app.main_screen.sidebar.conversations[0].id)
        await settle(pilot)
        assert [v.message.content for v in app.main_screen.chat_pane.chat_view.views] == ["q", "a"]


async def test_bad_stores_are_one_line_and_change_nothing(settings, store, client, server, tmp_path):
    seed_conversation(store, "Here", [("q", "a")], age=timedelta(hours=1))
    (tmp_path / "notes.txt").write_text("just some text, not a database\n" * 50, encoding="utf-8")
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: titles(app) == ["Here"])
        screen = app.main_screen
        for path, said in ((tmp_path, "is a directory"),
                           (tmp_path / "no" / "such.db", "does not exist"),
                           (tmp_path / "notes.txt", "not an agentterm store"),
                           ("mysql://somewhere/db", "not a store agentterm can open")):
            assert not await screen.switch_store(str(path))
            await until(pilot, lambda: any(said in n for n in notices(app)), attempts=500)
            assert app.store is store and screen.sidebar.is_attached
        assert store.list_conversations()[0].title == "Here"  # still open, still the one


async def test_a_path_with_no_store_asks_before_creating_one(settings, store, client, server, tmp_path):
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        fresh = tmp_path / "fresh.db"
        app.run_worker(app.main_screen.action_open_store())
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), attempts=500)
        await pilot.press("1")  # no other store yet: the only choice is to type a path
        await answer_path(app, pilot, str(fresh))
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), attempts=500)
        assert not fresh.exists()
        await pilot.press("y")
        await until(pilot, lambda: app.store is not store, attempts=500)
        await settle(pilot)
        assert fresh.exists() and Path(app.store.path) == fresh
