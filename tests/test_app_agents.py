"""The agent screens through the Pilot: picker, editor, versions, the agents list, dialogs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets import DataTable, Input, OptionList, Select, Static, TextArea

from agentterm.config import ProviderConfig
from agentterm.screens.agent_editor import AgentEditorScreen
from agentterm.screens.agent_picker import AgentPickerScreen
from agentterm.screens.agent_versions import VersionsScreen
from agentterm.screens.agents import AgentsScreen
from agentterm.screens.confirm import ChoiceScreen, ConfirmScreen
from agentterm.screens.text_prompt import TextPromptScreen

SIZE = (80, 24)


class Host(App[None]):
    """Stands in for AgentTermApp: the store, client and settings, and one screen pushed."""

    def __init__(self, screen: Screen[Any], store: Any, client: Any = None, settings: Any = None) -> None:
        super().__init__()
        self.store, self.client, self.settings = store, client, settings
        self.first_screen = screen
        self.results: list[Any] = []
        self.requests: list[AgentsScreen.ConversationRequested] = []

    def on_mount(self) -> None:
        self.push_screen(self.first_screen, self.results.append)

    def on_agents_screen_conversation_requested(self, message: AgentsScreen.ConversationRequested) -> None:
        self.requests.append(message)


def text_of(widget: Static) -> str:
    return str(widget.render())


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_into(pilot, selector: str, text: str, *, keys: bool = False) -> None:
    """Replace a field's text: with keys=True keystroke by keystroke, as a user types (slow in
    the Pilot, so kept for short text); else as one edit, which the form sees just the same."""
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    if isinstance(widget, Input):
        widget.value = ""
        if not keys:
            widget.insert_text_at_cursor(text)
    else:
        widget.clear()
        if not keys:
            widget.insert(text)
    if keys:
        await pilot.press(*[{" ": "space"}.get(c, c) for c in text])
    await pilot.pause()


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


# -- the editor ------------------------------------------------------------------------------


def error_text(app, field: str) -> str:
    error = app.screen.query_one(f"#{field}-error", Static)
    return text_of(error) if error.has_class("-shown") else ""


async def test_new_blank_agent_validates_as_you_type_and_saves(store, settings, client):
    app = Host(AgentEditorScreen(), store, client, settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert error_text(app, "name") == "Name is required"
        await type_into(pilot, "#name", "Assistant")
        assert error_text(app, "name") == "Name is already used by another agent"
        await type_into(pilot, "#name", "Critic", keys=True)
        assert error_text(app, "name") == ""
        await type_into(pilot, "#temperature", "abc", keys=True)
        assert error_text(app, "temperature") == "Temperature must be a number"
        assert app.screen.query_one("#temperature").has_class("-invalid")
        await type_into(pilot, "#top_p", "1.5")
        assert error_text(app, "top_p") == "Top p must be between 0 and 1"
        await type_into(pilot, "#max_tokens", "0")
        assert "positive whole number" in error_text(app, "max_tokens")
        await type_into(pilot, "#extra", "[1]")
        assert "JSON object" in error_text(app, "extra")

        # Saving refuses while anything is wrong, and puts the cursor on the first bad field.
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.results == []
        assert app.focused is app.screen.query_one("#temperature")
        assert store.get_agent_by_name("Critic") is None

        await type_into(pilot, "#temperature", "0.4")
        await type_into(pilot, "#top_p", "")
        await type_into(pilot, "#max_tokens", "256")
        await type_into(pilot, "#extra", '{"seed": 7}')
        await type_into(pilot, "#instructions", "Find faults.")
        assert app.screen.errors == {}
        await pilot.press("ctrl+s")
        await pilot.pause()
    saved = store.get_agent_by_name("Critic")
    assert app.results == [saved]
    assert (saved.temperature, saved.top_p, saved.max_tokens) == (0.4, None, 256)
    assert saved.extra == {"seed": 7} and saved.instructions == "Find faults."


async def test_nan_and_json_errors_are_named(store, settings):
    app = Host(AgentEditorScreen(), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "#temperature", "nan")
        assert error_text(app, "temperature") == "Temperature must be a number"
        await type_into(pilot, "#extra", '{"a": 1,}')
        assert "line 1" in error_text(app, "extra")
        await type_into(pilot, "#extra", '{"a": NaN}')
        assert "NaN" in error_text(app, "extra")


async def test_edit_saves_a_new_version(store, settings):
    agent = store.create_agent("Reviewer", temperature=0.2)
    app = Host(AgentEditorScreen(agent_id=agent.id), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        assert app.screen.query_one("#temperature", Input).value == "0.2"
        await type_into(pilot, "#temperature", "0.9")
        await pilot.press("ctrl+s")
        await pilot.pause()
    saved = store.get_agent(agent.id)
    assert saved.version == 2 and saved.temperature == 0.9
    assert [v.version for v in store.agent_versions(agent.id)] == [2, 1]
    assert app.results == [saved]


async def test_escape_with_unsaved_changes_asks(store, settings):
    agent = store.create_agent("Reviewer")
    app = Host(AgentEditorScreen(agent_id=agent.id), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "#description", "changed")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep editing
        await pilot.pause()
        assert isinstance(app.screen, AgentEditorScreen)
        assert app.screen.query_one("#description", Input).value == "changed"
        await pilot.press("escape", "y")
        await pilot.pause()
    assert app.results == [None]
    assert store.get_agent(agent.id).description == "" and store.get_agent(agent.id).version == 1


async def test_escape_without_changes_leaves_at_once(store, settings):
    app = Host(AgentEditorScreen(agent_id=store.default_agent().id), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


async def test_new_from_template_prefills_and_avoids_a_taken_name(store, settings):
    from agentterm.templates import load_template

    template = load_template("assistant")
    app = Host(AgentEditorScreen(template=template), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        name = app.screen.query_one("#name", Input).value
        assert name == f"{template['name']} 2"  # the seeded Assistant has the name
        assert app.screen.query_one("#instructions", TextArea).text == template["instructions"]
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert store.get_agent_by_name(name).instructions == template["instructions"]


async def test_model_list_comes_from_the_provider(store, settings, client, server):
    server.models = ["zeta-model", "alpha-[b]model[/b]"]
    app = Host(AgentEditorScreen(), store, client, settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        picker = app.screen.query_one("#model-list", Select)
        assert [value for _prompt, value in picker._options if value is not Select.NULL] == [
            "alpha-[b]model[/b]", "zeta-model"]
        assert "2 models" in text_of(app.screen.query_one("#model-note"))
        picker.value = "zeta-model"
        await pilot.pause()
        assert app.screen.query_one("#model", Input).value == "zeta-model"
    assert ("GET", "/v1/models") in [(m, p.rstrip("/")) for m, p in server.hits]


async def test_model_list_failure_is_a_note_not_a_crash(store, settings, client, server):
    settings.providers["down"] = ProviderConfig(
        name="down", base_url="http://127.0.0.1:9/v1", api_key_env="AGENTTERM_TEST_KEY", timeout=2)
    app = Host(AgentEditorScreen(), store, client, settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#provider", Select).value = "down"
        await settle(pilot)
        assert "Could not list" in text_of(app.screen.query_one("#model-note"))
        server.models = None  # the server answers 404: no list, and no fault either
        app.screen.query_one("#provider", Select).value = "local"
        await settle(pilot)
        assert "lists no models" in text_of(app.screen.query_one("#model-note"))
        assert app.is_running


# -- versions --------------------------------------------------------------------------------


async def test_versions_restore_makes_a_new_version(store, settings):
    agent = store.create_agent("Reviewer", temperature=0.1, instructions="one")
    store.update_agent(agent.id, temperature=0.7, instructions="two")
    app = Host(VersionsScreen(agent.id), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        versions = app.screen.query_one("#versions-list", OptionList)
        assert versions.option_count == 2
        first = versions.get_option_at_index(0).prompt.plain
        assert first.startswith("v2 (current)") and "temperature 0.1→0.7" in first
        assert "instructions +1/-1 lines" in first
        assert "created" in versions.get_option_at_index(1).prompt.plain
        await pilot.press("down", "r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
    restored = store.get_agent(agent.id)
    assert restored.version == 3 and restored.temperature == 0.1 and restored.instructions == "one"
    assert app.results == [restored]


async def test_editor_opens_versions_and_reloads_the_restored_agent(store, settings):
    agent = store.create_agent("Reviewer", temperature=0.1)
    store.update_agent(agent.id, temperature=0.7)
    app = Host(AgentEditorScreen(agent_id=agent.id), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, VersionsScreen)
        await pilot.press("down", "r", "y")
        await pilot.pause()
        assert isinstance(app.screen, AgentEditorScreen)
        assert app.screen.query_one("#temperature", Input).value == "0.1"
        assert not app.screen.dirty
    assert store.get_agent(agent.id).version == 3


# -- the agents screen -----------------------------------------------------------------------


def row_names(app) -> list[str]:
    table = app.screen.query_one("#agents-table", DataTable)
    return [table.get_row_at(i)[0].plain for i in range(table.row_count)]


async def select_row(pilot, name: str) -> None:
    table = pilot.app.screen.query_one("#agents-table", DataTable)
    table.move_cursor(row=row_names(pilot.app).index(name))
    await pilot.pause()


async def test_agents_screen_lists_usage_and_badges(store, settings):
    agent = store.create_agent("Reviewer", status="paused", model="m1")
    conversation = store.create_conversation(agent.id)
    store.add_message(conversation.id, "user", "hi", prompt_tokens=5)
    store.add_message(conversation.id, "assistant", "hello", completion_tokens=7)
    app = Host(AgentsScreen(), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#agents-table", DataTable)
        row = [cell.plain for cell in table.get_row(str(agent.id))]
        assert row[:6] == ["Reviewer", "[paused]", "m1", "1", "2", "12"]
        assert row[6] != "-"
        assert "1 active, 1 paused, 0 retired" in text_of(app.screen.query_one("#agents-title"))


async def test_duplicate_pause_resume_retire(store, settings):
    agent = store.create_agent("Reviewer")
    app = Host(AgentsScreen(), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await select_row(pilot, "Reviewer")
        await pilot.press("c")
        await pilot.pause()
        assert "Reviewer (copy)" in row_names(app)
        await select_row(pilot, "Reviewer")
        await pilot.press("p")
        await pilot.pause()
        assert store.get_agent(agent.id).status == "paused"
        await pilot.click("#do-pause")  # the button says Resume now
        await pilot.pause()
        assert store.get_agent(agent.id).status == "active"
        await pilot.press("r")
        await pilot.pause()
        assert store.get_agent(agent.id).status == "inactive"
        await pilot.press("p")
        await pilot.pause()
        assert store.get_agent(agent.id).status == "active"


@pytest.mark.parametrize(("choice", "kept"), [("1", True), ("2", False)])
async def test_delete_keeps_or_trashes_conversations(store, settings, choice, kept):
    agent = store.create_agent("Reviewer")
    conversation = store.create_conversation(agent.id, title="Old talk")
    app = Host(AgentsScreen(), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await select_row(pilot, "Reviewer")
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press(choice)
        await pilot.pause()
        assert "Reviewer" not in row_names(app)
    assert store.get_agent(agent.id) is None
    after = store.get_conversation(conversation.id)
    assert after.agent_id is None and after.agent_name == "Reviewer"
    assert (after.deleted_at is None) is kept


async def test_delete_cancelled_keeps_the_agent(store, settings):
    agent = store.create_agent("Reviewer")
    app = Host(AgentsScreen(), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await select_row(pilot, "Reviewer")
        await pilot.press("d", "escape")
        await pilot.pause()
    assert store.get_agent(agent.id) is not None


async def test_export_then_import_round_trip(store, settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    agent = store.create_agent("Code reviewer", temperature=0.3, max_tokens=99,
                               instructions="Look hard.\nTwice.", extra={"seed": 1, "stop": None})
    app = Host(AgentsScreen(), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await select_row(pilot, "Code reviewer")
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        assert app.screen.query_one(Input).value == str(tmp_path / "Code-reviewer.agent.toml")
        await pilot.press("enter")
        await pilot.pause()
        path = tmp_path / "Code-reviewer.agent.toml"
        assert path.exists()

        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await pilot.pause()
        assert "Code reviewer 2" in row_names(app)
    copy = store.get_agent_by_name("Code reviewer 2")
    for field in ("temperature", "max_tokens", "instructions", "extra", "status"):
        assert getattr(copy, field) == getattr(agent, field)


async def test_import_of_a_bad_file_says_where(store, settings, tmp_path):
    bad = tmp_path / "bad.agent.toml"
    bad.write_text('name = "X"\ntemperature = 9\n', encoding="utf-8")
    app = Host(AgentsScreen(), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one(Input).value = str(bad)
        await pilot.press("enter")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any(f"{bad}, line 2: temperature must be between 0 and 2" in m for m in messages)
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one(Input).value = str(tmp_path / "missing.toml")
        await pilot.press("enter")
        await pilot.pause()
        assert any("Could not read" in n.message for n in app._notifications)
    assert store.get_agent_by_name("X") is None


async def test_new_agent_from_template_via_the_agents_screen(store, settings):
    app = Host(AgentsScreen(), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        choice = app.screen
        assert isinstance(choice, ChoiceScreen)
        index = [value for _label, value in choice.choices].index("coder")
        await pilot.press(str(index + 1))
        await pilot.pause()
        assert isinstance(app.screen, AgentEditorScreen)
        name = app.screen.query_one("#name", Input).value
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, AgentsScreen)
        assert name in row_names(app)
        table = app.screen.query_one("#agents-table", DataTable)
        assert table.get_row_at(table.cursor_row)[0].plain == name


async def test_new_blank_agent_and_edit_via_the_agents_screen(store, settings):
    app = Host(AgentsScreen(), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "1")
        await pilot.pause()
        await type_into(pilot, "#name", "Fresh")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Fresh" in row_names(app)
        await pilot.press("enter")  # edits the selected row
        await pilot.pause()
        assert isinstance(app.screen, AgentEditorScreen)
        assert app.screen.query_one("#name", Input).value == "Fresh"


async def test_start_a_conversation_posts_a_request(store, settings):
    agent = store.create_agent("Reviewer")
    paused = store.create_agent("Sleepy", status="paused")
    app = Host(AgentsScreen(), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await select_row(pilot, "Sleepy")
        await pilot.press("s")
        await pilot.pause()
        assert app.requests == [] and isinstance(app.screen, AgentsScreen)
        await select_row(pilot, "Reviewer")
        await pilot.press("s")
        await pilot.pause()
        assert not isinstance(app.screen, AgentsScreen)
    assert [m.agent_id for m in app.requests] == [agent.id]
    assert paused.id not in [m.agent_id for m in app.requests]


async def test_editor_for_a_deleted_agent_closes_instead_of_creating_one(store, settings):
    agent = store.create_agent("Gone")
    store.delete_agent(agent.id)
    before = [a.name for a in store.list_agents()]
    app = Host(AgentEditorScreen(agent_id=agent.id), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
    assert app.results == [None]
    assert [a.name for a in store.list_agents()] == before


async def test_restoring_the_current_version_changes_nothing(store, settings):
    agent = store.create_agent("Reviewer")
    app = Host(VersionsScreen(agent.id), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, VersionsScreen)
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]
    assert store.get_agent(agent.id).version == 1


async def test_picker_typing_in_the_list_filters(store):
    writer = store.create_agent("Writer")
    app = Host(AgentPickerScreen(default_agent_id=None), store)
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#picker-agents", OptionList).focus()
        await pilot.press("w", "r")
        await pilot.pause()
        assert app.screen.query_one("#picker-filter", Input).value == "wr"
        assert picker_ids(app) == [f"agent-{writer.id}"]


async def test_export_asks_before_replacing_a_file(store, settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store.create_agent("Writer", description="new")
    path = tmp_path / "Writer.agent.toml"
    path.write_text("old", encoding="utf-8")
    app = Host(AgentsScreen(), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await select_row(pilot, "Writer")
        await pilot.press("x", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert path.read_text(encoding="utf-8") == "old"
        await pilot.press("x", "enter", "y")
        await pilot.pause()
    assert 'description = "new"' in path.read_text(encoding="utf-8")
