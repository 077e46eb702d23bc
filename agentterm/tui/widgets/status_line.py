"""The line under the chat: what is happening now (an answer streaming, a paused agent), else hidden.

The agent, the model and the context are the header's (chat_header.py).
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from agentterm.sanitize import one_line


class StatusLine(Static):
    """Shows plain text only: agent and model names come from files and servers."""

    def show(self, *, agent: str | None, model: str | None, tokens: int | None,
             state: str = "") -> None:
        self.display = bool(state)
        self.update(Content.assemble((one_line(state), "bold")) if state else "")
