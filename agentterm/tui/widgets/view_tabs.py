"""The sidebar's Inbox / Archive / Trash: Textual's Tabs drawn by one widget.

Tabs is eight widgets for three labels (a scroll container, two layouts, a Tab each and the
underline), with three stylesheets, all in the first frame (docs/performance.md, start-up).
This one looks the same (the labels, the bar under the active one, the block cursor when
focused) and acts the same: a click on a label or under it, left and right (wrapping round).
The underline moves without Tabs' animation.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.style import Style
from textual.widget import Widget

BAR, HALF_BAR_LEFT, HALF_BAR_RIGHT = "━", "╺", "╸"  # as textual.renderables.bar draws the underline


class ViewTabs(Widget, can_focus=True):
    """Labels (id, text); `active` is the id shown; a change posts ViewTabs.Activated."""

    DEFAULT_CSS = """
    ViewTabs {
        width: 100%;
        height: 2;
        pointer: pointer;
        & > .view-tabs--tab {
            color: $foreground 50%;
        }
        & > .view-tabs--hover, & > .view-tabs--active {
            color: $foreground;
        }
        & > .view-tabs--bar {
            color: $block-cursor-background;
            background: $foreground 10%;
        }
        &:ansi {
            & > .view-tabs--tab {
                text-style: dim;
            }
            & > .view-tabs--active {
                text-style: not dim bold;
            }
            & > .view-tabs--bar {
                color: $block-cursor-background;
                background: $border-blurred;
            }
        }
        &:focus {
            & > .view-tabs--bar {
                background: $foreground 30%;
            }
            & > .view-tabs--active {
                text-style: $block-cursor-text-style;
                color: $block-cursor-foreground;
                background: $block-cursor-background;
            }
        }
    }
    """
    COMPONENT_CLASSES = {"view-tabs--tab", "view-tabs--hover", "view-tabs--active", "view-tabs--bar"}
    BINDINGS = [
        Binding("left", "move(-1)", "Previous tab", show=False),
        Binding("right", "move(1)", "Next tab", show=False),
    ]
    ALLOW_SELECT = False

    active: reactive[str] = reactive("", init=False)
    _hover: reactive[int | None] = reactive(None, init=False)

    @dataclass
    class Activated(Message):
        """A label became the active one (by a key, a click or `active`)."""

        tabs: ViewTabs
        tab_id: str

        @property
        def control(self) -> ViewTabs:
            return self.tabs

    def __init__(self, *labels: tuple[str, str], id: str | None = None) -> None:
        super().__init__(id=id)
        self.labels = list(labels)
        self.set_reactive(ViewTabs.active, labels[0][0] if labels else "")

    def _spans(self) -> list[tuple[int, int]]:
        """Each label's cells (start, end): the text with a cell of padding either side."""
        spans, x = [], 0
        for _, text in self.labels:
            spans.append((x, x + len(text) + 2))
            x += len(text) + 2
        return spans

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 2

    def render(self) -> Content:
        width = self.content_size.width
        tab = self.get_visual_style("view-tabs--tab")
        parts: list[tuple[str, object] | str] = []
        highlight = (0, 0)
        for index, ((tab_id, text), span) in enumerate(zip(self.labels, self._spans())):
            if tab_id == self.active:
                # Under the text, not its padding, as Tabs draws it.
                style, highlight = self.get_visual_style("view-tabs--tab", "view-tabs--active"), (span[0] + 1, span[1] - 1)
            elif index == self._hover:
                style = self.get_visual_style("view-tabs--tab", "view-tabs--hover")
            else:
                style = tab
            # Tab's padding: the block cursor's background on the focused active label, else plain.
            pad = (" ", Style(background=style.background)) if tab_id == self.active and self.has_focus else " "
            parts += [pad, (text, style), pad]
        if parts and parts[-1] == " ":
            parts.pop()  # the line's blank rest, as one run with it
        bar = self.get_visual_style("view-tabs--bar")
        return Content.assemble(*parts, "\n", *self._bar(width, highlight, bar))

    @staticmethod
    def _bar(width: int, highlight: tuple[int, int], bar) -> list[tuple[str, Style]]:
        """Textual's Bar for a whole-cell range: the rest dim, a half bar at each end of it."""
        start, end = max(highlight[0], 0), min(highlight[1], width)
        rest = Style(foreground=bar.background)
        lit = Style(foreground=bar.foreground)
        if start >= end:
            return [(BAR * width, rest)]
        parts = [(BAR * (start - 1) + HALF_BAR_RIGHT, rest)] if start > 0 else []
        parts.append((BAR * (end - start), lit))
        if end < width:
            parts.append((HALF_BAR_LEFT + BAR * (width - end - 1), rest))
        return parts

    def _index_at(self, x: int) -> int | None:
        for index, (start, end) in enumerate(self._spans()):
            if start <= x < end:
                return index
        return None

    def watch_active(self, previous: str, active: str) -> None:
        self.refresh()
        if active != previous:
            self.post_message(self.Activated(self, active))

    def watch__hover(self) -> None:
        self.refresh()

    def action_move(self, step: int) -> None:
        ids = [tab_id for tab_id, _ in self.labels]
        if ids:
            index = ids.index(self.active) if self.active in ids else (-1 if step > 0 else 0)
            self.active = ids[(index + step) % len(ids)]

    def on_click(self, event: events.Click) -> None:
        # A label or the bar under it, as Tabs (its underline passes the click up to the tab).
        event.stop()
        self.focus()
        index = self._index_at(event.x - self.gutter.left)
        if index is not None:
            self.active = self.labels[index][0]

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover = self._index_at(event.x - self.gutter.left) if event.y == 0 else None

    def on_leave(self) -> None:
        self._hover = None
