"""The line under the chat: agent, model, the conversation's tokens and whether an answer streams."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from agentterm.humanize import count
from agentterm.sanitize import one_line


class StatusLine(Static):
    """Shows plain text only: agent and model names come from files and servers."""

    def show(self, *, agent: str | None, model: str | None, tokens: int | None,
             state: str = "") -> None:
        parts: list[str | tuple[str, str]] = [
            ("agent ", "dim"), one_line(agent) if agent else "none",
            ("  model ", "dim"), one_line(model) if model else "not set",
            ("  tokens ", "dim"), count(tokens),
        ]
        if state:
            parts += ["  ", (state, "bold")]
        self.update(Content.assemble(*parts))
