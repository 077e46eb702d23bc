"""The chat's scrolling history: a bounded window of messages, earlier ones loaded on demand."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from functools import partial

from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.reactive import reactive
from textual.widgets import Static

from agentterm.models import Conversation, Message
from agentterm.store import Store
from agentterm.tui.keymap import key_label
from agentterm.tui.widgets.markdown_text import NoRelayout
from agentterm.tui.widgets.message import MessageView
from agentterm.tui.widgets.segments import SEGMENT_CHARS

WINDOW = 50
FIRST = 8
FIRST_CHARS = 8000
"""The first screenful: the newest messages up to about this much text (of a long answer: its end)."""
BATCH = 5
BATCH_CHARS = 6000
"""Each later step mounts about this much text at most, so none holds up a key for long."""
BATCH_PAUSE = 1 / 60
FILL_DELAY = 0.1
"""The rest of the window waits this long (seconds), so the first screenful is drawn at once."""
STREAM_KEEP = 6
COMPLETE_CHARS = 6_000
"""Of a long answer's start, this much is mounted in the background; the rest on scrolling up."""


def _batch_size(views: Iterable[MessageView], count: int, chars: int) -> int:
    """How many of `views` (in mounting order) make a batch: `count` of them, or fewer if long."""
    size = total = 0
    for view in views:
        if size == count or (size and total + view.mounted_chars > chars):
            break
        size += 1
        total += view.mounted_chars
    return size


def shown(messages: list[Message]) -> list[Message]:
    """The messages to show: a tool's result is in its call's block, not a message of its own."""
    called = {call.call_id for m in messages for call in m.tool_calls}
    if not called:
        return messages
    return [m for m in messages if not (m.role == "tool" and m.tool_call_id in called)]


class ChatView(NoRelayout, VerticalScroll, can_focus=True):
    """Mounts the newest WINDOW messages; scrolling to the top mounts the WINDOW before them.

    Opening a conversation costs the same for 10 messages as for 10,000: nothing outside the
    window is read or mounted.
    """

    show_jump: reactive[bool] = reactive(False)
    """True when the newest message is out of view: the pane offers a jump to it."""

    def __init__(self, store: Store, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.clock = clock
        self.conversation: Conversation | None = None
        self.agent_name: str | None = None
        self.has_earlier = False
        self.at_latest = True
        self._filling = False
        self._shows = 0  # each show() counts: one overtaken while it reads shows nothing
        self._last_size = Size(0, 0)

    @property
    def container_size(self) -> Size:
        # Hidden behind the dashboard the view has no size, and the first layout after it is
        # shown again anchors to the end from that: a frame scrolled past the end. The size it
        # had when last shown is the right one in all but a resized terminal.
        size = super().container_size
        return size if size else self._last_size

    @property
    def views(self) -> list[MessageView]:
        return list(self.query_children(MessageView))

    def view_for(self, message_id: int) -> MessageView | None:
        # From the end: it is asked for the streaming answer on every chunk, and that is last.
        for view in reversed(self.children):
            if isinstance(view, MessageView) and view.message_id == message_id:
                return view
        return None

    def _view(self, message: Message, last_prompt_id: int | None,
              tries: dict[int, list[int]] | None = None) -> MessageView:
        place = None
        numbers = (tries or {}).get(message.reply_to) if message.role == "assistant" else None
        if numbers and message.variant in numbers:
            place = (numbers.index(message.variant) + 1, len(numbers))
        view = MessageView(message, agent_name=self.agent_name, now=self.clock(),
                           last_prompt=message.id == last_prompt_id, place=place)
        start = getattr(self.conversation, "context_from", None)
        if start and message.id < start:
            view.add_class("-not-sent")  # dropped or summarised: kept here, no longer sent
        return view

    async def _tries(self, messages: list[Message]) -> dict[int, list[int]]:
        """The tries of each shown answer's prompt, where there are several (the header's "2/3")."""
        prompts = [m.reply_to for m in messages if m.role == "assistant" and m.reply_to is not None]
        return await self.app.astore.variants_of(prompts) if prompts else {}  # type: ignore[attr-defined]

    def _last_prompt_id(self, messages: list[Message]) -> int | None:
        if not self.at_latest:
            return None
        return next((m.id for m in reversed(messages) if m.role == "user"), None)

    async def show(self, conversation: Conversation | None, *, agent_name: str | None = None,
                   around: int | None = None) -> bool:
        """Show a conversation (None: an empty, new one), the newest window or around a message.

        Everything is read before anything shown goes: a slow or absent store server leaves
        the conversation on the screen as it was (the read's error is the caller's), never an
        empty pane. False when another show() began meanwhile (that one shows).
        """
        self._shows += 1
        showing = self._shows
        if conversation is None:
            self.conversation, self.agent_name = conversation, agent_name
            self.anchor(False)
            self.app.workers.cancel_group(self, "fill")
            self._filling = False
            await self.remove_children()
            self.has_earlier = False
            self.at_latest = True
            await self.mount(Static(
                f"Type a prompt below and press {key_label(self, 'chat.send')} to start.", classes="chat-empty"))
            self.show_jump = False
            return True
        astore = self.app.astore  # type: ignore[attr-defined]
        if around is not None:
            messages = await astore.messages_around(conversation.id, around, WINDOW)
            newest = await astore.latest_messages(conversation.id, 1)
            at_latest = bool(messages) and bool(newest) and messages[-1].id == newest[-1].id
            has_earlier = bool(messages) and bool(
                await astore.messages_before(conversation.id, messages[0].id, 1)
            )
        else:
            # One more than the window tells whether there are earlier ones, in the same
            # statement (on PostgreSQL a round trip less for each open).
            messages = await astore.latest_messages(conversation.id, WINDOW + 1)
            has_earlier = len(messages) > WINDOW
            messages = messages[-WINDOW:]
            at_latest = True
        tries = await self._tries(shown(messages))
        if showing != self._shows:
            return False  # another conversation was opened while this one was read: that one shows
        self.conversation, self.agent_name = conversation, agent_name
        self.has_earlier, self.at_latest = has_earlier, at_latest
        self.anchor(False)
        self.app.workers.cancel_group(self, "fill")
        self._filling = False
        last_prompt_id = self._last_prompt_id(messages)
        messages = shown(messages)
        await self.remove_children()
        views = [self._view(m, last_prompt_id, tries) for m in messages]
        if around is not None and (index := next(
                (i for i, m in enumerate(messages) if m.id == around), None)) is not None:
            # The match and its neighbours first, then the rest of the window around them.
            start, end = max(index - 2, 0), index + FIRST - 2
            await self.mount_all(views[start:end])
            target = views[index]
            target.add_class("-found")
            self.call_after_refresh(self.scroll_to_widget, target, animate=False, top=True)
            self.call_after_refresh(self._update_jump)
            self._fill(views[:start], keep=target, after=views[end:], mounted=views[start:end])
        else:
            # The newest screenful first, so the conversation opens at once; the rest of the
            # window is mounted above it in small batches while the user reads.
            first = views[-_batch_size(reversed(views), FIRST, FIRST_CHARS):] if views else []
            await self.mount_all(first)
            self.scroll_end(animate=False, immediate=False)
            self.anchor()
            self.show_jump = False
            self._fill(views[:len(views) - len(first)], mounted=first)
        return True

    async def shows_as_stored(self, conversation: Conversation) -> bool:
        """Whether what is shown is what the store holds for the newest window: nothing to show
        again (an answer of this app's own, written while the server was away, and read back)."""
        views = self.views
        if (not views or not self.at_latest or self.conversation is None
                or self.conversation.id != conversation.id
                or getattr(self.conversation, "context_from", None) != getattr(conversation, "context_from", None)):
            return False
        messages = shown((await self.app.astore.latest_messages(  # type: ignore[attr-defined]
            conversation.id, WINDOW))[-WINDOW:])

        def key(message: Message) -> tuple:
            return message.id, message.status, message.content, message.variant
        return [key(m) for m in messages[-len(views):]] == [key(v.message) for v in views]

    def _fill(self, before: list[MessageView], *, keep: MessageView | None = None,
              after: list[MessageView] | None = None, mounted: list[MessageView] | None = None) -> None:
        if before or after or any(view.unmounted for view in mounted or ()):
            self._filling = True
            fill = self._fill_batches(before, keep, after or [], mounted or [], delay=FILL_DELAY)
            self.run_worker(fill, group="fill", exclusive=True)

    async def _fill_batches(self, before: list[MessageView], keep: MessageView | None,
                            after: list[MessageView], mounted: Sequence[MessageView] = (), *,
                            delay: float = 0.0) -> None:
        """Mount views (and the starts of long answers) a little at a time, keeping the view still."""
        try:
            while delay and not super().container_size:
                await asyncio.sleep(BATCH_PAUSE)  # not laid out yet: its first frame comes first
            await asyncio.sleep(delay)
            while after:
                size = _batch_size(after, BATCH, BATCH_CHARS)
                batch, after = after[:size], after[size:]
                await self.mount_all(batch)
                await asyncio.sleep(BATCH_PAUSE)
                await self._complete(batch, keep)
            await self._complete(mounted, keep)
            while before:
                size = _batch_size(reversed(before), BATCH, BATCH_CHARS)
                batch, before = before[-size:], before[:-size]
                first = next(iter(self.query_children(MessageView)), None)
                if first is None or not await self._keeping_still(
                        keep, partial(self.mount_all, batch, before=first)):
                    return
                await self._complete(batch, keep)
        finally:
            self._filling = False

    async def _complete(self, views: Sequence[MessageView], keep: MessageView | None) -> None:
        """Mount the rest of long answers, the lowest first, up to COMPLETE_CHARS of each: the
        start of a huge one (a 4,000-row table) waits until the user scrolls up to it, so the
        layouts that follow (keys, resizes) cost what is near the screen, not the whole answer."""
        for view in reversed(views):
            budget = COMPLETE_CHARS
            while view.unmounted and view.parent is self and budget > 0:
                before = view.mounted_chars
                # A segment a step: one of a long table takes tens of milliseconds to lay out.
                if not await self._keeping_still(keep, partial(view.mount_earlier, SEGMENT_CHARS)):
                    return
                budget -= max(view.mounted_chars - before, 1)

    def complete_later(self, view: MessageView) -> None:
        """A streamed answer whose start was unmounted while it streamed (MessageView.STREAM_BODIES):
        mount some of it back in the background, as when a conversation opens."""
        if view.unmounted and view.parent is self and self.following and not self._filling:
            self._fill([], mounted=[view])

    def _start_near(self, scroll_y: float) -> MessageView | None:
        """A long answer whose unmounted start is within a screen of the view, if any."""
        height = max(self.size.height, 1)
        for view in self.query_children(MessageView):
            if view.unmounted and scroll_y - height <= view.virtual_region.y <= scroll_y + height:
                return view
        return None

    async def mount_earlier_part(self, view: MessageView) -> None:
        """Scrolled near a long answer's start: mount a little more of it, keeping the view still."""
        if not view.unmounted or self._filling:
            return
        self._filling = True
        try:
            bodies = view.bodies  # what is shown now stays where it is
            await self._keeping_still(bodies[0] if bodies else view,  # type: ignore[arg-type]
                                      partial(view.mount_earlier, SEGMENT_CHARS))
        finally:
            self._filling = False

    async def _keeping_still(self, keep: MessageView | None,
                             mount: Callable[[], Awaitable[object]]) -> bool:
        """Mount something above what is shown without moving it (unless following the end)."""
        first = next(iter(self.query_children(MessageView)), None)
        if first is None:
            return False
        following = self.following
        await mount()
        if not following:
            self.scroll_to_widget(keep or first, animate=False, top=True)
        await asyncio.sleep(BATCH_PAUSE)
        return True

    async def load_earlier(self) -> None:
        """Mount the window before the first message, keeping the view where it was."""
        if self._filling or not self.has_earlier or self.conversation is None:
            return
        first = next(iter(self.query_children(MessageView)), None)
        if first is None:
            return
        astore = self.app.astore  # type: ignore[attr-defined]
        earlier = await astore.messages_before(self.conversation.id, first.message_id, WINDOW + 1)
        self.has_earlier = len(earlier) > WINDOW  # one more: whether there are earlier still
        earlier = earlier[-WINDOW:]
        if earlier:
            self._filling = True
            earlier = shown(earlier)
            tries = await self._tries(earlier)
            await self._fill_batches([self._view(m, None, tries) for m in earlier], first, [])

    async def add_message(self, message: Message) -> MessageView:
        """Mount a new message at the end; the window first moves to the newest if it was not."""
        if not self.at_latest and self.conversation is not None:
            await self.show(self.conversation, agent_name=self.agent_name)
        await self.query(".chat-empty").remove()
        if message.role == "user":
            for view in self.query_children(MessageView):
                if view.last_prompt:
                    view.refresh_message(view.message, last_prompt=False)
        view = self._view(message, message.id if message.role == "user" else None)
        await self.mount(view)
        return view

    @property
    def following(self) -> bool:
        """At the bottom and staying there as content grows."""
        return self.is_anchored and not self._anchor_released

    async def trim(self, keep: int = STREAM_KEEP) -> None:
        """Unmount all but the newest `keep` messages (they load again on scrolling up).

        While an answer streams, every layout pass visits every mounted widget: fewer mounted,
        cheaper chunks.
        """
        views = self.views
        if len(views) <= keep:
            return
        self.app.workers.cancel_group(self, "fill")
        self._filling = False
        await self.remove_children(views[:-keep])
        self.has_earlier = True

    async def replace_turn(self, reply_to: int, rows: list[Message],
                           variants: list[int]) -> MessageView | None:
        """Show another try of the answer to `reply_to` in place of the one shown: only its
        views change (switching costs the same in a conversation of any length). The first new
        view, or None when the answer is not in the window."""
        old = [view for view in self.views
               if view.message.reply_to == reply_to and view.message.role != "user"]
        if not old:
            return None
        tries = {reply_to: variants} if len(variants) > 1 else {}
        new = [self._view(message, None, tries) for message in shown(rows)]
        if new:
            await self.mount_all(new, before=old[0])
        await self.remove_children(old)
        return new[0] if new else None

    async def remove_message(self, message_id: int) -> None:
        if (view := self.view_for(message_id)) is not None:
            await view.remove()

    def follow(self) -> None:
        """Stay at the bottom as the answer grows, until the user scrolls up."""
        self.anchor()

    async def jump_to_latest(self) -> None:
        if not self.at_latest and self.conversation is not None:
            await self.show(self.conversation, agent_name=self.agent_name)
        self.scroll_end(animate=False)
        self.anchor()
        self.show_jump = False

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._update_jump()
        if new_value < old_value and not self._filling and (near := self._start_near(new_value)):
            self.run_worker(self.mount_earlier_part(near), group="earlier", exclusive=True)
        elif new_value <= 0 and self.has_earlier and self.max_scroll_y > 0:
            self.run_worker(self.load_earlier(), group="earlier", exclusive=True)

    def _update_jump(self) -> None:
        following = self.is_anchored and not self._anchor_released
        self.show_jump = not self.at_latest or (not following and self.scroll_y < self.max_scroll_y - 1)

    def update_jump(self) -> None:
        """Recheck after the content grew: growth alone moves no scroll position."""
        self._update_jump()

    def on_resize(self) -> None:
        if super().container_size:
            self._last_size = super().container_size
        if self.following:
            # Shown in place of the dashboard, this view had no size when its first layout
            # anchored it, so that layout scrolled past the end: lay out again with the real size.
            self.refresh(layout=True)
        self._update_jump()

    def action_scroll_end(self) -> None:
        if self.at_latest:
            super().action_scroll_end()
            self.anchor()
        else:
            self.run_worker(self.jump_to_latest(), group="jump", exclusive=True)

    def action_scroll_home(self) -> None:
        super().action_scroll_home()
        if self.has_earlier:
            self.run_worker(self.load_earlier(), group="earlier", exclusive=True)
