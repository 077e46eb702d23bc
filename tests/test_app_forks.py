"""Forking in the app: "fork here" on a message (key, header word, palette), an earlier prompt
edited and sent in a fork, and the tries of an answer counted in its header ("2/3")."""

from __future__ import annotations

from datetime import timedelta

from textual.command import CommandPalette
from textual.widgets import Static

from agentterm.tui.screens.text_prompt import TextPromptScreen
from tests.app_helpers import make_app, seed_conversation, settle, until
from tests.openai_server import Stream

THREE = [("first question", "first answer"), ("second question", "second answer"),
         ("third question", "third answer")]


def contents(store, cid: int) -> list[str]:
    return [m.content for m in store.all_messages(cid)]


def open_id(app) -> int | None:
    return app.main_screen.open_conversation_id


async def opened(app, pilot, cid: int) -> None:
    await app.main_screen.open_conversation(cid)
    await settle(pilot)


def view_of(app, content: str):
    return next(v for v in app.main_screen.chat_pane.chat_view.views if v.message.content == content)


async def arm(pilot, view) -> None:
    """Focus a message as a user does, so its letters are commands (not typing)."""
    view.focus()
    await pilot.pause()
    await pilot.press("down", "up")  # navigation keys: the letters act from now on
    view.focus()
    await pilot.pause()


async def test_f_on_an_answer_forks_there_and_opens_the_fork(settings, store, client, server):
    parent = seed_conversation(store, "Three turns", THREE, age=timedelta(hours=1))
    store.set_tags(parent.id, ["work"])
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, parent.id)
        await arm(pilot, view_of(app, "second answer"))
        await pilot.press("f")
        await until(pilot, lambda: open_id(app) not in (None, parent.id))
        fork = store.get_conversation(open_id(app))
        assert fork.parent_id == parent.id
        assert contents(store, fork.id) == ["first question", "first answer", "second question",
                                            "second answer"]
        assert fork.tags == ["work"] and fork.title == "Three turns (fork)"
        assert contents(store, parent.id) == [m for pair in THREE for m in pair]  # untouched
        await settle(pilot)
        shown = [v.message.content for v in app.main_screen.chat_pane.chat_view.views]
        assert shown == contents(store, fork.id)
        assert fork.id in [c.id for c in app.main_screen.sidebar.conversations]
        assert any("fork of 'Three turns'" in str(n.message) for n in app._notifications)


async def test_the_fork_word_in_a_header_forks_with_the_mouse(settings, store, client, server):
    parent = seed_conversation(store, "Clicked", THREE, age=timedelta(hours=1))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, parent.id)
        view = view_of(app, "first question")
        header = view.query_one(".message-header", Static)
        first_line = str(header.render()).splitlines()[0]
        assert "[fork]" in first_line
        await pilot.click(header, offset=(first_line.index("[fork]") + 2, 0))
        await until(pilot, lambda: open_id(app) not in (None, parent.id))
        assert contents(store, open_id(app)) == ["first question"]


async def test_fork_here_from_the_palette_forks_at_the_newest_message(settings, store, client, server):
    parent = seed_conversation(store, "Palette", THREE, age=timedelta(hours=1))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, parent.id)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Fork here")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: open_id(app) not in (None, parent.id), attempts=500)
        assert contents(store, open_id(app)) == contents(store, parent.id)
        assert store.get_conversation(open_id(app)).forked_from_message_id == \
            store.all_messages(parent.id)[-1].id


async def test_editing_an_earlier_prompt_sends_it_in_a_fork(settings, store, client, server):
    server.script(Stream("A new second answer."))
    parent = seed_conversation(store, "Edit me", THREE, age=timedelta(hours=1))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, parent.id)
        second = view_of(app, "second question")
        assert "[edit]" in str(second.query_one(".message-header", Static).render())
        await arm(pilot, second)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        assert "fork" in app.screen.dialog_title
        await pilot.press("ctrl+a", "ctrl+k", *"second, edited", "ctrl+s")
        await until(pilot, lambda: open_id(app) not in (None, parent.id))
        fork_id = open_id(app)
        await until(pilot, lambda: contents(store, fork_id)[-1:] == ["A new second answer."],
                    attempts=1000)
        await settle(pilot)
        assert contents(store, fork_id) == ["first question", "first answer", "second, edited",
                                            "A new second answer."]
        sent = [m["content"] for m in server.requests[-1]["messages"] if m["role"] != "system"]
        assert sent == ["first question", "first answer", "second, edited"]
        assert contents(store, parent.id) == [m for pair in THREE for m in pair]
        assert store.get_conversation(fork_id).forked_from_message_id == second.message.id


async def test_e_on_an_answer_edits_nothing(settings, store, client, server):
    parent = seed_conversation(store, "Not an answer", THREE, age=timedelta(hours=1))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, parent.id)
        await arm(pilot, view_of(app, "first answer"))
        await pilot.press("e")
        await settle(pilot)
        assert not isinstance(app.screen, TextPromptScreen)
        assert contents(store, parent.id) == [m for pair in THREE for m in pair]


async def test_an_answer_with_tries_counts_them_in_its_header(settings, store, client, server):
    conversation = seed_conversation(store, "Tries", [("q", "first try")], age=timedelta(hours=1))
    prompt = store.all_messages(conversation.id)[0]
    for text in ("second try", "third try"):
        variant = store.new_variant(prompt.id)
        store.add_message(conversation.id, "assistant", text, reply_to=prompt.id, variant=variant)
    store.select_variant(prompt.id, 2)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, conversation.id)
        answer = view_of(app, "second try")
        prompt_view = view_of(app, "q")
        header = str(answer.query_one(".message-header", Static).render())
        assert "[<] 2/3 [>]" in header
        assert "[<]" not in str(view_of(app, "q").query_one(".message-header", Static).render())
        # A click on [>] shows the next try, and its header says so.
        first_line = header.splitlines()[0]
        await pilot.click(answer.query_one(".message-header", Static),
                          offset=(first_line.index("[>]") + 1, 0))
        await until(pilot, lambda: any(v.message.content == "third try"
                                       for v in app.main_screen.chat_pane.chat_view.views))
        await settle(pilot)
        third = view_of(app, "third try")
        assert "3/3" in str(third.query_one(".message-header", Static).render())
        # Only the answer's view changed: the prompt's is the same widget, and the focus is on
        # the new try, so < goes on browsing from there.
        assert view_of(app, "q") is prompt_view
        assert app.focused is third
        await pilot.press("down", "up")
        third.focus()
        await pilot.press("less_than_sign")
        await until(pilot, lambda: any(v.message.content == "second try"
                                       for v in app.main_screen.chat_pane.chat_view.views))
        assert store.shown_variant(prompt.id) == 2


async def test_editing_the_last_prompt_keeps_its_answer_as_an_earlier_try(settings, store, client, server):
    server.script(Stream("An answer to the edit."))
    conversation = seed_conversation(store, "Last", THREE[:2], age=timedelta(hours=1))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, conversation.id)
        last = view_of(app, "second question")
        await arm(pilot, last)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        assert "fork" not in app.screen.dialog_title
        await pilot.press("ctrl+a", "ctrl+k", *"second, edited", "ctrl+s")
        await until(pilot, lambda: "An answer to the edit." in contents(store, conversation.id),
                    attempts=1000)
        await until(pilot, lambda: not app.main_screen.chat_pane.streaming, attempts=1000)
        assert open_id(app) == conversation.id  # in place, no fork
        # The shown context: the edited prompt and its new answer; the old answer is a try.
        assert [m.content for m in store.latest_messages(conversation.id, 10)] == [
            "first question", "first answer", "second, edited", "An answer to the edit."]
        assert store.variants(last.message.id) == [1, 2]
        new = view_of(app, "An answer to the edit.")
        await until(pilot, lambda: "[<] 2/2 [>]" in str(new.query_one(".message-header", Static).render()))
        assert [m.content for m in store.variant_messages(last.message.id, 1)] == ["second answer"]
