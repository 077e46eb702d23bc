"""Conversation exports as Markdown with front matter; the JSON form is the store's own dict."""

from __future__ import annotations

import json
from typing import Any

ROLE_HEADINGS = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}


def _front_matter(conversation: dict[str, Any]) -> list[str]:
    # JSON scalars are valid YAML, so every value is quoted safely whatever it holds.
    keys = ("id", "title", "agent_name", "tags", "pinned", "created_at", "last_activity_at")
    lines = ["---"]
    for key in keys:
        if conversation.get(key) not in (None, "", []):
            lines.append(f"{key}: {json.dumps(conversation[key], ensure_ascii=False)}")
    lines.append("---")
    return lines


def to_markdown(export: dict[str, Any]) -> str:
    """Render `Store.export_conversation()` output as Markdown with YAML front matter."""
    conversation = export["conversation"]
    lines = _front_matter(conversation)
    lines += ["", f"# {conversation.get('title') or 'Untitled conversation'}", ""]
    for message in export["messages"]:
        heading = ROLE_HEADINGS.get(message["role"], message["role"].title())
        if message.get("status") not in (None, "complete"):
            heading += f" ({message['status']})"
        lines += [f"## {heading}", ""]
        if message.get("thinking"):
            lines += ["<details><summary>Thinking</summary>", "", message["thinking"], "", "</details>", ""]
        lines += [message.get("content", ""), ""]
    return "\n".join(lines).rstrip() + "\n"


def to_json(export: dict[str, Any]) -> str:
    return json.dumps(export, ensure_ascii=False, indent=2) + "\n"


def without_thinking(export: dict[str, Any]) -> dict[str, Any]:
    """The export with each message's thinking left out (what is shared unless asked)."""
    messages = [{k: v for k, v in m.items() if k != "thinking"} for m in export["messages"]]
    return {**export, "messages": messages}


def render(export: dict[str, Any], fmt: str, *, with_thinking: bool = False) -> str:
    """The export as text in a format: "md", "json" or "html"."""
    if not with_thinking:
        export = without_thinking(export)
    if fmt == "json":
        return to_json(export)
    if fmt == "html":
        from agentterm.export_html import to_html

        return to_html(export)
    return to_markdown(export)
