"""For the engine tests: a scripted model client and a scripted tool provider (plain protocol classes)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from agentterm.engine import AnswerFailed, AnswerFinished, Approval, ApprovalAsked, run_turn
from agentterm.llm import Finished, Usage

try:
    from agentterm.llm import TextDelta, ThinkingDelta, ToolCallDelta  # type: ignore[attr-defined]
except ImportError:  # until the client's typed deltas land: the same shapes, read by class name
    from agentterm.llm import Delta as TextDelta

    @dataclass
    class ThinkingDelta:  # type: ignore[no-redef]
        text: str

    @dataclass
    class ToolCallDelta:  # type: ignore[no-redef]
        index: int
        id: str | None
        name: str | None
        arguments: str


def text(*pieces: str, finish: str = "stop", usage: tuple[int, int] | None = None) -> list[Any]:
    """One answer: the pieces of text, then usage and the finish."""
    events: list[Any] = [TextDelta(piece) for piece in pieces]
    if usage:
        events.append(Usage(*usage))
    events.append(Finished(finish, "scripted-model"))
    return events


def call(name: str, arguments: str = "{}", *, index: int = 0, call_id: str | None = "call_1",
         split: int = 0) -> list[Any]:
    """The pieces of one tool call: the first names it, the rest carry its arguments (cut every `split`)."""
    if not split:
        return [ToolCallDelta(index, call_id, name, arguments)]
    chunks = [arguments[i:i + split] for i in range(0, len(arguments), split)] or [""]
    return [ToolCallDelta(index, call_id, name, chunks[0])] + [
        ToolCallDelta(index, None, None, chunk) for chunk in chunks[1:]]


def calls_end() -> list[Any]:
    return [Finished("tool_calls", "scripted-model")]


class ScriptedModel:
    """A ModelClient answering each request with the next scripted list of deltas (an exception is raised)."""

    def __init__(self, *answers: list[Any], delay: float = 0.0) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        self.delay = delay

    def resolve_model(self, provider: str | None, model: str | None) -> str:
        return model or "scripted-model"

    async def stream_chat(self, messages, *, provider=None, model=None, params=None, tools=None):
        self.requests.append({"messages": [dict(m) for m in messages], "tools": tools, "model": model})
        answer = self.answers.pop(0) if self.answers else text("Done.")
        for item in answer:
            if isinstance(item, BaseException):
                raise item
            if self.delay:
                await asyncio.sleep(self.delay)
            yield item

    async def generate_title(self, prompt, answer, *, provider=None, model=None) -> str:
        return "A scripted title"


@dataclass
class Spec:
    """A ToolSpec's shape (agentterm.tools.ToolSpec once the tools package is there)."""

    server: str
    tool: str
    name: str
    description: str = ""
    input_schema: dict = field(default_factory=lambda: {"type": "object", "properties": {}})

    def openai_tool(self) -> dict:
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.input_schema}}


@dataclass
class Outcome:
    text: str
    is_error: bool = False


class ScriptedTools:
    """A ToolProvider whose tools answer from a dict of name -> function(arguments) -> str."""

    def __init__(self, **tools: Any) -> None:
        self.functions = tools
        self.specs = [Spec("test", name, name) for name in tools]
        self.calls: list[tuple[str, dict]] = []

    async def list_tools(self, agent) -> list[Spec]:
        return list(self.specs)

    async def call(self, spec, arguments: dict) -> Outcome:
        self.calls.append((spec.name, arguments))
        result = self.functions[spec.name](arguments)
        if asyncio.iscoroutine(result):
            result = await result
        return result if isinstance(result, Outcome) else Outcome(str(result))

    async def aclose(self) -> None:
        pass


async def collect(store, client, conversation_id, prompt, *, approve=None, **options) -> list[Any]:
    """Every event of a turn; ApprovalAsked answered with `approve(call)` (an Approval)."""
    events = []
    async for event in run_turn(store, client, conversation_id, prompt, **options):
        events.append(event)
        if isinstance(event, ApprovalAsked):
            event.future.set_result(approve(event.call) if approve else Approval("once"))
    return events


def last(events: list[Any]) -> Any:
    assert isinstance(events[-1], (AnswerFinished, AnswerFailed)), events[-1]
    return events[-1]
