"""Focus after dialogs and inline edits, and single-letter keys that change data (issue 8.8, 8.9)."""

from __future__ import annotations

from datetime import timedelta

from agentterm.tui.screens.agent_picker import AgentPickerScreen
from agentterm.tui.screens.confirm import ConfirmScreen
from agentterm.tui.screens.text_prompt import TextPromptScreen
from agentterm.tui.widgets.conversation_list import InlineRename
from agentterm.tui.widgets.message import MessageView
from tests.app_helpers import make_app, seed_conversation, settle


def seed(store):
    other = seed_conversation(store, "Other one", [("q", "a")], age=timedelta(days=2))
    new = seed_conversation(store, "New one", [("q", "a")], age=timedelta(minutes=5))
    return other, new


def unchanged(store, *conversations) -> bool:
    """No conversation was pinned, archived, trashed or retitled."""
    for conversation in conversations:
        now = store.get_conversation(conversation.id)
        if (now.pinned, now.archived_at, now.deleted_at, now.title) != (
                conversation.pinned, conversation.archived_at, conversation.deleted_at, conversation.title):
            return False
    return True


async def open_new(app, pilot, new):
    await app.main_screen.open_conversation(new.id)
    await settle(pilot)
    assert app.focused is app.main_screen.chat_pane.prompt_input


async def test_f2_then_enter_gives_the_focus_back_to_the_prompt(settings, store, client, server):
    other, new = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new(app, pilot, new)
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.focused, InlineRename)
        await pilot.press(*"Renamed", "enter")  # typing replaces the title, it is not appended
        await settle(pilot)
        assert store.get_conversation(new.id).title == "Renamed"
        assert app.focused is app.main_screen.chat_pane.prompt_input
        await pilot.press(*"pad y")  # an ordinary prompt: p pins, a archives, d deletes in the list
        await settle(pilot)
        assert app.main_screen.chat_pane.prompt_input.text == "pad y"
        assert not isinstance(app.screen, ConfirmScreen)
        assert unchanged(store, other, store.get_conversation(new.id))


async def test_f2_then_escape_gives_the_focus_back_to_the_prompt(settings, store, client, server):
    other, new = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new(app, pilot, new)
        await pilot.press("f2", *"never", "escape")
        await settle(pilot)
        assert app.focused is app.main_screen.chat_pane.prompt_input
        await pilot.press(*"pad y")
        await settle(pilot)
        assert app.main_screen.chat_pane.prompt_input.text == "pad y"
        assert unchanged(store, other, new)


async def test_dialogs_give_the_focus_back(settings, store, client, server):
    other, new = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new(app, pilot, new)
        prompt = app.main_screen.chat_pane.prompt_input
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.focused is prompt
        await app.main_screen.run_action("move")
        await pilot.pause()
        assert isinstance(app.screen, AgentPickerScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.focused is prompt
        await app.main_screen.run_action("tags")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.focused is prompt
        await pilot.press(*"pad")
        assert prompt.text == "pad" and unchanged(store, other, new)


async def test_sidebar_letters_right_after_the_focus_arrives_are_not_commands(
        settings, store, client, server):
    other, new = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        options = app.main_screen.sidebar.options
        options.QUIET = 3600  # a machine slow enough to pause between keys must not arm the letters
        assert app.focused is options  # at start: a user may well type a prompt at once
        await pilot.press(*"please add data")
        await settle(pilot)
        assert app.screen is app.main_screen and not app.query(InlineRename)
        assert unchanged(store, other, new)
        assert any("has the focus" in n.message for n in app._notifications)
        # Working the list first (a navigation key): a command.
        await pilot.press("home", "p")
        await settle(pilot)
        assert store.get_conversation(new.id).pinned
        # Back in the list after the prompt: the focus arrived, the letter is not a command.
        await pilot.press("tab")
        assert app.focused is not options
        options.focus()
        await pilot.pause()
        await pilot.press("p")
        await settle(pilot)
        assert store.get_conversation(new.id).pinned
        options.QUIET = 0  # after a pause, a letter is a command
        await pilot.press("p")
        await settle(pilot)
        assert not store.get_conversation(new.id).pinned


async def test_a_message_letter_right_after_the_focus_arrives_is_not_a_command(
        settings, store, client, server):
    other, new = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new(app, pilot, new)
        view = app.query(MessageView).last()
        view.QUIET = 3600
        view.focus()
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("up", "x")  # working the chat first: x asks, as before
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.focused is view


async def test_rename_while_search_hits_are_listed_shows_a_field(settings, store, client, server):
    other, new = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new(app, pilot, new)
        await pilot.press("ctrl+f", "q", "enter")
        await settle(pilot)
        sidebar = app.main_screen.sidebar
        assert sidebar.hits and app.focused is sidebar.options
        await pilot.press("f2")  # on the highlighted hit: its conversation is renamed
        await pilot.pause()
        hit = sidebar.hits[0]
        assert isinstance(app.screen, TextPromptScreen)
        field = app.screen.query_one("#value")
        assert field.value == store.get_conversation(hit.conversation_id).title
        assert field.selected_text == field.value  # typing replaces the title
        await pilot.press(*"xyz", "enter")
        await settle(pilot)
        assert store.get_conversation(hit.conversation_id).title == "xyz"
        assert app.focused is sidebar.options
        # From the prompt too, with the hits still listed.
        app.main_screen.chat_pane.prompt_input.focus()
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press(*"abc", "enter")
        await settle(pilot)
        assert store.get_conversation(new.id).title == "abc"
        assert app.focused is app.main_screen.chat_pane.prompt_input
