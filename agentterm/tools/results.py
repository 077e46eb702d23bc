"""A tool call's result as text for the model: text joined, structured content as JSON, cut when long."""

from __future__ import annotations

import json
from typing import Any

from agentterm.tools.spec import ToolOutcome


def cut(text: str, limit: int) -> str:
    """The text, or its first `limit` characters and a marker saying how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[result cut: {len(text) - limit:,} of {len(text):,} characters left out]"


def _part_text(part: Any) -> str:
    kind = getattr(part, "type", None)
    if kind == "text":
        return str(part.text)
    if kind in ("image", "audio"):
        size = len(getattr(part, "data", "") or "") * 3 // 4  # base64 to bytes
        return f"[{kind}: {getattr(part, 'mime_type', '?')}, about {size:,} bytes, not shown]"
    if kind == "resource_link":
        return f"[resource: {part.uri}]"
    if kind == "resource":
        resource = part.resource
        text = getattr(resource, "text", None)
        return str(text) if text is not None else f"[resource: {resource.uri}, binary, not shown]"
    return f"[{kind or 'unknown'} content, not shown]"


def outcome_of(result: Any, qualified: str, limit: int) -> ToolOutcome:
    """The outcome of an MCP CallToolResult."""
    parts = [_part_text(part) for part in (result.content or [])]
    text = "\n".join(part for part in parts if part)
    if not text and result.structured_content is not None:
        text = json.dumps(result.structured_content, ensure_ascii=False, indent=2)
    if result.is_error:
        return ToolOutcome(cut(f"{qualified} failed: {text or 'the tool gave no reason'}", limit), is_error=True)
    return ToolOutcome(cut(text, limit))
