"""The main screen: the sidebar's order, filter and search, and what can be done to a conversation."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable

from agentterm.tui.app import AgentTermApp
from agentterm.tui.commands import COMMANDS
from agentterm.tui.screens.confirm import ConfirmScreen
from agentterm.tui.screens.main import MainScreen
from agentterm.tui.screens.help import HelpScreen
from agentterm.tui.screens.text_prompt import TextPromptScreen
from tests.app_helpers import make_app, option_ids, seed_conversation, settle


def seed_three(store):
    old = seed_conversation(store, "Old one", [("q", "a")], age=timedelta(days=30))
    mid = seed_conversation(store, "Middle one", [("q", "a")], age=timedelta(days=2))
    new = seed_conversation(store, "New one", [("q", "a")], age=timedelta(minutes=5))
    return old, mid, new


async def focus_sidebar(app, pilot, cid: int | None = None) -> None:
    sidebar = app.main_screen.sidebar
    sidebar.options.focus()
    await pilot.pause()
    await pilot.press("home")  # a navigation key: the list's letters are commands from now on
    if cid is not None:
        sidebar.options.highlighted = option_ids(app).index(cid)
    await pilot.pause()


async def test_sidebar_lists_pinned_first_then_by_activity_with_badges(settings, store, client, server):
    old, mid, new = seed_three(store)
    store.set_pinned(old.id, True)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert option_ids(app) == [old.id, new.id, mid.id]
        prompts = [str(app.main_screen.sidebar.options.get_option_at_index(i).prompt) for i in range(3)]
        assert "Old one" in prompts[0] and "Inactive" in prompts[0]
        assert "New one" in prompts[1] and "Active" in prompts[1] and "5m ago" in prompts[1]
        assert "Middle one" in prompts[2] and "Recent" in prompts[2] and "2d ago" in prompts[2]


async def test_filter_narrows_titles_as_you_type(settings, store, client, server):
    seed_three(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+f")
        await pilot.press(*"midd")
        await pilot.pause()
        titles = [c.title for c in app.main_screen.sidebar.conversations]
        assert titles == ["Middle one"]
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.main_screen.sidebar.conversations) == 3


async def test_search_opens_the_conversation_at_the_match(settings, store, client, server):
    exchanges = [(f"question {i}", f"answer {i}") for i in range(120)]
    exchanges[5] = ("where is the zanzibar lighthouse", "On the coast.")
    long = seed_conversation(store, "Long history", exchanges, age=timedelta(days=1))
    seed_three(store)
    target = next(m for m in store.all_messages(long.id) if "zanzibar" in m.content)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+f")
        await pilot.press(*"zanzibar", "enter")
        await pilot.pause()
        sidebar = app.main_screen.sidebar
        assert sidebar.hits and sidebar.hits[0].message_id == target.id
        await pilot.press("enter")
        await settle(pilot)
        chat = app.main_screen.chat_pane.chat_view
        found = chat.view_for(target.id)
        assert found is not None and found.has_class("-found")
        assert not chat.at_latest and chat.show_jump
        await pilot.click("#jump")  # the mouse way back to the newest message
        await settle(pilot)
        assert chat.at_latest and chat.views[-1].message.content == "answer 119"


async def test_rename_with_f2_edits_the_title_in_place(settings, store, client, server):
    from agentterm.tui.widgets.conversation_list import InlineRename

    _, _, new = seed_three(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(new.id)
        await pilot.press("f2")
        await pilot.pause()
        field = app.query_one(InlineRename)
        assert app.focused is field and field.value == new.title
        # The field lies over the conversation's own row in the sidebar.
        options = app.main_screen.sidebar.options
        assert field.region.y == options.content_region.y
        await pilot.press("ctrl+u", *"Renamed [b]x[/b]", "enter")
        await pilot.pause()
        renamed = store.get_conversation(new.id)
        assert renamed.title == "Renamed [b]x[/b]" and renamed.title_source == "user"
        assert not app.query(InlineRename)
        prompt = options.get_option_at_index(0).prompt
        assert "Renamed [b]x[/b]" in str(prompt)


async def test_escape_cancels_an_inline_rename(settings, store, client, server):
    from agentterm.tui.widgets.conversation_list import InlineRename

    _, _, new = seed_three(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(new.id)
        await pilot.press("f2", "ctrl+u", *"never saved", "escape")
        await pilot.pause()
        assert not app.query(InlineRename)
        assert store.get_conversation(new.id).title == new.title


async def test_rename_uses_a_dialog_when_the_sidebar_is_hidden(settings, store, client, server):
    _, _, new = seed_three(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(new.id)
        await pilot.press("ctrl+b", "f2")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press("ctrl+u", *"From the dialog", "enter")
        await pilot.pause()
        assert store.get_conversation(new.id).title == "From the dialog"


async def test_sidebar_keys_pin_archive_and_tags(settings, store, client, server):
    old, mid, new = seed_three(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await focus_sidebar(app, pilot, old.id)
        await pilot.press("p")
        await pilot.pause()
        assert store.get_conversation(old.id).pinned
        assert option_ids(app)[0] == old.id

        await focus_sidebar(app, pilot, mid.id)
        await pilot.press("a")
        await pilot.pause()
        assert store.get_conversation(mid.id).archived_at is not None
        assert mid.id not in option_ids(app)
        app.main_screen.sidebar.set_view("archive")
        await pilot.pause()
        assert option_ids(app) == [mid.id]
        await focus_sidebar(app, pilot, mid.id)
        await pilot.press("a")  # in the archive, a unarchives
        await pilot.pause()
        assert store.get_conversation(mid.id).archived_at is None

        app.main_screen.sidebar.set_view("inbox")
        await pilot.pause()
        await focus_sidebar(app, pilot, new.id)
        await pilot.press("t")
        await pilot.pause()
        await pilot.press(*"garden, ideas", "enter")
        await pilot.pause()
        assert sorted(store.get_conversation(new.id).tags) == ["garden", "ideas"]


async def test_delete_to_trash_restore_and_purge(settings, store, client, server):
    old, mid, new = seed_three(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(new.id)
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert store.get_conversation(new.id).deleted_at is None

        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert store.get_conversation(new.id).deleted_at is not None
        assert app.main_screen.open_conversation_id is None  # back to the dashboard
        assert new.id not in option_ids(app)

        app.main_screen.sidebar.set_view("trash")
        await pilot.pause()
        assert option_ids(app) == [new.id]
        await focus_sidebar(app, pilot, new.id)
        await pilot.press("u")
        await pilot.pause()
        assert store.get_conversation(new.id).deleted_at is None

        app.main_screen.sidebar.set_view("inbox")
        await pilot.pause()
        await focus_sidebar(app, pilot, old.id)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        app.main_screen.sidebar.set_view("trash")
        await pilot.pause()
        await focus_sidebar(app, pilot, old.id)
        await pilot.press("d")  # in the trash, delete purges, after its own confirm
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and "cannot be undone" in app.screen.body
        await pilot.press("y")
        await pilot.pause()
        assert store.get_conversation(old.id) is None


async def test_clear_messages_after_confirm(settings, store, client, server):
    _, _, new = seed_three(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(new.id)
        await app.main_screen.run_action("clear")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert store.count_messages(new.id) == 0
        assert store.get_conversation(new.id) is not None
        assert app.main_screen.chat_pane.chat_view.views == []


async def test_move_to_no_agent(settings, store, client, server):
    _, _, new = seed_three(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(new.id)
        await app.main_screen.run_action("move")
        await pilot.pause()
        await pilot.press("up", "enter")  # "No agent" is the first choice
        await pilot.pause()
        moved = store.get_conversation(new.id)
        assert moved.agent_id is None
        assert app.main_screen.chat_pane.agent is None


async def test_export_markdown_says_where(settings, store, client, server, tmp_path):
    _, _, new = seed_three(store)
    target = tmp_path / "out" / "chat.md"
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(new.id)
        await app.main_screen.run_action("export('markdown')")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        assert app.screen.value.endswith(".md")
        await pilot.press("ctrl+u", *str(target), "enter")
        await pilot.pause()
        assert target.read_text().startswith("---")
        assert "New one" in target.read_text()
        assert any(str(target) in str(n.message) for n in app._notifications)


async def test_an_export_from_the_app_is_private_and_never_replaces_a_file(settings, store, client, server,
                                                                          tmp_path):
    import stat

    _, _, new = seed_three(store)
    fresh, taken = tmp_path / "fresh.md", tmp_path / "taken.md"
    taken.write_text("my notes")
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(new.id)
        for target in (fresh, taken):
            await app.main_screen.run_action("export('markdown')")
            await pilot.pause()
            await pilot.press("ctrl+u", *str(target), "enter")
            await pilot.pause()
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o600 and "New one" in fresh.read_text()
        assert taken.read_text() == "my notes"
        assert any("already exists" in str(n.message) for n in app._notifications)


async def test_ctrl_y_copies_the_last_answer(settings, store, client, server, monkeypatch):
    _, _, new = seed_three(store)
    store.add_message(new.id, "user", "again")
    store.add_message(new.id, "assistant", "the very last answer")
    monkeypatch.setattr("agentterm.clipboard.native_copy", lambda text: None)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(new.id)
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert app.clipboard == "the very last answer"
        # Headless, no terminal and no tool: it says so plainly.
        assert any("Could not copy" in str(n.message) for n in app._notifications)


async def test_copy_reports_the_native_tool(settings, store, client, server, monkeypatch):
    _, _, new = seed_three(store)
    copied: list[str] = []
    monkeypatch.setattr("agentterm.clipboard.native_copy", lambda text: copied.append(text) or "xclip")
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(new.id)
        view = app.main_screen.chat_pane.chat_view.views[0]
        view.focus()
        await pilot.press("c")
        await pilot.pause()
        assert copied == ["q"]
        assert any("xclip" in str(n.message) for n in app._notifications)


async def test_ctrl_up_and_down_follow_the_sidebar_order(settings, store, client, server):
    old, mid, new = seed_three(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(new.id)
        await pilot.press("ctrl+down")
        await pilot.pause()
        assert app.main_screen.open_conversation_id == mid.id
        await pilot.press("ctrl+down")
        await pilot.pause()
        assert app.main_screen.open_conversation_id == old.id
        await pilot.press("ctrl+up")
        await pilot.pause()
        assert app.main_screen.open_conversation_id == mid.id


async def test_keymap_remap_works_and_help_shows_it(settings, store, client, server):
    settings.keymap = {"app.new_conversation": "f6", "chat.send": "ctrl+s"}
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen is app.main_screen  # the old key no longer opens the picker
        await pilot.press("f6")
        await pilot.pause()
        assert type(app.screen).__name__ == "AgentPickerScreen"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"hi", "enter")
        assert app.main_screen.chat_pane.prompt_input.text == "hi\n"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store.count_conversations() == 1

        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        new_row = next(r for r in rows if r[3] == "app.new_conversation")
        assert new_row[1] == "f6 (remapped)"
        send_row = next(r for r in rows if r[3] == "chat.send")
        assert send_row[1] == "ctrl+s (remapped)"
        assert next(r for r in rows if r[3] == "app.quit")[1] == "ctrl+q"


async def test_command_palette_holds_every_action(settings, store, client, server):
    for command in COMMANDS:
        name = command.action.split("(")[0]
        owner = AgentTermApp if command.action.startswith("app.") else MainScreen
        assert hasattr(owner, f"action_{name.removeprefix('app.')}"), command
    # Every global binding's action is in the palette too.
    palette = {c.action.removeprefix("app.") for c in COMMANDS}
    for binding in AgentTermApp.BINDINGS:
        action = binding.action
        if action.startswith("main("):
            action = action[len("main('"):-2]
        assert action in palette or action in {"command_palette", "quit"}, binding.id


def test_docs_keys_lists_every_binding_id():
    from pathlib import Path

    from agentterm.tui.keymap import key_rows

    text = (Path(__file__).parent.parent / "docs" / "keys.md").read_text()
    missing = [row.id for row in key_rows({}) if f"`{row.id}`" not in text]
    assert missing == []


def test_unknown_keymap_ids_are_reported():
    from agentterm.tui.keymap import unknown_ids

    assert unknown_ids({"app.new_conversation": "f6", "app.no_such_thing": "f7"}) == {"app.no_such_thing"}


async def test_a_store_fault_is_a_notice_and_the_app_keeps_running(settings, store, client, server,
                                                                  monkeypatch):
    from agentterm.store import StoreError

    _, _, new = seed_three(store)

    def locked(*args, **kwargs):
        raise StoreError("The store is locked by another program; try again in a moment.")

    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(new.id)
        monkeypatch.setattr(store, "rename_conversation", locked)
        monkeypatch.setattr(store, "set_pinned", locked)
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press(*"other", "enter")
        await pilot.pause()
        await focus_sidebar(app, pilot, new.id)
        await pilot.press("p")
        await pilot.pause()
        notices = [str(n.message) for n in app._notifications]
        assert sum("locked" in n for n in notices) == 2
        assert app.is_running and app.return_code is None
        # The sidebar still works.
        await pilot.press("ctrl+down")
        await pilot.pause()
        assert app.main_screen.open_conversation_id is not None


async def test_agents_screen_and_agent_editor_open_from_the_main_screen(settings, store, client, server):
    _, _, new = seed_three(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert type(app.screen).__name__ == "AgentsScreen"
        await pilot.press("s")  # start a chat with the highlighted agent
        await pilot.pause()
        assert app.screen is app.main_screen
        pane = app.main_screen.chat_pane
        assert pane.conversation is None and pane.agent is not None  # a new, unsaved conversation

        await app.main_screen.open_conversation(new.id)
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert type(app.screen).__name__ == "AgentEditorScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main_screen


async def test_the_footer_shows_the_focused_widgets_keys_and_a_click_runs_one(settings, store, client):
    from agentterm.tui.widgets.footer import Footer

    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(Footer)
        assert "Help" in str(footer.render()) and "Commands" in str(footer.render())
        start = str(footer.render()).index(" f1 ")
        await pilot.click(Footer, offset=(start + 1, 0))
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
