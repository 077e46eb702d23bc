"""The small modal screens through the Pilot: confirm, choice and the agent picker."""

from __future__ import annotations

import pytest
from textual.widgets import Input, OptionList

from agentterm.tui.screens.agent_picker import AgentPickerScreen
from agentterm.tui.screens.confirm import ChoiceScreen, ConfirmScreen
from tests.screen_helpers import SIZE, Host, text_of

# -- dialogs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("keys", "expected"), [(["y"], True), (["enter"], True), (["n"], False), (["escape"], False)])
async def test_confirm_keys(store, keys, expected):
    app = Host(ConfirmScreen("Delete?", "Really", "Delete", danger=True), store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*keys)
        await pilot.pause()
    assert app.results == [expected]


async def test_confirm_mouse_and_text_not_markup(store):
    app = Host(ConfirmScreen("Drop [b]x[/b]?", "[@click=app.quit]y[/]"), store)
    async with app.run_test(size=SIZE) as pilot:
        assert text_of(app.screen.query_one("#dialog-title")) == "Drop [b]x[/b]?"
        assert "[@click=app.quit]y[/]" in app.screen.query_one("#dialog-body Static").render().plain
        await pilot.click("#cancel")
        await pilot.pause()
    assert app.results == [False]


async def test_choice_by_number_enter_mouse_and_escape(store):
    choices = [("Keep conversations", "keep"), ("Delete them too", "delete")]
    for keys, expected in ((["2"], "delete"), (["enter"], "keep"), (["down", "enter"], "delete"), (["escape"], None)):
        app = Host(ChoiceScreen("Delete agent", "What about its chats?", choices), store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*keys)
            await pilot.pause()
        assert app.results == [expected], keys
    app = Host(ChoiceScreen("Delete agent", "?", choices), store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#cancel")
        await pilot.pause()
    assert app.results == [None]


# -- the picker ------------------------------------------------------------------------------


def picker_ids(app) -> list[str]:
    options = app.screen.query_one("#picker-agents", OptionList)
    return [options.get_option_at_index(i).id for i in range(options.option_count)]


def highlighted_id(app) -> str:
    options = app.screen.query_one("#picker-agents", OptionList)
    return options.get_option_at_index(options.highlighted).id


async def test_picker_preselects_default_and_hides_retired(store):
    default = store.default_agent()
    paused = store.create_agent("Paused one", status="paused")
    retired = store.create_agent("Retired one", status="inactive")
    reviewer = store.create_agent("Reviewer")
    app = Host(AgentPickerScreen(default_agent_id=reviewer.id), store)
    async with app.run_test(size=SIZE) as pilot:
        ids = picker_ids(app)
        assert ids[0] == "none"
        assert f"agent-{paused.id}" in ids and f"agent-{default.id}" in ids
        assert f"agent-{retired.id}" not in ids
        assert highlighted_id(app) == f"agent-{reviewer.id}"
        options = app.screen.query_one("#picker-agents", OptionList)
        paused_prompt = options.get_option(f"agent-{paused.id}").prompt
        assert "[paused]" in paused_prompt.plain
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert f"agent-{retired.id}" in picker_ids(app)
        assert highlighted_id(app) == f"agent-{reviewer.id}"
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert f"agent-{retired.id}" not in picker_ids(app)
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [("agent", reviewer.id)]


async def test_picker_filters_as_you_type_and_offers_no_agent(store):
    store.create_agent("Reviewer", description="reads diffs")
    writer = store.create_agent("Writer")
    app = Host(AgentPickerScreen(default_agent_id=None), store)
    async with app.run_test(size=SIZE) as pilot:
        assert highlighted_id(app) == "none"
        await pilot.press("w", "r", "i")
        await pilot.pause()
        assert picker_ids(app) == [f"agent-{writer.id}"]
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [("agent", writer.id)]

    app = Host(AgentPickerScreen(default_agent_id=writer.id), store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("up")  # from the default to the row above it
        await pilot.press("home")  # the filter's home: the list keeps its place
        while highlighted_id(app) != "none":
            await pilot.press("up")
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [("none", None)]

    app = Host(AgentPickerScreen(default_agent_id=writer.id), store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


async def test_picker_by_mouse(store):
    writer = store.create_agent("Writer")
    app = Host(AgentPickerScreen(default_agent_id=None), store)
    async with app.run_test(size=SIZE) as pilot:
        index = picker_ids(app).index(f"agent-{writer.id}")
        options = app.screen.query_one("#picker-agents", OptionList)
        await pilot.click(options, offset=(4, index + 1))  # the list's top border is one line
        await pilot.pause()
    assert app.results == [("agent", writer.id)]


async def test_picker_typing_in_the_list_filters(store):
    writer = store.create_agent("Writer")
    app = Host(AgentPickerScreen(default_agent_id=None), store)
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#picker-agents", OptionList).focus()
        await pilot.press("w", "r")
        await pilot.pause()
        assert app.screen.query_one("#picker-filter", Input).value == "wr"
        assert picker_ids(app) == [f"agent-{writer.id}"]


async def test_picker_with_nothing_matching_says_so_and_enter_chooses_nothing(store):
    # A question typed into the picker (taken for the prompt) filters every agent out: the list
    # says so, instead of an empty box, and enter neither starts anything nor fails.
    store.create_agent("Writer")
    app = Host(AgentPickerScreen(default_agent_id=None), store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"how do i")
        await pilot.pause()
        options = app.screen.query_one("#picker-agents", OptionList)
        assert picker_ids(app) == ["no-match"]
        assert options.get_option_at_index(0).disabled
        assert "No agent matches “how do i”" in options.get_option_at_index(0).prompt.plain
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == []
        for _ in range(8):
            await pilot.press("backspace")
        await pilot.pause()
        assert "none" in picker_ids(app)
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [("none", None)]
