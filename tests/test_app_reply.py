"""Sending from the app: answers stream in, stop keeps the partial text, errors show in the chat."""

from __future__ import annotations

from datetime import timedelta

from textual import events
from textual.widgets import Static

from agentterm.tui.screens.confirm import ConfirmScreen
from agentterm.tui.widgets.markdown_text import MarkdownText
from agentterm.tui.widgets.message import MessageView
from tests.app_helpers import answer_text, make_app, seed_conversation, settle, until
from tests.openai_server import Complete, Error, Stream


async def start_new_chat(pilot) -> None:
    await pilot.press("ctrl+n")
    await pilot.pause()
    await pilot.press("enter")  # the default agent is preselected
    await pilot.pause()


async def type_and_send(pilot, text: str) -> None:
    await pilot.press(*text)
    await pilot.press("enter")


async def test_send_shows_the_answer_and_stores_both(settings, store, client, server):
    server.script(Stream("The **answer** is 42.", chunk_size=3), Complete("Answer to everything"))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_new_chat(pilot)
        await type_and_send(pilot, "what is it")
        await settle(pilot)

        conversation = store.list_conversations()[0]
        messages = store.all_messages(conversation.id)
        assert [(m.role, m.content, m.status) for m in messages] == [
            ("user", "what is it", "complete"),
            ("assistant", "The **answer** is 42.", "complete"),
        ]
        assert answer_text(app, messages[1].id) == "The **answer** is 42."
        # The prompt box is empty again, and the status line shows the tokens now counted.
        assert app.main_screen.chat_pane.prompt_input.text == ""
        assert conversation.title == "Answer to everything"
        assert server.requests[0]["messages"][-1] == {"role": "user", "content": "what is it"}


async def test_multiline_paste_does_not_send_and_ctrl_j_adds_a_line(settings, store, client, server):
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_new_chat(pilot)
        prompt = app.main_screen.chat_pane.prompt_input
        await pilot.press("a", "ctrl+j", "b")
        # A terminal's bracketed paste reaches the app, which hands it to the focused widget.
        app.post_message(events.Paste("line one\nline two\n"))
        await pilot.pause()
        assert prompt.text == "a\nbline one\nline two\n"
        assert store.list_conversations() == []
        assert server.requests == []


async def test_escape_stops_the_answer_and_keeps_the_partial_text(settings, store, client, server):
    server.script(Stream("word " * 200, chunk_size=5, delay=0.05))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_new_chat(pilot)
        await type_and_send(pilot, "talk")
        pane = app.main_screen.chat_pane
        await until(pilot, lambda: any(v.message.role == "assistant" and v.source
                                       for v in pane.chat_view.views))
        await pilot.press("escape")
        await settle(pilot)

        answer = store.all_messages(store.list_conversations()[0].id)[-1]
        assert answer.status == "interrupted"
        assert answer.content.startswith("word")
        assert len(answer.content) < len("word " * 200)
        view = pane.chat_view.view_for(answer.id)
        assert view.has_class("-interrupted")
        assert "Interrupted" in str(view.query_one(".message-status", Static).render())
        assert not pane.streaming


async def test_retry_replaces_a_failed_answer(settings, store, client, server):
    server.script(Error(500, "the model fell over"), Stream("Second time lucky."))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_new_chat(pilot)
        await type_and_send(pilot, "try")
        await settle(pilot)
        cid = store.list_conversations()[0].id
        failed = store.all_messages(cid)[-1]
        assert failed.status == "error"

        view = app.main_screen.chat_pane.chat_view.view_for(failed.id)
        view.focus()
        await pilot.pause()
        view._letters_armed = True  # the user is working the chat (tests/test_app_focus.py)
        await pilot.press("r")
        await settle(pilot)

        messages = store.all_messages(cid)
        assert [(m.role, m.status) for m in messages] == [("user", "complete"), ("assistant", "complete")]
        assert answer_text(app, messages[-1].id) == "Second time lucky."
        views = app.main_screen.chat_pane.chat_view.views
        assert [(v.message.role, v.message.status) for v in views] == [
            ("user", "complete"), ("assistant", "complete")]


async def test_server_error_is_shown_in_the_chat_with_what_to_do(settings, store, client, server):
    server.script(Error(500, "upstream exploded"))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_new_chat(pilot)
        await type_and_send(pilot, "hello")
        await settle(pilot)
        failed = store.all_messages(store.list_conversations()[0].id)[-1]
        view = app.main_screen.chat_pane.chat_view.view_for(failed.id)
        status = str(view.query_one(".message-status", Static).render())
        assert view.has_class("-error")
        assert "Error:" in status and failed.extra["error"] in status
        assert failed.extra["hint"] and failed.extra["hint"] in status
        assert "Traceback" not in status
        assert app.is_running


async def test_wrong_key_is_shown_in_the_chat_without_the_key(settings, store, client, server):
    server.script(Error(401, "Incorrect API key provided"))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_new_chat(pilot)
        await type_and_send(pilot, "hello")
        await settle(pilot)
        failed = store.all_messages(store.list_conversations()[0].id)[-1]
        status = str(app.main_screen.chat_pane.chat_view.view_for(failed.id)
                     .query_one(".message-status", Static).render())
        assert failed.status == "error"
        assert "key" in status.lower()
        from tests.conftest import TEST_KEY

        assert TEST_KEY not in status


async def test_paused_agent_refuses_then_resumes_on_request(settings, store, client, server):
    conversation = seed_conversation(store, "Old chat", [("hi", "hello")], age=timedelta(days=2))
    store.set_agent_status(store.default_agent().id, "paused")
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await pilot.pause()
        await type_and_send(pilot, "more")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert store.count_messages(conversation.id) == 2
        assert app.main_screen.chat_pane.prompt_input.text == "more"
        assert server.requests == []

        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert store.default_agent().status == "active"
        assert [m.content for m in store.all_messages(conversation.id)][-2:] == [
            "more", "Hello from the test server."]


async def test_auto_title_appears_in_the_sidebar(settings, store, client, server):
    server.script(Stream("Sure."), Complete("Planning a Garden"))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_new_chat(pilot)
        await type_and_send(pilot, "help me plan a garden")
        await settle(pilot)
        sidebar = app.main_screen.sidebar
        first = sidebar.options.get_option_at_index(0)
        assert "Planning a Garden" in str(first.prompt)
        assert server.requests[-1]["model"] == "test-title-model"


async def test_markup_and_escapes_in_an_answer_are_shown_as_text(settings, store, client, server):
    server.script(Stream("[bold red]not markup[/] \x1b]52;c;aGk=\x07done"))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_new_chat(pilot)
        await type_and_send(pilot, "x")
        await settle(pilot)
        answer = store.all_messages(store.list_conversations()[0].id)[-1]
        shown = answer_text(app, answer.id)
        assert "[bold red]not markup[/]" in shown
        assert "\x1b" not in shown and "done" in shown


async def test_a_link_opens_only_after_confirming_the_full_url(settings, store, client, server, monkeypatch):
    conversation = seed_conversation(
        store, "Links", [("link?", "See [docs](https://example.com/a/very/long/path?q=1)")],
        age=timedelta(hours=3))
    opened: list[str] = []
    app = make_app(settings, store, client)
    monkeypatch.setattr(app, "open_url", lambda url, **kw: opened.append(url))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await pilot.pause()
        view = app.main_screen.chat_pane.chat_view.views[-1]
        markdown = view.query_one(MarkdownText)
        markdown.post_message(MarkdownText.LinkClicked("https://example.com/a/very/long/path?q=1"))
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.url == "https://example.com/a/very/long/path?q=1"
        assert opened == []
        await pilot.press("y")
        await pilot.pause()
        assert opened == ["https://example.com/a/very/long/path?q=1"]


async def test_messages_window_is_bounded_and_earlier_ones_load(settings, store, client, server):
    conversation = seed_conversation(store, "Long", [(f"q{i}", f"a{i}") for i in range(100)],
                                     age=timedelta(days=1))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        chat = app.main_screen.chat_pane.chat_view
        # The newest screenful is there at once; the rest of the window follows in batches.
        assert 0 < len(chat.views) <= 10
        assert chat.views[-1].message.content == "a99"
        await settle(pilot)
        assert len(chat.views) == 50
        assert chat.views[-1].message.content == "a99"
        await chat.load_earlier()
        await pilot.pause()
        assert len(chat.views) == 100
        assert chat.views[0].message.content == "q50"


async def test_message_view_counts_as_one_widget_tree_per_message(settings, store, client, server):
    # The sidebar is one OptionList whatever the number of conversations.
    for i in range(30):
        seed_conversation(store, f"Chat {i}", [("q", "a")], age=timedelta(hours=i + 1))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.main_screen.sidebar.options.option_count == 30
        assert len(app.main_screen.query(MessageView)) == 0


async def test_streaming_keeps_few_messages_mounted(settings, store, client, server):
    conversation = seed_conversation(store, "Long", [(f"q{i}", f"a{i}") for i in range(40)],
                                     age=timedelta(days=1))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        chat = app.main_screen.chat_pane.chat_view
        assert len(chat.views) == 50
        await pilot.press(*"next", "enter")
        await settle(pilot)
        assert len(chat.views) <= 8
        assert chat.views[-1].message.content == "Hello from the test server."
        assert chat.has_earlier
        await chat.load_earlier()
        await settle(pilot)
        assert len(chat.views) > 8


HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
"""


async def test_a_store_locked_by_another_program_holds_up_no_key(settings, store, client, server, db_path):
    import sqlite3
    import subprocess
    import sys
    from contextlib import closing

    conversation = seed_conversation(store, "Locked", [("q", "a")], age=timedelta(hours=1))
    server.script(Stream("After the lock."), Complete("T"))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        pane = app.main_screen.chat_pane
        await pilot.press(*"hello")
        await settle(pilot)
        holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db_path)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            assert holder.stdout.readline() == b"locked\n"
            await pilot.press("enter")  # storing the prompt now waits for the other program
            await pilot.press("ctrl+b")  # ... and meanwhile a key is handled at once
            assert not app.main_screen.sidebar.display
            # The key came first: the prompt is not stored yet, the send neither failed nor ended.
            assert pane.streaming and holder.poll() is None
            # Read through a connection of its own: the app's Store waits on the lock meanwhile.
            with closing(sqlite3.connect(db_path)) as reader:
                assert reader.execute("SELECT count(*) FROM messages WHERE conversation_id = ?",
                                      [conversation.id]).fetchone() == (2,)
            assert not any("store" in (n.title or "") for n in app._notifications)
        finally:
            holder.stdin.write(b"\n")
            holder.stdin.flush()
            holder.wait(10)
        await until(pilot, lambda: not pane.streaming, attempts=1000)
        await settle(pilot)
        assert [m.content for m in store.all_messages(conversation.id)] == [
            "q", "a", "hello", "After the lock."]


async def test_the_tries_of_an_answer_are_browsed_with_less_and_greater(settings, store, client, server):
    conversation = seed_conversation(store, "Tries", [("q", "first try")], age=timedelta(hours=1))
    prompt = store.all_messages(conversation.id)[0]
    variant = store.new_variant(prompt.id)
    store.add_message(conversation.id, "assistant", "second try", reply_to=prompt.id, variant=variant)
    store.select_variant(prompt.id, variant)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        chat = app.main_screen.chat_pane.chat_view

        def shown() -> list[str]:
            return [v.message.content for v in chat.views]

        assert shown() == ["q", "second try"]
        chat.views[-1].focus()
        await pilot.press("less_than_sign")
        await settle(pilot)
        assert shown() == ["q", "first try"]
        assert [m.content for m in store.all_messages(conversation.id)] == ["q", "first try"]
        chat.views[-1].focus()
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert shown() == ["q", "second try"]
        assert any("Answer 2 of 2" in str(n.message) for n in app._notifications)
