"""The sidebar: a title filter, inbox / archive / trash tabs, and one OptionList of conversations."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from agentterm.models import Conversation, SearchHit
from agentterm.sanitize import one_line
from agentterm.store import SNIPPET_CLOSE, SNIPPET_OPEN, Store
from agentterm.tui.keymap import key_label
from agentterm.tui.widgets.fields import TextField
from agentterm.tui.widgets.guard import store_guarded
from agentterm.tui.widgets.letter_keys import LetterKeys
from agentterm.tui.widgets.sidebar_rows import RowPrompts, fit
from agentterm.tui.widgets.view_tabs import ViewTabs

VIEWS = ("inbox", "archive", "trash")
# Rows read at a time; the next page comes when the highlight or the scroll nears the end. A
# filter keystroke over 10,000 conversations lays out 50 rows, not 200 (bench/sidebar.py).
PAGE = 50
# How long a filter keystroke's frame waits for its rows: the typed letter and the rows it lists
# are then one frame (see ConversationList._hold_frame); a slower store shows the letter first.
HOLD = 0.05


def split_filter(text: str) -> tuple[list[str], str]:
    """The filter's `#tag` words (each must be on the conversation, ignoring case) and the
    rest, the title text: "#python async" lists Python-tagged conversations titled "async"."""
    tags, words = [], []
    for word in text.split():
        if word.startswith("#") and len(word) > 1:
            tags.append(word[1:])
        else:
            words.append(word)
    return tags, " ".join(words)


def snippet_parts(snippet: str) -> list[tuple[str, str]]:
    """A search snippet with the store's match marks turned into highlighting."""
    parts: list[tuple[str, str]] = []
    for index, piece in enumerate(re.split(f"[{SNIPPET_OPEN}{SNIPPET_CLOSE}]", snippet)):
        if piece:
            parts.append((piece, "bold $text-accent" if index % 2 else "$text-muted"))
    return parts


class ConversationOptions(LetterKeys, OptionList):
    """The list itself; its keys act on the highlighted conversation (see LetterKeys)."""

    LETTER_PLACE = "The sidebar list"

    BINDINGS = [
        Binding("r", "request('rename')", "Rename", id="sidebar.rename"),
        Binding("d,delete", "request('delete')", "Delete", id="sidebar.delete"),
        Binding("a", "request('archive')", "Archive", id="sidebar.archive"),
        Binding("p", "request('pin')", "Pin", id="sidebar.pin"),
        Binding("u", "request('restore')", "Restore", id="sidebar.restore"),
        Binding("t", "request('tags')", "Tags", id="sidebar.tags"),
    ]

    def action_request(self, action: str) -> None:
        sidebar = self.parent
        if isinstance(sidebar, ConversationList) and (cid := sidebar.highlighted_id) is not None:
            self.post_message(ConversationList.ActionRequested(action, cid))

    def on_mouse_scroll_down(self) -> None:
        # The wheel moves no highlight: near the end of the rows, read the next page.
        if self.scroll_target_y >= self.max_scroll_y - self.scrollable_content_region.height:
            self.call_later(self.parent.load_more)


class FilterField(TextField):
    """The title filter: each change holds the screen's next frame until its rows arrive."""

    def watch_value(self, value: str) -> None:
        sidebar = self.parent
        if isinstance(sidebar, ConversationList):
            sidebar._hold_frame()


class InlineRename(TextField):
    """The title field laid over a sidebar row: enter saves, escape or leaving it cancels."""

    DEFAULT_CSS = """
    InlineRename, InlineRename:focus {
        position: absolute;
        width: 100%;
        height: 1;
        border: none;
        padding: 0 1;
        background: $primary-muted;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, conversation_id: int, title: str, return_to: Widget | None = None) -> None:
        # The title is selected: typing replaces it, as in any rename, and is never appended.
        super().__init__(value=title, select_on_focus=True)
        self.conversation_id = conversation_id
        self.return_to = return_to
        """Where the focus was before (the prompt, say): it goes back there, not to the list."""
        self.done = False

    def action_cancel(self) -> None:
        self.finish(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.finish(event.value)

    def on_blur(self) -> None:
        self.finish(None, refocus=False)  # the focus went somewhere on purpose (a click): leave it

    def finish(self, title: str | None, *, refocus: bool = True) -> None:
        if self.done:
            return
        self.done = True
        sidebar = self.parent
        if title is not None and title.strip() and isinstance(sidebar, ConversationList):
            sidebar.post_message(ConversationList.RenameSubmitted(self.conversation_id, title.strip()))
        if refocus and isinstance(sidebar, ConversationList):
            back = self.return_to
            if back is None or not back.is_attached or back.screen is not self.screen or not back.focusable:
                back = sidebar.options
            back.focus()
        self.remove()


class ConversationList(Vertical):
    """Lists conversations without reading a message body; search shows hits in the same list."""

    @dataclass
    class ConversationSelected(Message):
        """Open this conversation; at `message_id` when it came from a search hit."""

        conversation_id: int
        message_id: int | None = None

    @dataclass
    class ActionRequested(Message):
        """Rename, delete, archive, pin, restore or tag the conversation."""

        action: str
        conversation_id: int

    @dataclass
    class RenameSubmitted(Message):
        """The inline rename field was confirmed with this title."""

        conversation_id: int
        title: str

    def __init__(self, store: Store, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.clock = clock
        self.view = "inbox"
        self.conversations: list[Conversation] = []
        self.hits: list[SearchHit] | None = None
        self.streaming_id: int | None = None
        self.open_id: int | None = None
        self._listed: tuple[str, str] | None = None  # the view and filter the rows are for
        self._more = False  # whether a page beyond the rows listed may hold more
        self._loading_more = False
        self._generation = 0  # each new read of the list or search; older answers are dropped
        self._frame_hold: ExitStack | None = None
        self._hold_timer: Timer | None = None
        self._prompts = RowPrompts()  # what a row shows -> its prompt, reused

    def compose(self) -> ComposeResult:
        yield FilterField(placeholder="Filter titles; enter searches text", id="filter")
        yield ViewTabs(("inbox", "Inbox"), ("archive", "Archive"), ("trash", "Trash"), id="views")
        yield ConversationOptions(id="conversations")

    @property
    def options(self) -> ConversationOptions:
        return self.query_one(ConversationOptions)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#filter", Input)

    @property
    def highlighted_id(self) -> int | None:
        """The highlighted conversation, or the conversation of the highlighted search hit."""
        option = self.options.highlighted_option
        if option is not None and option.id and option.id.startswith("c:"):
            return int(option.id[2:])
        if option is not None and option.id and option.id.startswith("h:") and self.hits is not None:
            return self.hits[int(option.id[2:])].conversation_id
        return None

    def refresh_list(self, *, keep: int | None = None) -> None:
        """Read the list again (titles, order, badges) and keep the highlight where it was.

        The store is read off the event loop: the rows change when it answers, and a store
        locked by another program holds up no key meanwhile.
        """
        if keep is None:
            # With focus, the user's highlight stays put; otherwise the open conversation is shown.
            keep = (self.highlighted_id or self.open_id) if self.options.has_focus else (
                self.open_id or self.highlighted_id)
        query = self.filter_input.value.strip() if self.is_mounted else ""
        self.hits = None
        # The same list again keeps the pages the user has scrolled through; a new one starts anew.
        same = self._listed == (self.view, query)
        limit = max(PAGE, len(self.conversations)) if same else PAGE
        self._generation += 1
        self._read_page(self._generation, self.view, query, limit, 0, keep)

    @work(group="sidebar-list", exit_on_error=False)
    @store_guarded
    async def _read_page(self, generation: int, view: str, query: str, limit: int, offset: int,
                         keep: int | None) -> None:
        tags, title = split_filter(query)
        rows = await self.app.astore.list_conversations(view=view, query=title or None, tag=tags,  # type: ignore[attr-defined]
                                                        limit=limit, offset=offset, owner=self.app.viewer)  # type: ignore[attr-defined]
        self.post_message(self.PageRead(generation, view, query, limit, offset, rows, keep))

    def _hold_frame(self) -> None:
        """Hold the screen's repaints from a filter keystroke until its rows are shown (HOLD at most).

        The rows come from the store's thread a few milliseconds after the key. Painted at once,
        the typed letter took the screen's update slot, and Textual's update timer then put the
        rows' frame one to two frame periods (17-33 ms) later: one frame showing both is sooner.
        The hold begins as the value changes, before the screen hears of it (a hold begun at
        Input.Changed comes after the screen has scheduled the letter's frame, and saves nothing).
        """
        if self._frame_hold is not None or not self.is_mounted:
            return
        hold = ExitStack()
        hold.enter_context(self.app.batch_update())
        self._frame_hold = hold
        self._hold_timer = self.set_timer(HOLD, self._release_frame)

    def _release_frame(self) -> None:
        hold, self._frame_hold = self._frame_hold, None
        if hold is None:
            return
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
        hold.close()
        self.screen.check_idle()  # what came in meanwhile is painted now, in one frame

    def on_unmount(self) -> None:
        self._release_frame()

    @dataclass
    class PageRead(Message, bubble=False):
        """Rows of the list arrived from the store (offset 0: the whole list anew)."""

        generation: int
        view: str
        query: str
        limit: int
        offset: int
        rows: list[Conversation]
        keep: int | None

    def on_conversation_list_page_read(self, event: PageRead) -> None:
        if event.generation != self._generation:
            return  # the user has moved on: another read (or a search) is on its way
        try:
            self._show_page(event)
        finally:
            self._release_frame()

    def _show_page(self, event: PageRead) -> None:
        if event.offset:
            if event.offset != len(self.conversations):
                return
            self._add_page(event.rows)
            return
        self._listed = (event.view, event.query)
        self.conversations = event.rows
        self._more = len(self.conversations) == event.limit
        now = self.clock()
        width = max(self.options.content_size.width - 2, 20)
        rows: list[tuple[str | None, Content]] = [(f"c:{c.id}", self._prompt(c, now, width))
                                                  for c in self.conversations]
        if not rows:
            empty = {"inbox": f"No conversations yet: {key_label(self, 'app.new_conversation')} starts one.",
                     "archive": "Nothing archived.", "trash": "The trash is empty."}[self.view]
            if event.query:
                tags, title = split_filter(event.query)
                empty = ("No conversation has " + " and ".join(f"#{one_line(t)}" for t in tags)
                         + (" with that in its title." if title else ".")) if tags else \
                    "No title matches; enter searches the text."
            rows = [(None, self._prompts.empty(empty))]
        if self._showing(rows):
            # The rows on screen already (the next letter of a filter often lists the same ones):
            # set again, the list would be measured and drawn anew for the same frame.
            self._highlight(event.keep)
            return
        self.options.set_options([Option(prompt, id=option_id, disabled=option_id is None)
                                  for option_id, prompt in rows])
        self._highlight(event.keep)

    def _showing(self, rows: list[tuple[str | None, Content]]) -> bool:
        """Whether the list holds these rows (ids and the very prompts) and is not scrolled.

        A width change needs no check: the OptionList measures its rows again on a resize.
        """
        options = self.options
        if options.option_count != len(rows) or options.scroll_y:
            return False
        for index, (option_id, prompt) in enumerate(rows):
            option = options.get_option_at_index(index)
            if option.id != option_id or option.prompt is not prompt:
                return False
        return True

    def _add_page(self, page: list[Conversation]) -> None:
        self._more = len(page) == PAGE
        self._loading_more = False
        if page:
            now = self.clock()
            width = max(self.options.content_size.width - 2, 20)
            self.conversations = self.conversations + page
            self.options.add_options([Option(self._prompt(c, now, width), id=f"c:{c.id}") for c in page])

    def load_more(self) -> bool:
        """Ask for the next page of rows; False when there is none (or search hits are shown)."""
        if self.hits is not None or not self._more or self._listed is None or self._loading_more:
            return False
        view, query = self._listed
        self._loading_more = True
        self._read_more(self._generation, view, query, len(self.conversations))
        return True

    @work(group="sidebar-more", exit_on_error=False)
    @store_guarded
    async def _read_more(self, generation: int, view: str, query: str, offset: int) -> None:
        try:
            tags, title = split_filter(query)
            rows = await self.app.astore.list_conversations(view=view, query=title or None, tag=tags,  # type: ignore[attr-defined]
                                                            limit=PAGE, offset=offset, owner=self.app.viewer)  # type: ignore[attr-defined]
        finally:
            self._loading_more = False
        self.post_message(self.PageRead(generation, view, query, PAGE, offset, rows, None))

    @on(OptionList.OptionHighlighted, "#conversations")
    @store_guarded
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self.hits is None and event.option_index >= len(self.conversations) - 3:
            self.load_more()

    def start_rename(self, conversation_id: int) -> bool:
        """Edit the title in place, over its row; False when the row is not on screen."""
        ids = [c.id for c in self.conversations]
        if not self.display or self.hits is not None or conversation_id not in ids:
            return False
        index = ids.index(conversation_id)
        options = self.options
        options.highlighted = index
        options.scroll_to_highlight()
        line = options._index_to_line.get(index) if hasattr(options, "_index_to_line") else None
        if line is None:
            return False
        row = line - round(options.scroll_offset.y)
        if not 0 <= row < options.scrollable_content_region.height:
            return False
        field = InlineRename(conversation_id, self.conversations[index].title, self.screen.focused)
        field.styles.offset = (0, options.content_region.y - self.content_region.y + row)
        self.mount(field)
        field.focus()
        return True

    def _highlight(self, conversation_id: int | None) -> None:
        ids = [c.id for c in self.conversations]
        if conversation_id in ids:
            self.options.highlighted = ids.index(conversation_id)
        elif ids:
            self.options.highlighted = 0

    def _prompt(self, conversation: Conversation, now: datetime, width: int) -> Content:
        return self._prompts.row(conversation, now, width, streaming=conversation.id == self.streaming_id,
                                 bold=conversation.id == self.open_id)

    def show_search(self, query: str) -> None:
        """Full-text search over every message; each hit opens its conversation at the match."""
        self._generation += 1
        self._search(self._generation, query)

    @work(group="sidebar-list", exit_on_error=False)
    @store_guarded
    async def _search(self, generation: int, query: str) -> None:
        hits = await self.app.astore.search(query, owner=self.app.viewer)  # type: ignore[attr-defined]
        self.post_message(self.HitsFound(generation, query, hits))

    @dataclass
    class HitsFound(Message, bubble=False):
        generation: int
        query: str
        hits: list[SearchHit]

    def on_conversation_list_hits_found(self, event: HitsFound) -> None:
        if event.generation != self._generation:
            return
        query = event.query
        self.hits = event.hits
        width = max(self.options.content_size.width - 2, 20)
        options: list[Option] = [Option(Content.assemble(
            (f"{len(self.hits)} match(es) for ", "$text-muted"), (fit(one_line(query), width - 16), "bold"),
        ), disabled=True)]
        for index, hit in enumerate(self.hits):
            options.append(Option(Content.assemble(
                (fit(one_line(hit.conversation_title or "New conversation"), width), "bold"), "\n",
                *snippet_parts(fit(one_line(hit.snippet), width)),
            ), id=f"h:{index}"))
        self.options.set_options(options)
        self.options.highlighted = 1 if self.hits else None
        self.options.focus()

    def neighbour(self, conversation_id: int | None, step: int) -> int | None:
        """The conversation before (-1) or after (+1) this one in the sidebar order."""
        ids = [c.id for c in self.conversations]
        if not ids:
            return None
        if conversation_id not in ids:
            return ids[0] if step > 0 else ids[-1]
        index = ids.index(conversation_id) + step
        if index == len(ids):
            self.load_more()  # the next page arrives shortly; the key after it gets there
            return None
        return ids[index] if 0 <= index < len(ids) else None

    def set_view(self, view: str) -> None:
        self.query_one(ViewTabs).active = view

    @on(ViewTabs.Activated, "#views")
    @store_guarded
    def _view_changed(self, event: ViewTabs.Activated) -> None:
        event.stop()
        if event.tab_id in VIEWS and event.tab_id != self.view:
            self.view = event.tab_id
            self.refresh_list()

    @on(Input.Changed, "#filter")
    @store_guarded
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.refresh_list()

    @on(Input.Submitted, "#filter")
    @store_guarded
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        tags, text = split_filter(event.value)
        if text:
            self.show_search(text)  # every message's text; the #tags filter titles only
        elif tags:
            self.options.focus()

    def on_key(self, event) -> None:
        if event.key == "escape" and (self.filter_input.value or self.hits is not None):
            event.stop()
            self.filter_input.value = ""
            self.refresh_list()
            self.options.focus()

    @on(OptionList.OptionSelected, "#conversations")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id or ""
        if option_id.startswith("c:"):
            self.post_message(self.ConversationSelected(int(option_id[2:])))
        elif option_id.startswith("h:") and self.hits is not None:
            hit = self.hits[int(option_id[2:])]
            self.post_message(self.ConversationSelected(hit.conversation_id, hit.message_id))

    @store_guarded
    def on_resize(self) -> None:
        if self.hits is None and self.conversations:
            self.refresh_list()
