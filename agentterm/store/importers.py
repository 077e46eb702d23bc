"""Reading other tools' exports into agentterm's export format (a ChatGPT conversation)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agentterm.models import to_iso
from agentterm.store.exports import EXPORT_FORMAT, EXPORT_VERSION

_CHATGPT_ROLES = ("system", "user", "assistant")


def is_chatgpt_conversation(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("mapping"), dict)


def chatgpt_to_export(data: dict[str, Any]) -> dict[str, Any]:
    """One conversation object from ChatGPT's conversations.json, as an agentterm export.

    The mapping is a tree (an edited prompt starts a branch); the branch the user last saw ends
    at current_node, so we walk from there back to the root through the parents.
    """
    mapping: dict[str, Any] = data["mapping"]
    path = []
    seen: set[str] = set()
    node_id = data.get("current_node") or _last_leaf(mapping)
    while node_id and node_id in mapping and node_id not in seen:
        seen.add(node_id)
        node = mapping[node_id] or {}
        path.append(node)
        node_id = node.get("parent")
    path.reverse()

    messages = []
    for node in path:
        message = node.get("message") or {}
        role = (message.get("author") or {}).get("role")
        text = _text_of(message.get("content") or {})
        if role not in _CHATGPT_ROLES or not text.strip():
            continue
        metadata = message.get("metadata") or {}
        messages.append(
            {
                "role": role,
                "content": text,
                "status": "complete",
                "model": metadata.get("model_slug") if role == "assistant" else None,
                "created_at": _epoch_to_iso(message.get("create_time")),
            }
        )

    created = _epoch_to_iso(data.get("create_time"))
    updated = _epoch_to_iso(data.get("update_time")) or created
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "conversation": {
            "title": str(data.get("title") or ""),
            "title_source": "auto",
            "created_at": created,
            "last_activity_at": updated,
        },
        "messages": messages,
    }


def _text_of(content: dict[str, Any]) -> str:
    # Text parts are strings; images and other attachments are dicts, which we leave out.
    if content.get("content_type") not in ("text", "multimodal_text"):
        return ""
    parts = content.get("parts") or []
    return "\n".join(part for part in parts if isinstance(part, str))


def _last_leaf(mapping: dict[str, Any]) -> str | None:
    """With no current_node, follow the newest child from the root down."""
    roots = [key for key, node in mapping.items() if not (node or {}).get("parent")]
    node_id = roots[0] if roots else None
    seen: set[str] = set()
    while node_id in mapping and node_id not in seen:
        seen.add(node_id)
        children = (mapping[node_id] or {}).get("children") or []
        if not children:
            return node_id
        node_id = children[-1]
    return node_id


def _epoch_to_iso(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return to_iso(datetime.fromtimestamp(value, UTC))
    except (OverflowError, OSError, ValueError):
        return None
