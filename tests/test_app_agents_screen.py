"""The agents screen through the Pilot: usage, status, delete, import and export, new chats."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from agentterm.tui.screens.agent_editor import AgentEditorScreen
from agentterm.tui.screens.agents import AgentsScreen
from agentterm.tui.screens.confirm import ChoiceScreen, ConfirmScreen
from agentterm.tui.screens.text_prompt import TextPromptScreen
from tests.screen_helpers import SIZE, Host, text_of, type_into

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
