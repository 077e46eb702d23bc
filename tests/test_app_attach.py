"""`@path` in the app's prompt: chips, completion, what is sent, and refusals (issue 12.7)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentterm.tui.widgets.attachment_chips import AttachmentBar
from tests.app_helpers import make_app, seed_conversation, settle, until
from tests.openai_server import Complete, Stream


@pytest.fixture
def work(tmp_path, monkeypatch):
    folder = tmp_path / "work"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "main.py").write_text("print('hi')\n")
    (folder / "src" / "mod.py").write_text("x = 1\n")
    (folder / "notes.txt").write_text("buy milk\n")
    monkeypatch.chdir(folder)
    return folder


def bar_text(app) -> str:
    bar = app.main_screen.chat_pane.query_one(AttachmentBar)
    return str(bar.render()) if bar.display else ""


async def test_an_attached_file_is_sent_in_the_prompt_and_shown_as_a_chip(settings, store, client, server, work):
    server.script(Stream("Noted."), Complete("Title"))
    chat = seed_conversation(store, "Chat", [("q", "a")], age=timedelta(minutes=5))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(chat.id)
        await pilot.press(*"read @notes.txt")
        await until(pilot, lambda: "@notes.txt · 9 B" in bar_text(app))
        await pilot.press("enter")
        await settle(pilot)
        sent = server.requests[0]["messages"][-1]["content"]
        assert sent == "read @notes.txt\n\nAttached file `notes.txt` (9 B):\n\n```\nbuy milk\n```"
        prompt = store.all_messages(chat.id)[-2]
        assert prompt.content == sent and prompt.extra["prompt"] == "read @notes.txt"
        view = app.main_screen.chat_pane.chat_view.view_for(prompt.id)
        shown = str(view.query_one(".message-header").render())
        assert "read @notes.txt" in shown and "@notes.txt · 9 B" in shown and "buy milk" not in shown
        assert not app.main_screen.chat_pane.query_one(AttachmentBar).display  # the box is empty again


async def test_a_missing_file_is_one_line_and_nothing_is_sent(settings, store, client, server, work):
    chat = seed_conversation(store, "Chat", [("q", "a")], age=timedelta(minutes=5))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(chat.id)
        await pilot.press(*"read @gone.txt and @src")
        await until(pilot, lambda: "@gone.txt · missing" in bar_text(app))
        await pilot.press("enter")
        await settle(pilot)
        assert server.requests == []
        assert store.count_messages(chat.id) == 2
        notices = [n.message for n in app._notifications]
        assert any("There is no file gone.txt" in n and "still in the box" in n for n in notices), notices
        assert app.main_screen.chat_pane.prompt_input.text == "read @gone.txt and @src"


async def test_a_path_is_completed_as_you_type(settings, store, client, server, work):
    chat = seed_conversation(store, "Chat", [("q", "a")], age=timedelta(minutes=5))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(chat.id)
        prompt = app.main_screen.chat_pane.prompt_input
        await pilot.press(*"look at @sr")
        await until(pilot, lambda: prompt.suggestion == "c/")
        await pilot.press("tab")
        assert prompt.text == "look at @src/"
        await until(pilot, lambda: "src/main.py  src/mod.py" in bar_text(app))
        await pilot.press("m", "a")
        await until(pilot, lambda: prompt.suggestion == "in.py")
        await pilot.press("tab")
        assert prompt.text == "look at @src/main.py"
        assert app.focused is prompt
        await pilot.press("space")
        await until(pilot, lambda: "completes" not in bar_text(app))
        # Nothing to complete: tab moves on, as it always did.
        await pilot.press("tab")
        assert app.focused is not prompt


async def test_an_image_goes_to_a_vision_model_as_a_content_part(settings, store, client, server, work):
    server.script(Stream("A leaf."), Complete("Title"))
    (work / "leaf.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    settings.providers[settings.default_provider].vision = True  # test-model: not known by name
    chat = seed_conversation(store, "Chat", [("q", "a")], age=timedelta(minutes=5))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(chat.id)
        await pilot.press(*"what is @leaf.png")
        await until(pilot, lambda: "@leaf.png · image 48 B" in bar_text(app))
        await pilot.press("enter")
        await settle(pilot)
        content = server.requests[0]["messages"][-1]["content"]
        assert content[0]["text"] == "what is @leaf.png\n\nAttached image `leaf.png` (image/png, 48 B)."
        assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")


async def test_an_image_for_a_model_without_vision_is_refused(settings, store, client, server, work):
    (work / "leaf.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    chat = seed_conversation(store, "Chat", [("q", "a")], age=timedelta(minutes=5))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(chat.id)
        await pilot.press(*"what is @leaf.png", "enter")
        await settle(pilot)
        assert server.requests == [] and store.count_messages(chat.id) == 2
        assert any("does not take images" in n.message for n in app._notifications)
        assert app.main_screen.chat_pane.prompt_input.text == "what is @leaf.png"
