"""One message in the chat: a header, the body (Markdown for answers) and a status line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from time import monotonic

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message as TextualMessage
from textual.timer import Timer
from textual.widgets import Static

from agentterm.humanize import message_time
from agentterm.models import Message
from agentterm.sanitize import EscapeFilter, one_line, strip_escapes
from agentterm.tui.keymap import key_label
from agentterm.tui.widgets.attachment_chips import message_chips
from agentterm.tui.widgets.letter_keys import LetterKeys
from agentterm.tui.widgets.markdown_text import MarkdownText, NoRelayout
from agentterm.tui.widgets.segments import (  # noqa: F401 - split_point: the tests' too
    SEGMENT_CHARS, cut_points, fences, segments, split, split_point)
from agentterm.tui.widgets.thinking import ThinkingView
from agentterm.tui.widgets.tool_call import ToolCallView

TAIL_SEGMENTS = 2
"""Segments of an answer mounted with it; the chat view mounts the ones before them later."""
HUGE_FLUSH = 16
"""A flush cutting more segments than this mounts only the last TAIL_SEGMENTS (a 50 MB chunk)."""
FLUSH_INTERVAL = 0.1
"""Streamed text is shown at most this often (seconds): one layout for many chunks. At 20 a
second, bench/streaming.py's worst key took 191 ms and the collector paused up to 134 ms (each
frame leaves hundreds of Textual strips to collect); at 10, 16 ms and 44 ms."""
FLUSH_SHARE = 0.25
"""...and never so often that showing it takes more than this share of the time: the time from a
flush to the frame showing it (the parse, Textual's layout and render, and on a loaded machine
the wait for a core), so a faster stream or a slower machine gets fewer, not costlier, frames."""
MAX_FLUSH_INTERVAL = 0.5
"""...but at least twice a second, whatever one frame cost (the first one imports the parser)."""
STREAM_BODIES = 4
"""While it streams at the bottom of the chat, a long answer keeps only its newest segments
mounted (the rest mount again on scrolling up, as when it is opened): every layout visits each
mounted widget, so each flush then costs the same at the answer's 80,000th character as at its
first."""
ROLE_LABELS = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}
FENCE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n(.*?)^\1[ \t]*$", re.DOTALL | re.MULTILINE)


def code_blocks(text: str) -> list[str]:
    """The fenced code blocks of a Markdown text, without their fences."""
    return [match.group(2) for match in FENCE.finditer(text)]


class _Line(Static):
    """The header or the status line: a click on one of its words asks the message to act."""

    def action_request(self, action: str) -> None:
        if isinstance(self.parent, MessageView):
            self.parent.action_request(action)


class MessageView(NoRelayout, LetterKeys, Vertical, can_focus=True):
    """A message; focus it for its actions, or click the words in its header."""

    LETTER_PLACE = "A message"
    UNGUARDED = frozenset({"request('copy')", "request('copy_code')", "request('variant_previous')",
                           "request('variant_next')"})

    BINDINGS = [
        Binding("c", "request('copy')", "Copy", id="message.copy"),
        Binding("k", "request('copy_code')", "Copy code", id="message.copy_code"),
        Binding("delete,x", "request('delete')", "Delete", id="message.delete"),
        Binding("r", "request('retry')", "Retry", id="message.retry"),
        Binding("o", "request('continue')", "Continue", id="message.continue"),
        Binding("e", "request('edit')", "Edit and resend", id="message.edit"),
        Binding("f", "request('fork')", "Fork here", id="message.fork"),
        Binding("less_than_sign", "request('variant_previous')", "Previous answer",
                id="message.variant_previous"),
        Binding("greater_than_sign", "request('variant_next')", "Next answer", id="message.variant_next"),
    ]

    @dataclass
    class ActionRequested(TextualMessage):
        """The user asked for something to be done to a message (copy, delete, retry ...)."""

        message_id: int
        action: str

    @dataclass
    class LinkOpenRequested(TextualMessage):
        """A link in an answer was clicked: it opens only after the user confirms the full URL."""

        url: str

    def __init__(self, message: Message, *, agent_name: str | None, now: datetime,
                 last_prompt: bool = False, place: tuple[int, int] | None = None) -> None:
        # Classes set here, not on mount: each later set_class restyles the whole subtree.
        super().__init__(classes=f"message -{message.role} -{message.status}")
        self.message = message
        self.agent_name = agent_name
        self.now = now
        self.last_prompt = last_prompt
        self.place = place
        """(which, of how many) tries of its prompt's answer this is, when there are several."""
        self._filter: EscapeFilter | None = None
        self._pending: list[str] = []
        self._flush_timer: Timer | None = None
        self._flushed_at = 0.0
        self._segments: list[str]
        self._fences: list[str | None]
        self._segments, self._fences = (
            split(strip_escapes(message.content)) if message.role == "assistant" else ([], []))
        """The text of each Markdown widget of the answer, the last one still growing, and the
        code fence or table open where each starts (a long code block or table is cut too)."""
        self._unmounted = max(len(self._segments) - TAIL_SEGMENTS, 0)
        """How many segments at the start of a long answer are not mounted yet."""
        self.flushes = 0
        """How many times streamed text was shown (each a layout): far fewer than the chunks."""
        self.flush_cost = 0.0
        """Seconds from the last flushes to the frames showing them (smoothed): sets the interval."""
        self._live_thinking: ThinkingView | None = None

    @property
    def message_id(self) -> int:
        return self.message.id

    def compose(self) -> ComposeResult:
        # As few widgets as can be: every layout of the chat visits each one. A prompt is one
        # (header and text), an answer its header and its segments; the status line is there
        # only while it has something to say.
        if self.message.role == "assistant":
            yield _Line(self._header(), classes="message-header")
            if self.message.thinking:
                yield ThinkingView(self.message.thinking)
            for index in range(self._unmounted, len(self._segments)):
                yield self._body(index)
            for call in self.message.tool_calls:
                yield ToolCallView(call)
        else:
            yield _Line(self._prompt(), classes="message-header message-body")
        if self.message.status != "complete":
            yield _Line(self._status(), classes="message-status")

    def _prompt(self) -> Content:
        # The header's muted colour is the widget's; the text has the usual one.
        extra = self.message.extra or {}
        typed = extra.get("prompt") if isinstance(extra.get("prompt"), str) else None
        if self.message.edited_at is not None:
            typed = None  # edited since: the text is the content now, as edited
        # A prompt with attachments shows what was typed and a chip a file; the files' text is
        # in the stored content (copy, export and search have it: docs/attachments.md).
        text = Content.styled(strip_escapes(self.message.content if typed is None else typed), "$foreground")
        if typed is not None and (shown := message_chips(extra)) is not None:
            return Content.assemble(self._header(), "\n", text, "\n", shown)
        return Content.assemble(self._header(), "\n", text)

    def _header(self) -> Content:
        message = self.message
        who = ROLE_LABELS.get(message.role, message.role)
        if message.role == "assistant" and self.agent_name:
            who = one_line(self.agent_name, 40)
        summary = message.extra.get("summary") if message.role == "system" else None
        if isinstance(summary, dict):
            who = f"Summary of {summary.get('turns', 'the')} earlier turn(s), sent in their place"
        parts: list[str | tuple[str, str] | Content] = [(who, "bold")]
        if message.role == "assistant":
            if message.model:
                parts += [(" · " + one_line(message.model), "dim")]
        parts += [(" · " + message_time(message.created_at, self.now), "dim")]
        if message.edited_at is not None:
            parts.append((" (edited)", "dim italic"))
        if self.place is not None:
            which, count = self.place
            parts += ["  ", Content.from_markup("[@click=request('variant_previous')]\\[<][/]"),
                      f" {which}/{count} ", Content.from_markup("[@click=request('variant_next')]\\[>][/]")]
        actions = ["copy"]
        if message.role == "assistant" and code_blocks(message.content):
            actions.append("copy_code")
        actions.append("delete")
        if message.role == "assistant" and message.status in ("interrupted", "error"):
            actions.append("retry")
            if message.content:
                actions.append("continue")
        if message.role == "user":
            actions.append("edit")  # an earlier prompt: edited and sent in a fork (docs/keys.md)
        if message.status != "streaming":
            actions.append("fork")
        parts.append("  ")
        for action in actions:
            label = action.replace("_", "\u00a0")  # a no-break space: "[copy code]" wraps as one
            parts.append(Content.from_markup(f"[@click=request('{action}')]\\[{label}][/] "))
        return Content.assemble(*parts)

    def _status(self) -> Content:
        message = self.message
        if message.status == "interrupted":
            return Content.from_markup(
                "[b]Interrupted[/b]: the partial answer is kept. "
                "[@click=request('retry')]\\[retry][/] [@click=request('continue')]\\[continue][/]"
            )
        if message.status == "error":
            error = one_line(str(message.extra.get("error") or "The answer failed."))
            hint = one_line(str(message.extra.get("hint") or ""))
            parts: list[str | tuple[str, str] | Content] = [("Error: ", "bold"), error]
            if hint:
                parts += ["\n", hint]
            parts += ["  ", Content.from_markup("[@click=request('retry')]\\[retry][/]")]
            if message.content:  # cut mid-way: what came can be extended, not only replaced
                parts += [" ", Content.from_markup("[@click=request('continue')]\\[continue][/]")]
            return Content.assemble(*parts)
        if message.status == "streaming":
            return Content(f"Answering... ({key_label(self, 'app.stop')} stops)")
        return Content("")

    def _apply_status_class(self) -> None:
        for status in ("complete", "streaming", "interrupted", "error"):
            self.set_class(self.message.status == status, f"-{status}")

    def refresh_message(self, message: Message, *, last_prompt: bool | None = None) -> None:
        """Show a new state of the same row (status, model, edit) without rebuilding the body."""
        self.message = message
        if last_prompt is not None:
            self.last_prompt = last_prompt
        header = self.query_one(".message-header", Static)
        header.update(self._header() if message.role == "assistant" else self._prompt())
        if status := self.query_children(".message-status"):
            status.first(Static).update(self._status())
        elif message.status != "complete":
            self.mount(_Line(self._status(), classes="message-status"))
        self._apply_status_class()

    def action_request(self, action: str) -> None:
        self.post_message(self.ActionRequested(self.message.id, action))

    def on_markdown_text_link_clicked(self, event: MarkdownText.LinkClicked) -> None:
        event.stop()
        self.post_message(self.LinkOpenRequested(event.href))

    # Streaming: the worker's events arrive as messages; the chat pane calls these. Chunks are
    # buffered and shown together, at most every FLUSH_INTERVAL: one layout for many chunks.

    @property
    def bodies(self) -> list[MarkdownText]:
        return list(self.query_children(MarkdownText))

    def _body(self, index: int) -> MarkdownText:
        return MarkdownText(self._segments[index], fence=self._fences[index], classes="message-body")

    def _body_anchor(self) -> Static:
        """What the answer's text follows: its thinking, else the header."""
        thinking = self.thinking_view
        return thinking if thinking is not None else self.query_one(".message-header", Static)

    @property
    def thinking_view(self) -> ThinkingView | None:
        return next(iter(self.query_children(ThinkingView)), None)

    def write_thinking(self, delta: str) -> None:
        """Take a chunk of thinking, shown live in a dimmed block above the answer."""
        view = self._live_thinking  # asked for on every chunk: no query each time
        if view is None or view.parent is not self:
            view = self.thinking_view
            if view is None:
                view = ThinkingView(live=True)
                self.mount(view, after=self.query_one(".message-header"))
            self._live_thinking = view
        view.write(delta)

    def _fold_thinking(self, text: str | None = None) -> None:
        view = self.thinking_view
        if view is not None and (view.live or text is not None):
            view.finish(text)

    def tool_call_view(self, call_id: str) -> ToolCallView | None:
        """The block of the call the model named `call_id`."""
        for view in self.query_children(ToolCallView):
            if view.call_id == call_id:
                return view
        return None

    def show_tool_call(self, call) -> ToolCallView:
        """Show a call of this message, new or in a new state; the answer's text stays above."""
        self._fold_thinking()
        view = self.tool_call_view(call.call_id)
        if view is not None:
            view.update_call(call)
            return view
        view = ToolCallView(call)
        if status := self.query_children(".message-status"):
            self.mount(view, before=status.first())
        else:
            self.mount(view)
        return view

    @property
    def mounted_chars(self) -> int:
        """How much text this message lays out once mounted (a long answer: only its end)."""
        if self.message.role != "assistant":
            return len(self.message.content)
        return sum(len(piece) for piece in self._segments[self._unmounted:])

    @property
    def unmounted(self) -> bool:
        """The start of a long answer is still to be mounted (mount_earlier)."""
        return self._unmounted > 0

    async def mount_earlier(self, chars: int) -> None:
        """Mount the segments just before the mounted ones, about `chars` characters of them.

        A long answer opens with its end only: laying out the whole of it at once would hold up
        the first frame in proportion to its length.
        """
        pieces: list[MarkdownText] = []
        size = 0
        while self._unmounted and (not pieces or size < chars):
            self._unmounted -= 1
            pieces.insert(0, self._body(self._unmounted))
            size += len(self._segments[self._unmounted])
        if pieces:
            bodies = self.bodies
            if bodies:
                await self.mount_all(pieces, before=bodies[0])
            else:
                await self.mount_all(pieces, after=self._body_anchor())

    @property
    def source(self) -> str:
        """The answer's text as shown so far (chunks still buffered are not yet shown)."""
        return "".join(self._segments)

    def start_stream(self) -> None:
        self._filter = EscapeFilter()
        self._pending.clear()
        if not self._segments:
            self._segments, self._fences = [""], [None]
        if not self.bodies:
            self.mount(MarkdownText("", classes="message-body"), after=self._body_anchor())

    async def write(self, delta: str) -> None:
        """Take a chunk of the answer: shown at once after a pause, else with the next flush."""
        if self._filter is None:
            self.start_stream()
        assert self._filter is not None
        if not self._pending and not self.source:
            self._fold_thinking()  # the answer starts: the thinking folds away
        self._pending.append(delta)
        if self._flush_timer is None:
            interval = min(max(FLUSH_INTERVAL, self.flush_cost / FLUSH_SHARE), MAX_FLUSH_INTERVAL)
            wait = max(self._flushed_at + interval - monotonic(), 0.001)
            self._flush_timer = self.set_timer(wait, self._flush)

    @property
    def pending(self) -> bool:
        """Chunks are waiting to be shown."""
        return bool(self._pending)

    def _flush(self) -> None:
        """Show the buffered chunks: only the last Markdown widget is laid out again."""
        self._flush_timer = None
        if self._filter is None or not self._pending:
            return
        text = self._filter.feed("".join(self._pending))
        self._pending.clear()
        self._flushed_at = started = monotonic()
        self._extend(text)
        self.flushes += 1
        self.call_after_refresh(self._shown, started)

    def _shown(self, started: float) -> None:
        cost = monotonic() - started
        self.flush_cost = cost if self.flushes <= 1 else (self.flush_cost + cost) / 2

    def _extend(self, text: str) -> None:
        bodies = self.bodies
        current = self._segments[-1] + text
        frozen = len(self._segments[-1])
        # Close the growing widget where a paragraph (a line of a long code block, a row of a
        # long table) ends past SEGMENT_CHARS, and go on in a fresh one: it is never laid out
        # again. One pass over the new text, however big the chunk.
        opened: list[str | None] = []
        cuts = cut_points(current, SEGMENT_CHARS, self._fences[-1], first=max(SEGMENT_CHARS, frozen) - 1,
                          opened=opened) if len(current) > SEGMENT_CHARS else []
        last = 0
        for cut, context in zip(cuts, opened):
            self._segments[-1] = current[last:cut]
            self._fences.append(context)
            self._segments.append("")
            last = cut
        self._segments[-1] = current[last:]
        if len(cuts) > HUGE_FLUSH:
            # A huge chunk: mount only its end (as an answer opens); scrolling up mounts the rest.
            for body in bodies:
                body.remove()
            self._unmounted = len(self._segments) - TAIL_SEGMENTS
            tail = [self._body(index) for index in range(self._unmounted, len(self._segments))]
            self.mount_all(tail, after=self._body_anchor())
            return
        if cuts:
            bodies[-1].update(self._segments[-len(cuts) - 1])
            for index in range(len(self._segments) - len(cuts), len(self._segments)):
                bodies.append(self._body(index))
                self.mount(bodies[-1], after=bodies[-2])
            self._unmount_oldest(bodies)
        bodies[-1].update(self._segments[-1])

    def _unmount_oldest(self, bodies: list[MarkdownText]) -> None:
        """While the chat follows the stream, unmount all but the newest STREAM_BODIES segments."""
        extra = len(bodies) - STREAM_BODIES
        if extra <= 0 or self._filter is None or not getattr(self.parent, "following", False):
            return
        for body in bodies[:extra]:
            body.remove()
        self._unmounted += extra

    def _stop_stream(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        self._filter = None
        self._pending.clear()

    async def finish(self, message: Message) -> None:
        """End the stream and show the stored text, which is the exact answer.

        The widgets already showing the start of it stay as they are; only the rest is laid out.
        """
        self._stop_stream()
        self.refresh_message(message)
        self._fold_thinking(message.thinking or None)
        for call in message.tool_calls:
            self.show_tool_call(call)
        text = strip_escapes(message.content)
        done = "".join(self._segments[:-1])
        bodies = self.bodies
        if text.startswith(done) and len(bodies) + self._unmounted == len(self._segments) and bodies:
            self._segments[-1] = text[len(done):]
            self._extend("")
            return
        await self.query(MarkdownText).remove()
        self._segments, self._fences = split(text)
        # Its end only, as when it opens: a huge answer's start is mounted on scrolling up.
        self._unmounted = max(len(self._segments) - TAIL_SEGMENTS, 0)
        await self.mount_all([self._body(index) for index in range(self._unmounted, len(self._segments))],
                             after=self._body_anchor())

    def on_unmount(self) -> None:
        # Removed mid-stream (another conversation opened): the worker goes on storing the
        # answer, but nothing is left to render into.
        self._stop_stream()

    @property
    def streaming(self) -> bool:
        return self._filter is not None
