"""The agent editor and its versions through the Pilot: checking, saving, restoring."""

from __future__ import annotations

from textual.widgets import Input, OptionList, Select, Static, TextArea

from agentterm.config import ProviderConfig
from agentterm.tui.screens.agent_editor import AgentEditorScreen
from agentterm.tui.screens.agent_versions import VersionsScreen
from agentterm.tui.screens.confirm import ConfirmScreen
from tests.screen_helpers import SIZE, Host, settle, text_of, type_into

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


async def test_editor_for_a_deleted_agent_closes_instead_of_creating_one(store, settings):
    agent = store.create_agent("Gone")
    store.delete_agent(agent.id)
    before = [a.name for a in store.list_agents()]
    app = Host(AgentEditorScreen(agent_id=agent.id), store, None, settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
    assert app.results == [None]
    assert [a.name for a in store.list_agents()] == before


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


async def test_a_model_the_provider_does_not_list_is_warned_of_next_to_the_field(
        store, settings, client, server):
    server.models = ["alpha-model", "zeta-model"]
    app = Host(AgentEditorScreen(), store, client, settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        model = app.screen.query_one("#model", Input)
        note = app.screen.query_one("#model-note")
        model.value = "gpt-nonesuch"
        await pilot.pause()
        assert "does not list 'gpt-nonesuch'" in text_of(note) and note.has_class("-warning")
        model.value = "zeta-model"
        await pilot.pause()
        assert "2 models" in text_of(note) and not note.has_class("-warning")
        model.value = "gpt-nonesuch"
        app.screen.query_one("#name", Input).value = "Warned but saved"
        await pilot.press("ctrl+s")  # a warning, not a refusal
        await settle(pilot)
    assert store.get_agent_by_name("Warned but saved").model == "gpt-nonesuch"
