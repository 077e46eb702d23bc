"""Prompt history: up and down in the prompt recall the prompts sent before, as a shell does (issue 12.5)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.app_helpers import make_app, seed_conversation, settle, until
from tests.openai_server import Complete, Stream


def seed(store):
    other = seed_conversation(store, "Other", [("other one", "a"), ("other two", "b")], age=timedelta(days=2))
    this = seed_conversation(store, "This", [("first here", "a"), ("second here", "b")], age=timedelta(minutes=5))
    return other, this


async def test_up_recalls_this_conversation_first_then_the_others(settings, store, client, server):
    other, this = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(this.id)
        prompt = app.main_screen.chat_pane.prompt_input
        await pilot.press(*"half typed")
        seen = []
        for _ in range(5):
            await pilot.press("up")
            await until(pilot, lambda: prompt.recall is not None)
            await pilot.pause()
            seen.append(prompt.text)
        assert seen == ["second here", "first here", "other two", "other one", "other one"]
        assert prompt.cursor_location == prompt.document.end
        await pilot.press("down", "down")
        assert prompt.text == "first here"
        await pilot.press("down", "down")
        assert prompt.text == "half typed"  # what was being typed comes back past the newest
        await pilot.press("down")
        assert prompt.text == "half typed"


async def test_up_inside_a_multiline_prompt_moves_the_cursor_first(settings, store, client, server):
    other, this = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(this.id)
        prompt = app.main_screen.chat_pane.prompt_input
        await pilot.press("a", "ctrl+j", "b")
        await pilot.press("up")
        await pilot.pause()
        assert prompt.text == "a\nb" and prompt.cursor_location[0] == 0
        await pilot.press("up")
        await until(pilot, lambda: prompt.text == "second here")


async def test_an_edited_recall_is_sent_and_becomes_the_newest(settings, store, client, server):
    server.script(Stream("ok"), Complete("Title"))
    other, this = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(this.id)
        prompt = app.main_screen.chat_pane.prompt_input
        await pilot.press("up")
        await until(pilot, lambda: prompt.text == "second here")
        await pilot.press(*" again", "enter")
        await settle(pilot)
        assert server.requests[0]["messages"][-1]["content"] == "second here again"
        await pilot.press("up")
        await until(pilot, lambda: prompt.text == "second here again")
        # A new conversation's up reads every conversation's prompts, newest first.
        await app.main_screen.open_draft(None)
        await pilot.pause()
        await pilot.press("up")
        await until(pilot, lambda: prompt.text == "second here again")


@pytest.mark.both_backends
def test_the_store_s_history_skips_the_trash_and_repeats(store):
    other, this = seed(store)
    store.add_message(this.id, "user", "first here")
    gone = seed_conversation(store, "Gone", [("trashed prompt", "a")], age=timedelta(minutes=1))
    store.trash(gone.id)
    store.add_message(other.id, "user", "x" * 30_000)  # too long to recall whole: left out
    assert store.prompt_history(this.id) == ["first here", "second here", "other two", "other one"]
    assert store.prompt_history(None) == ["first here", "second here", "other two", "other one"]
    assert store.prompt_history(this.id, 0) == []


@pytest.mark.both_backends
def test_a_prompt_with_attachments_is_recalled_as_typed_until_edited(store):
    other, this = seed(store)
    sent = store.add_message(this.id, "user", "look @a.py\n\nAttached file `a.py` (1 B):\n\n```\nx\n```",
                             extra={"prompt": "look @a.py", "attachments": [{"path": "a.py", "kind": "text", "bytes": 1}]})
    assert store.prompt_history(this.id)[0] == "look @a.py"
    store.update_message(sent.id, content="look again", edited=True)
    assert store.prompt_history(this.id)[0] == "look again"
