"""A model's thinking above its answer: dimmed, live while it thinks, folded once it answers."""

from __future__ import annotations

from time import monotonic

from textual.binding import Binding
from textual.content import Content
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Static

from agentterm.sanitize import EscapeFilter, strip_escapes

LIVE_LINES = 6
"""Lines shown while the model thinks: the newest ones, so each flush costs the same however
long the thinking grows."""
LIVE_CHARS = 1200
"""...and at most this many characters of them: a model that thinks in one long paragraph
would otherwise have the whole of it wrapped again at each flush."""
FLUSH_INTERVAL = 0.1
UNFOLDED_CHARS = 50_000


def last_lines(text: str, count: int) -> str:
    """The last `count` lines of `text`, found from its end: the cost does not grow with it."""
    end = len(text.rstrip("\n"))
    start = end
    for _ in range(count):
        start = text.rfind("\n", 0, start)
        if start < 0:
            return text[:end]
    return text[start + 1:end]


class ThinkingView(Static, can_focus=True):
    """The thinking of one message; click or enter unfolds it once folded."""

    DEFAULT_CSS = """
    ThinkingView {
        height: auto;
        margin: 0 1;
        padding: 0 1;
        color: $text-muted;
        text-style: italic;
        border-left: outer $foreground 20%;
    }
    ThinkingView:focus {
        background: $boost;
    }
    """

    BINDINGS = [Binding("enter,space", "toggle", "Fold/unfold", id="thinking.toggle")]

    folded: reactive[bool] = reactive(True, init=False)

    def __init__(self, text: str = "", *, live: bool = False) -> None:
        super().__init__(classes="thinking")
        self.text = strip_escapes(text)
        self.live = live
        self._filter = EscapeFilter() if live else None
        self._pending: list[str] = []
        self._timer: Timer | None = None
        self._flushed_at = 0.0
        self.set_reactive(ThinkingView.folded, not live)

    def on_mount(self) -> None:
        self._show()

    def write(self, delta: str) -> None:
        """Take a chunk of thinking: shown with the next flush, at most every FLUSH_INTERVAL."""
        if self._filter is None:
            self._filter = EscapeFilter()
            self.live = True
        self._pending.append(delta)
        if self._timer is None:
            wait = max(self._flushed_at + FLUSH_INTERVAL - monotonic(), 0.001)
            self._timer = self.set_timer(wait, self._flush)

    def _flush(self) -> None:
        self._timer = None
        if self._pending and self._filter is not None:
            self.text += self._filter.feed("".join(self._pending))
            self._pending.clear()
        self._flushed_at = monotonic()
        self._show()

    def finish(self, text: str | None = None) -> None:
        """The answer started (or the turn ended): stop, keep the whole thinking, fold it."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._filter is not None:
            self.text += self._filter.feed("".join(self._pending)) + self._filter.flush()
        self._pending.clear()
        self._filter = None
        if text is not None:
            self.text = strip_escapes(text)
        self.live = False
        self.set_reactive(ThinkingView.folded, True)
        self._show()

    def _show(self) -> None:
        words = len(self.text.split())
        if self.live:
            tail = last_lines(self.text, LIVE_LINES)
            if len(tail) > LIVE_CHARS:
                tail = "…" + tail[-LIVE_CHARS:]
            self.update(Content.assemble(("Thinking…", "bold"), "\n", tail))
        elif self.folded:
            self.update(Content.assemble(("▸ Thought", "bold"), f" · {words:,} words",
                                         (" (enter or click to unfold)", "dim")))
        else:
            shown = self.text[:UNFOLDED_CHARS]
            more = len(self.text) - len(shown)
            parts: list[str | tuple[str, str]] = [("▾ Thought", "bold"), f" · {words:,} words\n", shown]
            if more:
                parts.append((f"\n… {more:,} more characters", "dim"))
            self.update(Content.assemble(*parts))

    def watch_folded(self) -> None:
        self._show()

    def action_toggle(self) -> None:
        if not self.live:
            self.folded = not self.folded

    def on_click(self, event) -> None:
        event.stop()
        self.action_toggle()

    @property
    def shown_text(self) -> str:
        return str(self.render())
