"""agentterm's conversation export format: writing it, and checking one before it is imported."""

from __future__ import annotations

from typing import Any

from agentterm.models import (
    MESSAGE_STATUSES,
    ROLES,
    Conversation,
    Message,
    from_iso,
    to_iso,
    utcnow,
)
from agentterm.store.errors import StoreError
from agentterm.store.validation import clean_title

EXPORT_FORMAT = "agentterm"
EXPORT_VERSION = 1


def export_conversation(conversation: Conversation, messages: list[Message]) -> dict[str, Any]:
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": to_iso(utcnow()),
        "conversation": {
            "title": conversation.title,
            "title_source": conversation.title_source,
            "agent_name": conversation.agent_name,
            "tags": conversation.tags,
            "pinned": conversation.pinned,
            "archived_at": to_iso(conversation.archived_at),
            "created_at": to_iso(conversation.created_at),
            "last_activity_at": to_iso(conversation.last_activity_at),
        },
        "messages": [export_message(message) for message in messages],
    }


def export_message(message: Message) -> dict[str, Any]:
    return {
        "role": message.role,
        "content": message.content,
        "status": message.status,
        "tool_call_id": message.tool_call_id,
        "tool_name": message.tool_name,
        "extra": message.extra,
        "model": message.model,
        "agent_version": message.agent_version,
        "prompt_tokens": message.prompt_tokens,
        "completion_tokens": message.completion_tokens,
        "created_at": to_iso(message.created_at),
        "edited_at": to_iso(message.edited_at),
        "thinking": message.thinking,
        "tool_calls": [
            {
                "call_id": call.call_id,
                "name": call.name,
                "server": call.server,
                "tool": call.tool,
                "arguments": call.arguments,
                "status": call.status,
                "result": call.result,
                "error": call.error,
                "reason": call.reason,
            }
            for call in message.tool_calls
        ],
    }


def checked_export(data: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The conversation head and messages of an export, checked; StoreError says what is wrong."""

    def bad(why: str) -> StoreError:
        return StoreError(f"Cannot import: {why}.")

    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise bad("this is neither an agentterm export nor a ChatGPT conversation")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise bad("the export has no valid version")
    if version > EXPORT_VERSION:
        raise bad(f"the export is format version {version}, newer than this agentterm reads")
    conversation = data.get("conversation") or {}
    raw_messages = data.get("messages") or []
    if not isinstance(conversation, dict) or not isinstance(raw_messages, list):
        raise bad("'conversation' must be an object and 'messages' a list")

    title_source = conversation.get("title_source")
    head = {
        "title": clean_title(conversation.get("title") or ""),
        "title_source": title_source if title_source in ("auto", "user") else None,
        "agent_name": _optional_str(conversation.get("agent_name")),
        "tags": [t for t in conversation.get("tags") or [] if isinstance(t, str)],
        "pinned": int(conversation.get("pinned") is True),
        "archived_at": _iso_or_none(conversation.get("archived_at")),
        "created_at": _iso_or_none(conversation.get("created_at")),
        "last_activity_at": _iso_or_none(conversation.get("last_activity_at")),
    }
    if not head["title"]:
        head["title_source"] = None

    now = to_iso(utcnow())
    messages = []
    for number, raw in enumerate(raw_messages, start=1):
        if not isinstance(raw, dict):
            raise bad(f"message {number} is not an object")
        if raw.get("role") not in ROLES:
            raise bad(f"message {number} has role {raw.get('role')!r}")
        if not isinstance(raw.get("content", ""), str):
            raise bad(f"message {number} has content that is not text")
        status = raw.get("status") or "complete"
        # A stream cut off in the exporting store cannot resume here.
        status = "interrupted" if status == "streaming" else status
        if status not in MESSAGE_STATUSES:
            raise bad(f"message {number} has status {status!r}")
        extra = raw.get("extra") or {}
        if not isinstance(extra, dict):
            raise bad(f"message {number} has extra that is not an object")
        messages.append(
            {
                "role": raw["role"],
                "content": raw.get("content") or "",
                "status": status,
                "tool_call_id": _optional_str(raw.get("tool_call_id")),
                "tool_name": _optional_str(raw.get("tool_name")),
                "extra": extra,
                "model": _optional_str(raw.get("model")),
                "agent_version": _optional_int(raw.get("agent_version")),
                "prompt_tokens": _optional_int(raw.get("prompt_tokens")),
                "completion_tokens": _optional_int(raw.get("completion_tokens")),
                "created_at": _iso_or_none(raw.get("created_at")) or now,
                "edited_at": _iso_or_none(raw.get("edited_at")),
                # Tool calls are not read back (they were for reading); the thinking is.
                "thinking": raw["thinking"] if isinstance(raw.get("thinking"), str) else "",
            }
        )
    return head, messages


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _optional_int(value: Any) -> int | None:
    # SQLite holds 64-bit integers: a bigger count from a file is as good as none.
    if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
        return value
    return None


def _iso_or_none(value: Any) -> str | None:
    """A time from an export in the store's form, or None when it is missing or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return to_iso(from_iso(value))
    except ValueError:
        return None
