"""What a server sends back, read tolerantly: answer events, a JSON body instead of a stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentterm.llm.errors import BadResponse, StreamCut

if TYPE_CHECKING:
    from agentterm.llm.connection import Connection


@dataclass
class Delta:
    """A piece of the answer's text."""

    text: str


@dataclass
class Usage:
    """Token counts, when the server reports them."""

    prompt_tokens: int | None
    completion_tokens: int | None


@dataclass
class Finished:
    """The end of an answer: why it stopped, and the model that wrote it."""

    finish_reason: str | None
    model: str | None


async def non_stream_body(response: Any, conn: Connection,
                          content_type: str) -> AsyncIterator[Delta | Usage | Finished]:
    """The events of an answer sent as one body (JSON, or a web page) where a stream was asked for."""
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
    text = completion_text(body)
    if text is None:
        raise BadResponse(f"{where} did not answer like an OpenAI-compatible API.")
    if text:
        yield Delta(text)
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else None
    if usage:
        yield Usage(usage.get("prompt_tokens"), usage.get("completion_tokens"))
    choice = (body.get("choices") or [{}])[0]
    yield Finished(choice.get("finish_reason") or "stop", body.get("model"))


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
