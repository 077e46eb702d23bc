"""The model client the engine drives: a Protocol LLMClient meets, so tests and a server can swap in their own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol


class ModelClient(Protocol):
    """What run_turn needs of a model: agentterm.llm.LLMClient is one."""

    def resolve_model(self, provider: str | None, model: str | None) -> str: ...

    def stream_chat(self, messages: list[dict[str, Any]], *, provider: str | None = None,
                    model: str | None = None, params: dict[str, Any] | None = None,
                    tools: list[dict[str, Any]] | None = None) -> AsyncIterator[Any]:
        """TextDelta, ThinkingDelta, ToolCallDelta, Usage and Finished from agentterm.llm."""
        ...

    async def generate_title(self, prompt: str, answer: str, *, provider: str | None = None,
                             model: str | None = None) -> str: ...


def delta_kind(event: Any) -> str:
    """"text", "thinking", "tool_call", "usage", "finished" or "" for what the client yields.

    Read by class name: agentterm.llm's classes and a test's own stand-ins read the same.
    """
    name = type(event).__name__
    if name in ("TextDelta", "Delta"):
        return "text"
    if name == "ThinkingDelta":
        return "thinking"
    if name == "ToolCallDelta":
        return "tool_call"
    if name == "Usage":
        return "usage"
    if name == "Finished":
        return "finished"
    return ""
