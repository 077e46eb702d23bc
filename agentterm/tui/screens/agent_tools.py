"""The agent editor's tools: its MCP servers, the tools offered, approval, and the always-allowed list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, OptionList, Select, SelectionList
from textual.widgets.option_list import Option

from agentterm.sanitize import one_line
from agentterm.tui.widgets.fields import TextField

TOOL_FIELDS = ("mcp_servers", "allowed_tools", "tool_approval")
TOOL_LABELS = {"mcp_servers": "MCP servers", "allowed_tools": "Allowed tools",
               "tool_approval": "Tool approval"}
APPROVAL_OPTIONS = [("ask before each call", "ask"), ("run calls without asking", "auto")]


def server_list(configured: list[str]) -> SelectionList[str]:
    servers = SelectionList[str](*[(Text(one_line(name)), name) for name in configured],
                                 id="mcp_servers", compact=True)
    servers.border_title = None
    return servers


def set_servers(servers: SelectionList[str], configured: list[str], chosen: list[str]) -> None:
    """Tick the agent's servers; one the config lacks is kept (and says so) rather than dropped."""
    options = [(Text(one_line(name)), name, name in chosen) for name in configured]
    options += [(Text(f"{one_line(name)} (not in the config)"), name, True)
                for name in chosen if name not in configured]
    servers.clear_options()
    servers.add_options(options)


def allowed_tools_text(value: list[str] | None) -> str:
    return ", ".join(value) if value else ""


def parse_allowed_tools(text: str) -> list[str] | None:
    """None (every tool of the servers) for an empty field, else the names typed."""
    names = text.replace(",", " ").split()
    return names or None


def tool_widgets() -> dict[str, list[Any]]:
    """The form's widgets for each tool field (the editor wraps each in its labelled row)."""
    return {
        "mcp_servers": [server_list([])],
        "allowed_tools": [TextField(id="allowed_tools", compact=True,
                                    placeholder="server.tool names; empty: all of those servers' tools")],
        "tool_approval": [Select(APPROVAL_OPTIONS, allow_blank=False, id="tool_approval", compact=True)],
    }


class AlwaysAllowed(OptionList):
    """The tools this agent runs without asking; x (or delete) revokes the highlighted one."""

    BINDINGS = [Binding("x,delete", "revoke", "Revoke", id="editor.revoke_tool")]

    @dataclass
    class RevokeRequested(Message):
        tool_name: str

    def show(self, tools: set[str]) -> None:
        self.clear_options()
        if tools:
            self.add_options([Option(Text(one_line(name)), id=name) for name in sorted(tools)])
        else:
            self.add_option(Option(Text("none: every call asks first", style="dim"), id="", disabled=True))

    def action_revoke(self) -> None:
        if self.highlighted is None:
            return
        option = self.get_option_at_index(self.highlighted)
        if option.id:
            self.post_message(self.RevokeRequested(option.id))


class ToolFields:
    """Mixed into the agent editor: loads, reads and revokes what the tool fields show."""

    agent_id: int | None
    app: Any
    store: Any
    query_one: Any
    notify: Any

    def _load_tools(self, values: dict[str, Any]) -> None:
        configured = list(getattr(self.app.settings, "mcp_servers", {}) or {})  # type: ignore[attr-defined]
        set_servers(self.query_one("#mcp_servers", SelectionList), configured,
                    list(values["mcp_servers"] or []))
        self.query_one("#allowed_tools", Input).value = allowed_tools_text(values["allowed_tools"])
        self.query_one("#tool_approval", Select).value = values["tool_approval"] or "ask"
        self._show_always_allowed()

    def _show_always_allowed(self) -> None:
        allowed = getattr(self.store, "allowed_tools_for", None)
        tools = allowed(self.agent_id) if allowed and self.agent_id is not None else set()
        self.query_one(AlwaysAllowed).show(tools)

    def on_always_allowed_revoke_requested(self, event: AlwaysAllowed.RevokeRequested) -> None:
        if self.agent_id is None:
            return
        try:
            self.store.revoke_tool(self.agent_id, event.tool_name)
        except Exception as error:  # noqa: BLE001 - the store says why; the form stays open
            self.notify(f"Not revoked: {error}", severity="error", markup=False)
            return
        self._show_always_allowed()
        self.notify(f"Revoked {one_line(event.tool_name)}: its next call asks first.", markup=False)

    def _selected_servers(self) -> list[str]:
        servers = self.query_one("#mcp_servers", SelectionList)
        chosen = set(servers.selected)
        return [option.value for option in servers.options if option.value in chosen]
