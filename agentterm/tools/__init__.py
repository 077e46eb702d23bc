"""Tools for agents: the ToolProvider protocol, and MCP servers through the official `mcp` client."""

from agentterm.tools.provider import MCPTools
from agentterm.tools.spec import ToolOutcome, ToolProvider, ToolSpec, function_name

__all__ = ["MCPTools", "ToolOutcome", "ToolProvider", "ToolSpec", "function_name"]
