"""The sidebar's rows as Textual Content: each conversation's two or three lines, built once per
look and reused while the row shows the same (the next filter keystroke often lists the same
rows: the same Content keeps the line heights and splits Textual measured)."""

from __future__ import annotations

from datetime import datetime

from textual.content import Content

from agentterm.humanize import relative_time
from agentterm.models import Conversation
from agentterm.sanitize import one_line

BADGE_STYLES = {"Active": "bold $text-success", "Recent": "$text-warning", "Inactive": "$text-muted"}
KEPT = 1000  # rows' prompts kept for reuse


def fit(text: str, width: int) -> str:
    """Cut a line to `width` cells with an ellipsis (titles are one line in the sidebar)."""
    if width <= 1 or len(text) <= width:
        return text
    return text[: width - 1] + "…"


class RowPrompts:
    """What a row shows -> its Content, the least recently shown dropped past KEPT."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, ...], Content] = {}

    def clear(self) -> None:
        self._kept.clear()

    def row(self, conversation: Conversation, now: datetime, width: int, *,
            streaming: bool, bold: bool) -> Content:
        title = one_line(conversation.display_title)
        if conversation.pinned:
            title = "▲ " + title
        badge = conversation.badge(now, streaming=streaming)
        agent = one_line(conversation.agent_name) if conversation.agent_name else "no agent"
        if conversation.agent_name and conversation.agent_id is None:
            agent += " (deleted)"  # its agent is gone: the default settings answer now
        detail = fit(f"{relative_time(conversation.last_activity_at, now)} · {agent}",
                     max(width - len(badge) - 1, 8))
        tags = fit(" ".join(f"#{one_line(t)}" for t in conversation.tags), width) if conversation.tags else ""
        style = "bold" if bold else ""
        key = (fit(title, width), style, badge, detail, tags)

        def build() -> Content:
            parts: list[str | tuple[str, str]] = [(key[0], style), "\n", (badge, BADGE_STYLES[badge]),
                                                  " ", (detail, "$text-muted")]
            if tags:
                parts += ["\n", (tags, "italic $text-accent")]
            return Content.assemble(*parts)

        return self._reused(key, build)

    def empty(self, text: str) -> Content:
        """The one disabled line of an empty list."""
        return self._reused(("", "", "", "", text), lambda: Content(text))  # no row has an empty badge

    def _reused(self, key: tuple[str, ...], build) -> Content:
        kept = self._kept
        if (prompt := kept.pop(key, None)) is None:
            prompt = build()
            if len(kept) >= KEPT:
                del kept[next(iter(kept))]  # the least recently shown
        kept[key] = prompt  # last in: the most recently shown
        return prompt
