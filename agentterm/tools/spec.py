"""What a tool is to the engine: its spec, a call's outcome, and the provider protocol."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from agentterm.models import Agent

# OpenAI's rule for function names; other servers are stricter, none looser.
FUNCTION_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_NOT_ALLOWED = re.compile(r"[^a-zA-Z0-9_-]")
_HASHED = re.compile(r"_[0-9a-f]{8}$")


@dataclass
class ToolSpec:
    """One tool of one server, as offered to the model."""

    server: str
    """The server's name in the config."""

    tool: str
    """The tool's name on its server."""

    name: str
    """The function name the model sees (OpenAI's ^[a-zA-Z0-9_-]{1,64}$); see function_name()."""

    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict)

    @property
    def qualified(self) -> str:
        """"server.tool": the name users, allowed_tools and the store use."""
        return f"{self.server}.{self.tool}"

    def openai_tool(self) -> dict[str, Any]:
        """The entry for the request's `tools`."""
        schema = dict(self.input_schema) if isinstance(self.input_schema, dict) else {}
        # OpenAI insists on an object schema, even for a tool that takes nothing.
        if schema.get("type") != "object":
            schema = {"type": "object", "properties": {}}
        schema.setdefault("properties", {})
        function: dict[str, Any] = {"name": self.name, "parameters": schema}
        if self.description:
            function["description"] = self.description
        return {"type": "function", "function": function}


@dataclass
class ToolOutcome:
    """What a call gave: the text the model gets and the store keeps; is_error when it failed."""

    text: str
    is_error: bool = False


class ToolProvider(Protocol):
    """Where the engine gets tools from; MCPTools is the real one."""

    async def list_tools(self, agent: Agent) -> list[ToolSpec]:
        """The tools this agent may call (its mcp_servers, narrowed by allowed_tools)."""
        ...

    async def call(self, spec: ToolSpec, arguments: dict[str, Any]) -> ToolOutcome:
        """Run one call. Never raises for a tool's or a server's fault: the outcome says it."""
        ...

    async def aclose(self) -> None:
        """Stop every server this provider started."""
        ...


def function_name(server: str, tool: str) -> str:
    """The function name for (server, tool): `server__tool` when that reads back unambiguously.

    Otherwise (characters OpenAI refuses, a name over 64, a server name holding "__" or
    ending in "_") a readable prefix and "_" + 8 hex digits of a hash of "server.tool"; a
    plain name never ends like that, so no two tools share a name.
    """
    plain = f"{server}__{tool}"
    readable_as_is = "__" not in server and not server.endswith("_") and not _HASHED.search(tool)
    if readable_as_is and FUNCTION_NAME.fullmatch(plain):
        return plain
    digest = hashlib.sha1(f"{server}.{tool}".encode()).hexdigest()[:8]
    readable = _NOT_ALLOWED.sub("_", plain)[: 64 - len(digest) - 1]
    return f"{readable}_{digest}"


def split_function_name(name: str) -> tuple[str, str] | None:
    """(server, tool) for a plain `server__tool` name; None for a hashed one (look it up instead)."""
    server, sep, tool = name.partition("__")
    if not sep or _HASHED.search(name) or not server or not tool or function_name(server, tool) != name:
        return None
    return server, tool
