"""History to OpenAI messages that a strict server accepts: each call's results right after the calls."""

from __future__ import annotations

import json
import secrets
from typing import Any

from agentterm.engine.attachments import image_parts
from agentterm.models import Agent, Message

INTERRUPTED_RESULT = "The call was interrupted before it returned a result."
DENIED_RESULT = "Cancelled: the user denied this call"


def request_messages(agent: Agent | None, history: list[Message], *,
                     instructions: str | None = None, images: bool = False) -> list[dict[str, Any]]:
    """The instructions (`instructions` when given, else the agent's), then the history as a model should see it.

    An assistant message with tool calls is followed by one `tool` message per call, in the
    calls' order, whatever order the rows are in (an imported exchange may have them
    anywhere); a result with no call before it gets a call made for it, and a call with no
    result (a crash mid-call) gets one saying so. Thinking is never sent back; failed and
    empty answers and superseded variants are left out. With `images` (the model takes them),
    a prompt's attached images follow its text as image_url parts; without, the text alone
    goes, which names each image (docs/attachments.md).
    """
    messages: list[dict[str, Any]] = []
    if instructions is None and agent is not None:
        instructions = agent.instructions
    if instructions and instructions.strip():
        messages.append({"role": "system", "content": instructions})
    rows = [m for m in history if not getattr(m, "superseded", False)]
    results = {m.tool_call_id: m for m in rows if m.role == "tool" and m.tool_call_id}
    claimed = {call.call_id for m in rows if m.role == "assistant"
               for call in (getattr(m, "tool_calls", None) or ())}
    used: set[int] = set()
    orphans: dict[str, Any] | None = None  # the made-up call message of results in a row
    for message in rows:
        if message.id in used:
            continue
        if message.role == "tool":
            if message.tool_call_id in claimed:
                continue  # sent right after the message that asked for it
            orphans = _orphan_result(messages, message, orphans)
            continue
        orphans = None
        calls = list(getattr(message, "tool_calls", None) or ())
        if message.role == "assistant":
            if calls:
                messages.append(assistant_with_calls(message.content, calls))
                for call in calls:
                    result = results.get(call.call_id)
                    if result is not None and result.id not in used:
                        used.add(result.id)
                        messages.append(tool_message(call.call_id, result.content))
                    else:
                        messages.append(tool_message(call.call_id, call_result_text(call)))
            elif message.status != "error" and message.content:
                messages.append({"role": "assistant", "content": message.content})
        elif images and message.role == "user" and (parts := image_parts(getattr(message, "extra", None))):
            messages.append({"role": "user", "content": [{"type": "text", "text": message.content}, *parts]})
        else:
            messages.append({"role": message.role, "content": message.content})
    return messages


def assistant_with_calls(content: str, calls: list[Any]) -> dict[str, Any]:
    """The assistant message asking for `calls` (each with call_id, name, arguments)."""
    return {
        "role": "assistant",
        "content": content or None,
        "tool_calls": [
            {"id": call.call_id, "type": "function",
             "function": {"name": call.name, "arguments": sendable_arguments(call.arguments)}}
            for call in calls
        ],
    }


def tool_message(call_id: str, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def call_result_text(call: Any) -> str:
    """What the model is told about a call that has no stored result message."""
    if call.result is not None:
        return call.result
    if call.status == "denied":
        return DENIED_RESULT + (f": {call.reason}" if call.reason else ".")
    if call.error:
        return call.error
    return INTERRUPTED_RESULT


def sendable_arguments(arguments: str | None) -> str:
    """The arguments as the model sent them; "{}" when they are not JSON (servers parse them)."""
    try:
        json.loads(arguments or "")
    except ValueError:
        return "{}"
    return arguments


def _orphan_result(messages: list[dict[str, Any]], message: Message,
                   group: dict[str, Any] | None) -> dict[str, Any]:
    """A result no assistant message asked for (an import): give it the call it answers.

    Results in a row share one made-up assistant message; returns it for the next one.
    """
    call_id = message.tool_call_id or f"call_{secrets.token_hex(6)}"
    call = {"id": call_id, "type": "function",
            "function": {"name": message.tool_name or "tool", "arguments": "{}"}}
    if group is None:
        group = {"role": "assistant", "content": None, "tool_calls": []}
        messages.append(group)
    group["tool_calls"].append(call)
    # The results follow the calls' message, after any results already there.
    messages.append(tool_message(call_id, message.content))
    return group
