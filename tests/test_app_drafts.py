"""Drafts: what is typed and not sent stays with its conversation, and survives a restart (issue 12.4)."""

from __future__ import annotations

from datetime import timedelta

from agentterm.store import Store
from tests.app_helpers import make_app, seed_conversation, settle, until
from tests.openai_server import Complete, Stream


def seed(store):
    older = seed_conversation(store, "Older", [("q1", "a1")], age=timedelta(days=2))
    newer = seed_conversation(store, "Newer", [("q2", "a2")], age=timedelta(minutes=5))
    return older, newer


async def test_a_draft_stays_with_its_conversation(settings, store, client, server):
    older, newer = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.main_screen
        prompt = screen.chat_pane.prompt_input
        await screen.open_conversation(newer.id)
        await pilot.press(*"half a thought")
        await screen.open_conversation(older.id)
        await pilot.pause()
        assert prompt.text == ""  # it did not follow me into the other conversation
        await pilot.press(*"other")
        await screen.open_conversation(newer.id)
        await pilot.pause()
        assert prompt.text == "half a thought"
        assert prompt.cursor_location == prompt.document.end
        # Written through the store's thread, never on the event loop at each key.
        await until(pilot, lambda: store.get_conversation(older.id).draft == "other")
        await until(pilot, lambda: store.get_conversation(newer.id).draft == "half a thought")
        # A new conversation starts empty, with a draft of its own.
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert screen.chat_pane.conversation is None
        assert prompt.text == ""
        await pilot.press(*"brand new")
        await screen.open_conversation(older.id)
        await pilot.pause()
        assert prompt.text == "other"
        await screen.open_draft(None)
        await pilot.pause()
        assert prompt.text == "brand new"


async def test_a_pause_in_typing_writes_the_draft(settings, store, client, server):
    older, newer = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(newer.id)
        await pilot.press(*"typed")
        # No switch, no quit: the pause alone writes it.
        await until(pilot, lambda: store.get_conversation(newer.id).draft == "typed", attempts=400)


async def test_a_draft_survives_a_restart(settings, db_path, client, server):
    store = Store(db_path)
    older, newer = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(older.id)
        await pilot.press(*"keep me")
        # Quit at once: the pause has not come, the quit writes it.
    store.close()

    store = Store(db_path)
    assert store.get_conversation(older.id).draft == "keep me"
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(older.id)
        await pilot.pause()
        assert app.main_screen.chat_pane.prompt_input.text == "keep me"
    store.close()


async def test_sending_clears_the_draft(settings, store, client, server):
    server.script(Stream("ok"), Complete("Title"))
    older, newer = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.main_screen
        await screen.open_conversation(older.id)
        await pilot.press(*"send me")
        await until(pilot, lambda: store.get_conversation(older.id).draft == "send me", attempts=400)
        await pilot.press("enter")
        await settle(pilot)
        assert store.get_conversation(older.id).draft == ""
        await screen.open_conversation(newer.id)
        await screen.open_conversation(older.id)
        await pilot.pause()
        assert screen.chat_pane.prompt_input.text == ""


async def test_the_new_prompt_s_text_goes_with_the_conversation_it_makes(settings, store, client, server):
    server.script(Stream("ok"), Complete("Title"))
    older, newer = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.main_screen
        await screen.open_draft(None)
        await pilot.press(*"first words")
        await pilot.press("enter")
        await settle(pilot)
        made = screen.chat_pane.conversation
        assert made is not None and made.id not in (older.id, newer.id)
        await screen.open_draft(None)
        await pilot.pause()
        assert screen.chat_pane.prompt_input.text == ""  # the new prompt is empty again
        assert store.get_conversation(made.id).draft == ""


async def test_the_new_prompt_s_draft_survives_a_restart_per_store(settings, db_path, tmp_path, client, server):
    from agentterm.new_draft import read_new_draft

    server.script(Stream("ok"), Complete("Title"))
    store = Store(db_path)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_draft(None)
        await pilot.press(*"an idea for later")
        # Quit at once: the quit writes it (the pause has not come).
    store.close()
    assert read_new_draft(db_path) == "an idea for later"
    assert read_new_draft(tmp_path / "another.db") == ""  # each store has its own

    store = Store(db_path)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.main_screen
        await screen.open_draft(None)
        await pilot.pause()
        assert screen.chat_pane.prompt_input.text == "an idea for later"
        await pilot.press("enter")  # its send makes the conversation and empties the file's copy
        await settle(pilot)
        assert screen.chat_pane.conversation is not None
        await until(pilot, lambda: read_new_draft(db_path) == "")
    store.close()


async def test_a_pause_writes_the_new_prompt_s_draft_without_a_quit(settings, db_path, client, server):
    from agentterm.new_draft import read_new_draft

    store = Store(db_path)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_draft(None)
        await pilot.press(*"typed then a pause")
        await until(pilot, lambda: read_new_draft(db_path) == "typed then a pause", attempts=400)
    store.close()


async def test_a_run_that_never_opens_the_new_prompt_leaves_its_draft_alone(settings, db_path, client, server):
    from agentterm.new_draft import read_new_draft, write_new_draft

    write_new_draft(db_path, "from last week")
    store = Store(db_path)
    older, _ = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(older.id)
        await pilot.press(*"x")
        await pilot.pause()
    store.close()
    assert read_new_draft(db_path) == "from last week"
