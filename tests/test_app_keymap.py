"""Every place that names a key reads the live keymap; a clash is reported naming both ids (issue 8.22)."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable

from agentterm.tui.keymap import clashes, live_key
from agentterm.tui.screens.help import HelpScreen
from agentterm.tui.widgets.home import QuickAction
from tests.app_helpers import make_app, seed_conversation, settle


def help_rows(app) -> dict[str, list[str]]:
    table = app.screen.query_one(DataTable)
    rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
    return {row[3]: row for row in rows}


def test_a_clash_names_both_ids_and_what_the_loser_keeps():
    assert clashes({"sidebar.pin": "r"}) == [
        'sidebar.pin = "r" takes r from sidebar.rename, which now has no key (sidebar list).']
    assert clashes({"sidebar.archive": "delete"}) == [
        'sidebar.archive = "delete" takes delete from sidebar.delete, which keeps d (sidebar list).']
    # Moving the other binding away too is no clash.
    assert clashes({"sidebar.pin": "r", "sidebar.rename": "n"}) == []
    assert live_key({"sidebar.pin": "r"}, "sidebar.rename") == ""
    assert live_key({"sidebar.pin": "r"}, "sidebar.pin") == "r"


async def test_pin_on_r_pins_rename_loses_r_and_every_word_says_so(settings, store, client, server):
    conversation = seed_conversation(store, "Only one", [("q", "a")], age=timedelta(hours=1))
    settings.keymap = {"sidebar.pin": "r"}
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        notices = [n.message for n in app._notifications]
        notice = next(n for n in notices if "sidebar.rename" in n)
        assert "sidebar.pin" in notice and "no key" in notice and "your binding wins" in notice
        await pilot.press("home", "r")  # the user's binding wins
        await settle(pilot)
        assert store.get_conversation(conversation.id).pinned
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = help_rows(app)
        assert rows["sidebar.pin"][1] == "r (remapped)"
        assert rows["sidebar.rename"][1] == "(none) (lost in a clash)"
        footer = str(app.screen.query_one("#help-footer").render())
        assert "no key rename" in footer and "r pin" in footer


async def test_the_dashboard_and_the_prompt_name_the_remapped_keys(settings, store, client, server):
    settings.keymap = {"app.new_conversation": "f6", "chat.send": "ctrl+s", "chat.newline": "enter"}
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        labels = [str(button.label) for button in app.main_screen.home.query(QuickAction)]
        assert "New chat  f6" in labels and not any("ctrl+n" in label for label in labels)
        placeholder = str(app.main_screen.chat_pane.prompt_input.placeholder)
        assert placeholder == "Type a prompt; ctrl+s sends, enter adds a line"
        assert not [n for n in app._notifications if n.title == "Keymap"]  # a swap, not a clash
