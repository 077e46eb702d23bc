"""MCPTools: the tools of the MCP servers in the config, offered per agent and called safely."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentterm.tools.connection import Connection, ServerFault
from agentterm.tools.results import outcome_of
from agentterm.tools.spec import ToolOutcome, ToolSpec, function_name

if TYPE_CHECKING:
    from agentterm.config import Settings
    from agentterm.models import Agent

logger = logging.getLogger(__name__)

# The SDK's own timeout ends a call first; this one only guards against a transport that never does.
_GRACE = 5.0


class MCPTools:
    """A ToolProvider over `settings.mcp_servers`; each server starts when first needed."""

    def __init__(self, settings: Settings, *, log_dir: Path | str | None = None) -> None:
        if log_dir is None:
            from agentterm.paths import default_log_dir

            log_dir = default_log_dir()
        log_dir = Path(log_dir)
        self.settings = settings
        self.log_dir = log_dir
        self.limit = settings.max_tool_result_chars
        self.connections = {name: Connection(config, log_dir) for name, config in settings.mcp_servers.items()}
        self.faults: dict[str, str] = {}
        """Server name -> why its tools are missing from the last listing (one line each)."""
        self._specs: dict[str, ToolSpec] = {}

    def servers_for(self, agent: Agent) -> list[str]:
        """The servers the agent names, in its order (unknown ones included: list_tools reports them)."""
        names = list(dict.fromkeys(getattr(agent, "mcp_servers", None) or []))
        allowed = getattr(agent, "allowed_tools", None)
        if allowed is not None:
            # A server none of whose tools is allowed is not worth starting.
            names = [name for name in names if any(entry.startswith(f"{name}.") for entry in allowed)]
        return names

    async def list_tools(self, agent: Agent) -> list[ToolSpec]:
        """The tools this agent may call; a server that cannot start is left out, its reason in `faults`."""
        allowed = getattr(agent, "allowed_tools", None)
        names = self.servers_for(agent)
        found = await asyncio.gather(*(self.server_tools(name) for name in names))
        specs: list[ToolSpec] = []
        for name, (tools, fault) in zip(names, found, strict=True):
            if fault:
                self.faults[name] = fault
                continue
            self.faults.pop(name, None)
            specs += [spec for spec in tools if allowed is None or spec.qualified in allowed]
        return specs

    async def server_tools(self, name: str) -> tuple[list[ToolSpec], str | None]:
        """One server's tools (starting it if needed), or the line saying why there are none."""
        connection = self.connections.get(name)
        if connection is None:
            known = ", ".join(self.connections) or "none"
            return [], f'no MCP server named "{name}" in the config (it defines: {known})'
        try:
            await connection.session()
        except ServerFault as fault:
            return [], str(fault)
        specs = [self._spec(name, tool) for tool in connection.tools]
        return specs, None

    def _spec(self, server: str, tool: Any) -> ToolSpec:
        spec = ToolSpec(server=server, tool=tool.name, name=function_name(server, tool.name),
                        description=tool.description or "", input_schema=dict(tool.input_schema or {}))
        self._specs[spec.name] = spec
        return spec

    def spec_for(self, function: str) -> ToolSpec | None:
        """The tool behind a function name the model called, among those listed so far."""
        return self._specs.get(function)

    async def call(self, spec: ToolSpec, arguments: dict[str, Any]) -> ToolOutcome:
        """Run one call; every fault of the tool, the server or the transport is an outcome, never raised."""
        connection = self.connections.get(spec.server)
        if connection is None:
            return ToolOutcome(f'{spec.qualified} cannot be called: no MCP server named "{spec.server}" '
                               "in the config", is_error=True)
        try:
            session = await connection.session()
        except ServerFault as fault:
            return ToolOutcome(str(fault), is_error=True)
        result = await self._call(connection, session, spec, arguments)
        if isinstance(result, str):
            return ToolOutcome(connection.scrub(" ".join(result.split())), is_error=True)
        outcome = outcome_of(result, spec.qualified, self.limit)
        return ToolOutcome(connection.scrub(outcome.text, with_env=False), outcome.is_error)

    async def _call(self, connection: Connection, session: Any, spec: ToolSpec, arguments: dict[str, Any]) -> Any:
        """The CallToolResult, or the line saying why there is none."""
        from mcp import MCPError
        from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        timeout = connection.config.timeout
        late = (f"{spec.qualified} did not answer within {timeout:g} s "
                f"(mcp_servers.{spec.server}.timeout); the call was given up")
        try:
            return await asyncio.wait_for(
                session.call_tool(spec.tool, arguments, read_timeout_seconds=timeout), timeout + _GRACE)
        except TimeoutError:
            return late
        except MCPError as error:
            if error.code == REQUEST_TIMEOUT:
                return late
            if error.code == CONNECTION_CLOSED:
                connection.mark_dead()
                return connection.stopped_line(spec.tool)
            return f"{spec.qualified} failed: {error.message}"
        except Exception as error:  # noqa: BLE001 - a bad result or a broken transport fails this call only
            logger.debug("MCP call %s failed", spec.qualified, exc_info=True)
            if not connection.running:
                connection.mark_dead()
                return connection.stopped_line(spec.tool)
            return f"{spec.qualified} failed: {type(error).__name__}: {error}"

    async def aclose(self) -> None:
        """Stop every server started, in parallel; each gets its grace period."""
        await asyncio.gather(*(c.aclose() for c in self.connections.values()), return_exceptions=True)
