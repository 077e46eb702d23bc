"""An answer's typed events (text, thinking, tool-call pieces, usage, finish); a JSON body read as them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from agentterm.llm.errors import BadResponse, StreamCut

if TYPE_CHECKING:
    from agentterm.llm.connection import Connection


@dataclass
class TextDelta:
    """A piece of the answer's text."""

    text: str


Delta = TextDelta  # the name before thinking and tool calls came


@dataclass
class ThinkingDelta:
    """A piece of the model's reasoning: `reasoning_content`, `reasoning`, or a leading <think> block."""

    text: str


@dataclass
class ToolCallDelta:
    """A piece of a tool call: pieces with the same `index` make one call (id and name come first)."""

    index: int
    id: str | None
    name: str | None
    arguments: str  # a fragment of the JSON arguments; "" when this piece carries none


@dataclass
class Usage:
    """Token counts, when the server reports them; a count that is not an int in range is None."""

    prompt_tokens: int | None
    completion_tokens: int | None


@dataclass
class Finished:
    """The end of an answer: why it stopped, and the model that wrote it."""

    finish_reason: str | None
    model: str | None


Event = Union[TextDelta, ThinkingDelta, ToolCallDelta, Usage, Finished]


async def non_stream_body(response: Any, conn: Connection, content_type: str, *,
                          allow_empty: bool = False) -> AsyncIterator[Event]:
    """The events of an answer sent as one body (JSON, or a web page): where a stream was asked
    for, and for titles (`allow_empty`: an empty title is no fault, the caller falls back)."""
    from agentterm.llm.stream import ChunkReader

    where = conn.where
    if "html" in content_type:
        raise BadResponse(f"{where} sent a web page, not an answer.")
    try:
        body = json.loads(await response.aread())
    except (ValueError, UnicodeDecodeError):
        raise BadResponse(f"{where} sent something that is neither an event stream nor JSON.") from None
    if isinstance(body, dict) and isinstance(body.get("error"), (dict, str)):
        error = body["error"]
        detail = error.get("message") if isinstance(error, dict) else error
        raise StreamCut(f"{where} reported an error: {detail or 'no details'}.")
    choices = body.get("choices") if isinstance(body, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices else None
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise BadResponse(f"{where} did not answer like an OpenAI-compatible API.")
    # The whole answer read as one chunk whose delta is the message: one set of rules for both.
    reader = ChunkReader(where)
    for event in reader.feed({"model": body.get("model"), "usage": body.get("usage"), "choices": [
            {"index": 0, "delta": message, "finish_reason": choice.get("finish_reason") or "stop"}]}):
        yield event
    for event in reader.end():
        yield event
    if allow_empty and not reader.answered:
        return
    for event in reader.finish(None):
        yield event


def completion_text(completion: Any) -> str | None:
    """The first choice's message text of a completion (object or dict); None if it has none."""
    if isinstance(completion, dict):
        choices = completion.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return None
        message = choices[0].get("message") or {}
        content = message.get("content") if isinstance(message, dict) else None
        return content if isinstance(content, str) else ("" if content is None and message else None)
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list) or not choices:
        return None
    message = getattr(choices[0], "message", None)
    if message is None:
        return None
    content = getattr(message, "content", None)
    return content if isinstance(content, str) else ""
