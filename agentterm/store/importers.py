"""Reading other tools' exports into agentterm's export format (a ChatGPT conversation)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from agentterm.models import to_iso
from agentterm.store.errors import StoreError
from agentterm.store.exports import EXPORT_FORMAT, EXPORT_VERSION

_CHATGPT_ROLES = ("system", "user", "assistant")
_TEXT_TYPES = ("text", "multimodal_text")


def is_chatgpt_conversation(data: Any) -> bool:
    return isinstance(data, dict) and "mapping" in data and data.get("format") != EXPORT_FORMAT


def source_id(data: dict[str, Any]) -> str:
    """What names this conversation wherever it is imported from: ChatGPT's own id, or for an
    agentterm export a digest of what it holds (the export time left out)."""
    if is_chatgpt_conversation(data):
        for key in ("conversation_id", "id"):
            if isinstance(data.get(key), str) and data[key]:
                return f"chatgpt:{data[key]}"
    content = {k: v for k, v in data.items() if k != "exported_at"}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    return f"{'chatgpt' if is_chatgpt_conversation(data) else 'agentterm'}:sha256:{digest}"


def chatgpt_to_export(data: dict[str, Any]) -> dict[str, Any]:
    """One conversation object from ChatGPT's conversations.json, as an agentterm export.

    The mapping is a tree (an edited prompt starts a branch); the branch the user last saw ends
    at current_node, so we walk from there back to the root through the parents. A node,
    author or content of the wrong type refuses the conversation (StoreError says which).
    """
    mapping = data["mapping"]
    if not isinstance(mapping, dict):
        raise _bad("its 'mapping' is not an object")
    for key, node in mapping.items():
        if node is not None and not isinstance(node, dict):
            raise _bad(f"node {_name(key)} is not an object")
    path = []
    seen: set[str] = set()
    current = data.get("current_node")
    node_id = current if isinstance(current, str) and current in mapping else _last_leaf(mapping)
    while isinstance(node_id, str) and node_id in mapping and node_id not in seen:
        seen.add(node_id)
        node = mapping[node_id] or {}
        path.append((node_id, node))
        node_id = node.get("parent")
    path.reverse()

    messages = [m for node_id, node in path if (m := _message(node_id, node)) is not None]
    if path and not messages:
        # Only images, files or empty parts: an empty conversation in the sidebar helps nobody.
        raise _bad("it holds no text (only images, files or empty parts), so there is nothing to import")
    created = _epoch_to_iso(data.get("create_time"))
    updated = _epoch_to_iso(data.get("update_time")) or created
    title = data.get("title")
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "conversation": {
            "title": title if isinstance(title, str) else "",
            "title_source": "auto",
            "created_at": created,
            "last_activity_at": updated,
            # ChatGPT's archive keeps no time: the last activity stands in for it.
            "archived_at": (updated or to_iso(datetime.now(UTC))) if data.get("is_archived") is True else None,
        },
        "messages": messages,
    }


def _message(node_id: str, node: dict[str, Any]) -> dict[str, Any] | None:
    message = node.get("message")
    if message is None:
        return None
    if not isinstance(message, dict):
        raise _bad(f"node {_name(node_id)} has a message that is not an object")
    author = message.get("author")
    if author is not None and not isinstance(author, dict):
        raise _bad(f"node {_name(node_id)} has an author that is not an object")
    content = message.get("content")
    if content is not None and not isinstance(content, dict):
        raise _bad(f"node {_name(node_id)} has content that is not an object")
    role = (author or {}).get("role")
    text = _text_of(node_id, content or {})
    if role not in _CHATGPT_ROLES or not text.strip():
        return None
    metadata = message.get("metadata")
    model = metadata.get("model_slug") if isinstance(metadata, dict) else None
    return {
        "role": role,
        "content": text,
        "status": "complete",
        "model": model if role == "assistant" and isinstance(model, str) else None,
        "created_at": _epoch_to_iso(message.get("create_time")),
    }


def _text_of(node_id: str, content: dict[str, Any]) -> str:
    """The text of a message: string parts, and the transcript of a voice part.

    Images and audio files are dicts with no text, which we leave out.
    """
    if content.get("content_type") not in _TEXT_TYPES:
        return ""
    parts = content.get("parts")
    if parts is None:
        return ""
    if not isinstance(parts, list):
        raise _bad(f"node {_name(node_id)} has content parts that are not a list")
    texts = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict):
            if part.get("content_type") == "audio_transcription" and isinstance(part.get("text"), str):
                texts.append(part["text"])
        elif part is not None:
            raise _bad(f"node {_name(node_id)} has a content part that is neither text nor an object")
    return "\n".join(texts)


def _last_leaf(mapping: dict[str, Any]) -> str | None:
    """With no current_node, follow the newest child from the root down."""
    roots = [key for key, node in mapping.items() if not (node or {}).get("parent")]
    node_id = roots[0] if roots else None
    seen: set[str] = set()
    while isinstance(node_id, str) and node_id in mapping and node_id not in seen:
        seen.add(node_id)
        children = (mapping[node_id] or {}).get("children")
        if not isinstance(children, list) or not children:
            return node_id
        node_id = children[-1]
    return node_id if isinstance(node_id, str) else None


def _epoch_to_iso(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return to_iso(datetime.fromtimestamp(value, UTC))
    except (OverflowError, OSError, ValueError):
        return None


def _name(key: str) -> str:
    return repr(key[:40])


def _bad(why: str) -> StoreError:
    return StoreError(f"Cannot import: {why}.")
