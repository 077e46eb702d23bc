"""The agent editor's tool fields: servers chosen among the configured ones, allowed tools,
approval, and the always-allowed list with revoke."""

from __future__ import annotations

from textual.widgets import Select, SelectionList

from agentterm.tui.screens.agent_editor import AgentEditorScreen
from agentterm.tui.screens.agent_tools import AlwaysAllowed
from tests.screen_helpers import Host, settle, type_into
from tests.test_app_tools import tool_client, tool_settings  # noqa: F401 - fixtures


async def test_tool_fields_save_and_an_always_allowed_tool_is_revoked(store, tool_settings, tool_client):
    agent = store.create_agent("Clock", mcp_servers=["gone"])
    store.allow_tool(agent.id, "demo.echo")
    app = Host(AgentEditorScreen(agent.id), store, tool_client, tool_settings)
    async with app.run_test(size=(100, 60)) as pilot:
        await settle(pilot)
        screen = app.screen
        servers = screen.query_one("#mcp_servers", SelectionList)
        labels = [str(servers.get_option_at_index(i).prompt) for i in range(servers.option_count)]
        assert labels == ["demo", "gone (not in the config)"]  # the config's, and the agent's own kept
        servers.deselect("gone")
        servers.select("demo")
        await type_into(pilot, "#allowed_tools", "demo.echo, demo.add")
        screen.query_one("#tool_approval", Select).value = "auto"
        await pilot.pause()

        always = screen.query_one(AlwaysAllowed)
        assert [str(always.get_option_at_index(i).prompt) for i in range(always.option_count)] == ["demo.echo"]
        always.focus()
        always.highlighted = 0
        await pilot.press("x")
        await pilot.pause()
        assert store.allowed_tools_for(agent.id) == set()
        assert "none" in str(always.get_option_at_index(0).prompt)

        await pilot.press("ctrl+s")
        await settle(pilot)
    saved = store.get_agent(agent.id)
    assert (saved.mcp_servers, saved.allowed_tools, saved.tool_approval) == (
        ["demo"], ["demo.echo", "demo.add"], "auto")
    assert saved.version == agent.version + 1
