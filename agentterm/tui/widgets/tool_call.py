"""A tool call in its message: name, server, short arguments, status, and the result folded."""

from __future__ import annotations

import copy
import json
from time import monotonic
from typing import Any

from textual.binding import Binding
from textual.content import Content
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Static

from agentterm.sanitize import one_line, strip_escapes

FOLDED_LINES = 4
"""Lines of a result shown while it is folded."""
LINE_CHARS = 200
"""A folded line longer than this is cut: one huge line must not fill the screen."""
UNFOLDED_CHARS = 20_000
"""The most of a result shown unfolded: laying out megabytes would hold up every key."""
ARGS_CHARS = 60

STATUS_LABELS = {
    "pending": "queued",
    "approval": "waiting for approval",
    "running": "running",
    "done": "done",
    "denied": "denied",
    "failed": "failed",
    "interrupted": "interrupted",
    "cancelled": "cancelled",
}
STATUS_STYLES = {
    "approval": "$text-warning bold",
    "running": "$text-accent",
    "done": "$text-success",
    "denied": "$text-warning",
    "failed": "$text-error",
    "interrupted": "$text-warning",
    "cancelled": "$text-warning",
}


def short_arguments(arguments: str | None, limit: int = ARGS_CHARS) -> str:
    """The arguments on one line: `key=value, ...` for a JSON object, else the text itself."""
    text = arguments or ""
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        return one_line(text, limit)
    if isinstance(value, dict):
        text = ", ".join(f"{key}={json.dumps(item, ensure_ascii=False)}" for key, item in value.items())
    return one_line(text, limit)


def pretty_arguments(arguments: str | None) -> str:
    """The arguments as indented JSON when they are JSON, else as the model sent them."""
    text = arguments or ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False) if text.strip() else "{}"
    except ValueError:
        return text


def fold(text: str, lines: int = FOLDED_LINES) -> tuple[str, int]:
    """The first `lines` lines (each capped) and how many lines were left out."""
    all_lines = text.splitlines()
    shown = [line if len(line) <= LINE_CHARS else line[:LINE_CHARS - 1] + "…"
             for line in all_lines[:lines]]
    return "\n".join(shown), max(len(all_lines) - lines, 0)


def _elapsed(seconds: float) -> str:
    return f"{seconds:.0f}s" if seconds < 60 else f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


class ToolCallView(Static, can_focus=True):
    """One ToolCall (models.ToolCall); everything it shows is text, never markup."""

    DEFAULT_CSS = """
    ToolCallView {
        height: auto;
        margin: 0 1;
        padding: 0 1;
        border-left: outer $accent 50%;
        color: $text-muted;
    }
    ToolCallView:focus {
        border-left: outer $accent;
        background: $boost;
    }
    ToolCallView.-failed, ToolCallView.-denied, ToolCallView.-interrupted {
        border-left: outer $warning 60%;
    }
    """

    BINDINGS = [Binding("enter,space", "toggle", "Fold/unfold", id="tool.toggle")]

    unfolded: reactive[bool] = reactive(False, init=False)

    def __init__(self, call: Any) -> None:
        super().__init__(classes=f"tool-call -{call.status}")
        self.call = copy.copy(call)  # its arguments grow here, not in the sender's record
        self._running_since: float | None = monotonic() if call.status == "running" else None
        self._ticker: Timer | None = None

    @property
    def call_id(self) -> str:
        """The model's id for the call (the record's row id is call.id)."""
        return self.call.call_id

    def on_mount(self) -> None:
        self._render_call()

    def update_call(self, call: Any) -> None:
        """Show a new state of the same call (arguments grown, running, its result)."""
        if call.status == "running" and self.call.status != "running":
            self._running_since = monotonic()
        self.remove_class(f"-{self.call.status}")
        self.call = copy.copy(call)
        self.add_class(f"-{call.status}")
        self._render_call()

    def append_arguments(self, text: str) -> None:
        """The model is still writing the arguments: show them growing."""
        self.call.arguments = (self.call.arguments or "") + text
        self._render_call()

    def _tick(self) -> None:
        if self.call.status == "running":
            self._render_call()
        elif self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def _status(self) -> list[str | tuple[str, str]]:
        call = self.call
        label = STATUS_LABELS.get(call.status, one_line(str(call.status)))
        style = STATUS_STYLES.get(call.status, "")
        if call.status == "running" and self._running_since is not None:
            label += " " + _elapsed(monotonic() - self._running_since)
        parts: list[str | tuple[str, str]] = [(label, style)]
        if call.status == "denied" and call.reason:
            parts.append(": " + one_line(call.reason, 120))
        elif call.status == "failed" and call.error:
            parts.append(": " + one_line(call.error, 200))
        return parts

    def _render_call(self) -> None:
        call = self.call
        parts: list[str | tuple[str, str] | Content] = [
            ("⚙ ", ""), (one_line(call.tool or call.name or "tool", 64), "bold $text"),
        ]
        if call.server:
            parts.append((" · " + one_line(call.server, 40), "dim"))
        parts += [" (", short_arguments(call.arguments), ")  ", *self._status()]
        result = call.result if call.result is not None else None
        if result:
            text = strip_escapes(result)
            if self.unfolded:
                shown = text[:UNFOLDED_CHARS]
                parts += ["\n", shown]
                if len(text) > len(shown):
                    parts += ["\n", (f"… {len(text) - len(shown):,} more characters", "italic")]
                parts += ["\n", ("▾ fold (enter or click)", "dim")]
            else:
                shown, hidden = fold(text)
                parts += ["\n", shown]
                if hidden:
                    parts += ["\n", (f"▸ {hidden} more line(s) (enter or click)", "dim")]
        self.update(Content.assemble(*parts))
        if call.status == "running" and self._ticker is None and self.is_mounted:
            self._ticker = self.set_interval(1.0, self._tick)

    def watch_unfolded(self) -> None:
        self._render_call()

    def action_toggle(self) -> None:
        self.unfolded = not self.unfolded

    def on_click(self, event) -> None:
        event.stop()
        self.action_toggle()

    @property
    def shown_text(self) -> str:
        """What the block shows, as plain text (for tests and copying)."""
        return str(self.render())
