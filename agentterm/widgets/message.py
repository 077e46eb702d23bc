"""One message in the chat: a header, the body (Markdown for answers) and a status line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message as TextualMessage
from textual.widgets import Markdown, Static
from textual.widgets._markdown import MarkdownStream

from agentterm.humanize import message_time
from agentterm.models import Message
from agentterm.sanitize import EscapeFilter, one_line, strip_escapes

# A long answer is several Markdown widgets of about this many characters each, split where a
# paragraph ends outside a code fence: one widget's layout cost grows with its blocks, so
# streaming stays as cheap at the end of a long answer as at its start.
SEGMENT_CHARS = 2000
ROLE_LABELS = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}
FENCE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n(.*?)^\1[ \t]*$", re.DOTALL | re.MULTILINE)


def code_blocks(text: str) -> list[str]:
    """The fenced code blocks of a Markdown text, without their fences."""
    return [match.group(2) for match in FENCE.finditer(text)]


def _fence_open(text: str) -> bool:
    return sum(1 for line in text.splitlines() if line.lstrip().startswith(("```", "~~~"))) % 2 == 1


def split_point(text: str, start: int = 0) -> int | None:
    """Where a segment may end in `text` (after a blank line, outside a fence), at or past `start`."""
    position = text.find("\n\n", start)
    while position != -1:
        end = position + 2
        if not _fence_open(text[:end]):
            return end
        position = text.find("\n\n", end)
    return None


def segments(text: str, size: int = SEGMENT_CHARS) -> list[str]:
    """Cut a Markdown text into pieces of about `size` characters that render as the whole does."""
    pieces: list[str] = []
    while len(text) > size and (end := split_point(text, size)) is not None and end < len(text):
        pieces.append(text[:end])
        text = text[end:]
    pieces.append(text)
    return pieces


class MessageView(Vertical, can_focus=True):
    """A message; focus it for its actions, or click the words in its header."""

    BINDINGS = [
        Binding("c", "request('copy')", "Copy", id="message.copy"),
        Binding("k", "request('copy_code')", "Copy code", id="message.copy_code"),
        Binding("delete,x", "request('delete')", "Delete", id="message.delete"),
        Binding("r", "request('retry')", "Retry", id="message.retry"),
        Binding("o", "request('continue')", "Continue", id="message.continue"),
        Binding("e", "request('edit')", "Edit and resend", id="message.edit"),
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
                 last_prompt: bool = False) -> None:
        # Classes set here, not on mount: each later set_class restyles the whole subtree.
        super().__init__(classes=f"message -{message.role} -{message.status}")
        self.message = message
        self.agent_name = agent_name
        self.now = now
        self.last_prompt = last_prompt
        self._stream: MarkdownStream | None = None
        self._filter: EscapeFilter | None = None
        self._segments: list[str] = []
        """The text of each Markdown widget of the answer, the last one still growing."""

    @property
    def message_id(self) -> int:
        return self.message.id

    def compose(self) -> ComposeResult:
        yield Static(self._header(), classes="message-header")
        if self.message.role == "assistant":
            self._segments = segments(strip_escapes(self.message.content))
            for piece in self._segments:
                yield Markdown(piece, open_links=False)
        else:
            yield Static(Content(strip_escapes(self.message.content)), classes="message-body")
        yield Static(self._status(), classes="message-status")

    def _header(self) -> Content:
        message = self.message
        who = ROLE_LABELS.get(message.role, message.role)
        if message.role == "assistant" and self.agent_name:
            who = one_line(self.agent_name, 40)
        parts: list[str | tuple[str, str] | Content] = [(who, "bold")]
        if message.role == "assistant":
            if message.model:
                parts += [(" · " + one_line(message.model), "dim")]
        parts += [(" · " + message_time(message.created_at, self.now), "dim")]
        if message.edited_at is not None:
            parts.append((" (edited)", "dim italic"))
        actions = ["copy"]
        if message.role == "assistant" and code_blocks(message.content):
            actions.append("copy_code")
        actions.append("delete")
        if message.role == "assistant" and message.status in ("interrupted", "error"):
            actions.append("retry")
        if self.last_prompt:
            actions.append("edit")
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
            return Content.assemble(*parts)
        if message.status == "streaming":
            return Content("Answering... (escape stops)")
        return Content("")

    def _apply_status_class(self) -> None:
        for status in ("complete", "streaming", "interrupted", "error"):
            self.set_class(self.message.status == status, f"-{status}")

    def refresh_message(self, message: Message, *, last_prompt: bool | None = None) -> None:
        """Show a new state of the same row (status, model, edit) without rebuilding the body."""
        self.message = message
        if last_prompt is not None:
            self.last_prompt = last_prompt
        self.query_one(".message-header", Static).update(self._header())
        self.query_one(".message-status", Static).update(self._status())
        self._apply_status_class()

    def action_request(self, action: str) -> None:
        self.post_message(self.ActionRequested(self.message.id, action))

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        self.post_message(self.LinkOpenRequested(event.href))

    # Streaming: the worker's events arrive as messages; the chat pane calls these.

    def start_stream(self) -> None:
        self._filter = EscapeFilter()
        self._stream = Markdown.get_stream(self.query(Markdown).last())

    async def write(self, delta: str) -> None:
        if self._stream is None:
            self.start_stream()
        assert self._stream is not None and self._filter is not None
        text = self._filter.feed(delta)
        current = self._segments[-1]
        if len(current) + len(text) > SEGMENT_CHARS and (
                end := split_point(current + text, max(len(current) - 1, 0))) is not None:
            # Close this widget at the paragraph's end and go on in a fresh one.
            head, text = (current + text)[len(current):end], (current + text)[end:]
            await self._stream.write(head)
            await self._stream.stop()
            self._segments[-1] = current + head
            self._segments.append("")
            markdown = Markdown("", open_links=False)
            await self.mount(markdown, before=self.query_one(".message-status"))
            self._stream = Markdown.get_stream(markdown)
        self._segments[-1] += text
        await self._stream.write(text)

    async def finish(self, message: Message) -> None:
        """End the stream, then render the stored text once so the final blocks are exact.

        Only the last segment is rendered again: the earlier ones are already exact.
        """
        if self._stream is not None:
            try:
                await self._stream.stop()
            finally:
                self._stream = None
        self.refresh_message(message)
        text = strip_escapes(message.content)
        done = "".join(self._segments[:-1])
        blocks = list(self.query(Markdown))
        if text.startswith(done) and len(blocks) == len(self._segments):
            self._segments[-1] = text[len(done):]
            await blocks[-1].update(self._segments[-1])
            return
        await self.query(Markdown).remove()
        self._segments = segments(text)
        await self.mount_all([Markdown(piece, open_links=False) for piece in self._segments],
                             before=self.query_one(".message-status"))

    def on_unmount(self) -> None:
        # Removed mid-stream (another conversation opened): the worker goes on storing the
        # answer, but nothing is left to render into.
        if self._stream is not None and self._stream._task is not None:
            self._stream._task.cancel()
        self._stream = None

    @property
    def streaming(self) -> bool:
        return self._stream is not None
