"""The header over the chat: title, agent and its status, model, context meter, cost, fork link.

The header is one Static (two lines for a fork) that draws a HeaderState; ChatPane feeds it
(HeaderFeed, mixed into the pane): the names at once, the meter from one aggregate statement
run off the event loop (Store.context_size: no message body is read).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from textual import work
from textual.content import Content
from textual.css.query import NoMatches
from textual.message import Message as TextualMessage
from textual.widget import Widget

from agentterm.sanitize import one_line

# The agent's status in the words of the product (PRODUCT.md).
STATUS_WORDS = {"active": "active", "paused": "paused", "inactive": "retired"}
METER_CELLS = 8


@dataclass
class HeaderState:
    title: str = ""
    agent: str | None = None
    status: str | None = None
    """"active", "paused", "retired", "deleted" or None (no agent)."""
    model: str | None = None
    model_overridden: bool = False
    used: int | None = None
    window: int | None = None
    estimated: bool = False
    level: str = "ok"
    cost: float | None = None
    parent_title: str | None = None
    """For a fork: its parent's title ("" when the parent was purged); None: not a fork."""
    conversation_id: int | None = None


def short(number: int) -> str:
    """950, 1.2k, 128k, 1.0M: a meter has no room for every digit."""
    if number < 1000:
        return str(number)
    if number < 10_000:
        return f"{number / 1000:.1f}".removesuffix(".0") + "k"
    if number < 1_000_000:
        return f"{number // 1000}k"
    return f"{number / 1_000_000:.1f}M"


def meter_text(used: int, window: int | None, level: str, estimated: bool, *, label: bool = True) -> Content:
    """"context ▰▰▱▱▱▱▱▱▱▱ 1.2k / 128k 9%": amber at NEAR_LIMIT, red over the window."""
    style = {"near": "$warning", "over": "$error"}.get(level, "")
    approx = "~" if estimated else ""
    if not window:
        return Content.assemble(("context " if label else "", "dim"), (f"{approx}{short(used)} tokens", style))
    share = used / window
    full = min(METER_CELLS, round(share * METER_CELLS))
    bar = "▰" * full + "▱" * (METER_CELLS - full)
    return Content.assemble(
        ("context " if label else "", "dim"), (bar, style or "$accent"),
        (f" {approx}{short(used)}/{short(window)} {min(share, 9.99):.0%}", style))


class ChatHeader(Widget):
    """Names and models from files and servers are plain text here, never markup.

    One line: the title, agent and model on the left (cut with an ellipsis when narrow), the
    meter and cost on the right; a fork has a second line with its parent and a way back.
    """

    DEFAULT_CSS = """
    ChatHeader { height: auto; }
    """

    @dataclass
    class Clicked(TextualMessage):
        """A part of the header was clicked: "rename", "model" or "open_parent"."""

        part: str

    state: HeaderState | None = None

    def show(self, state: HeaderState) -> None:
        fork = (self.state.parent_title is not None) if self.state else False
        self.state = dataclasses.replace(state)  # a copy: the feed goes on changing its own
        self.set_class(state.level == "near", "-near")
        self.set_class(state.level == "over", "-over")
        self.refresh(layout=fork != (state.parent_title is not None))

    def on_mount(self) -> None:
        # Mounted after the pane had things to show (start-up may mount it after the first
        # frame): draw what the pane holds now.
        feed = next((node for node in self.ancestors if isinstance(node, HeaderFeed)), None)
        if feed is not None:
            feed._draw_header()

    def get_content_height(self, container, viewport, width: int) -> int:
        return 2 if self.state is not None and self.state.parent_title is not None else 1

    def left(self) -> Content:
        state = self.state or HeaderState()
        title = Content(one_line(state.title or "New conversation", 80)).stylize("bold")
        parts: list[str | tuple[str, str] | Content] = [title.stylize("@click=header('rename')")]
        if state.agent:
            parts += [(" · ", "dim"), Content(one_line(state.agent, 40))]
            if state.status:
                parts.append((f" ({state.status})", "dim" if state.status == "active" else "$warning"))
        else:
            parts += [(" · ", "dim"), ("no agent", "dim")]
        model = Content(one_line(state.model, 40) if state.model else "model not set")
        if state.model_overridden:
            model = Content.assemble(model, (" (this chat)", "dim"))
        parts += [(" · ", "dim"), model.stylize("@click=header('model')")]
        return Content.assemble(*parts)

    def right(self, *, label: bool = True) -> Content:
        state = self.state or HeaderState()
        parts: list[str | tuple[str, str] | Content] = []
        if state.used is not None:
            parts.append(meter_text(state.used, state.window, state.level, state.estimated, label=label))
        if state.cost is not None:
            parts += [(" · ", "dim"), f"${state.cost:.4f}" if state.cost < 1 else f"${state.cost:.2f}"]
        return Content.assemble(*parts)

    def render(self) -> Content:
        width = max(self.size.width, 1)
        left, right = self.left(), self.right()
        if left.cell_length + right.cell_length + 2 > width:
            right = self.right(label=False)  # narrow: the bar and figures say what they are
        room = width - right.cell_length - 2
        if room < 12:  # too narrow for both: the meter alone is what cannot be had elsewhere
            line = right if right.cell_length <= width else left
            line = line.truncate(width, ellipsis=True)
        else:
            left = left.truncate(room, ellipsis=True)
            line = Content.assemble(left, " " * (width - left.cell_length - right.cell_length), right)
        state = self.state
        if state is None or state.parent_title is None:
            return line
        parent = one_line(state.parent_title, 60) if state.parent_title else "a purged conversation"
        fork = [("forked from ", "dim"), Content(parent).stylize("italic")]
        if state.parent_title:
            fork.append(Content.from_markup("  [@click=header('open_parent')]\\[back to it][/]"))
        return Content.assemble(line, "\n", Content.assemble(*fork).truncate(width, ellipsis=True))

    def action_header(self, part: str) -> None:
        self.post_message(self.Clicked(part))


@dataclass
class Measured(TextualMessage):
    number: int
    conversation_id: int
    used: int
    window: int | None
    estimated: bool
    level: str
    cost: float | None
    parent_title: str | None


class HeaderFeed:
    """Mixed into ChatPane: what the header shows, from the pane's conversation and agent."""

    conversation: object
    agent: object
    client: object
    _header_state: HeaderState | None = None

    def next_model(self) -> tuple[str | None, str | None, bool]:
        """(provider, model) the next answer uses, and whether the conversation chose them."""
        conversation, agent = self.conversation, self.agent
        own_provider = getattr(conversation, "provider", None)
        own_model = getattr(conversation, "model", None)
        provider = own_provider or (agent.provider if agent else None)
        model = own_model or (agent.model if agent else None)
        try:
            model = self.client.resolve_model(provider, model)
        except Exception:  # noqa: BLE001 - an unknown provider shows its name as given
            pass
        return provider, model, bool(own_model or own_provider)

    def show_header(self, *, agent: str | None, status: str | None) -> None:
        conversation = self.conversation
        provider, model, overridden = self.next_model()
        previous = self._header_state
        state = HeaderState(
            title=getattr(conversation, "title", "") or "", agent=agent, status=status,
            model=model, model_overridden=overridden,
            conversation_id=getattr(conversation, "id", None),
        )
        if previous is not None and state.conversation_id is not None \
                and previous.conversation_id == state.conversation_id:
            # The meter stays as it was until the new figures are in: no flicker to nothing.
            state.used, state.window, state.estimated = previous.used, previous.window, previous.estimated
            state.level, state.cost = previous.level, previous.cost
            state.parent_title = previous.parent_title
        self._header_state = state
        self._draw_header()
        if conversation is not None:
            self._measures = getattr(self, "_measures", 0) + 1
            self._measure(self._measures, conversation, provider, model)

    def _draw_header(self) -> None:
        try:
            header = self.query_one(ChatHeader)  # type: ignore[attr-defined]
        except NoMatches:
            return  # not mounted yet (perf may mount the pane after the first frame)
        if self._header_state is not None:
            header.show(self._header_state)

    # Not exclusive (a cancelled worker fails a wait for the pane's workers): a reading older than
    # the latest asked for is dropped when it arrives instead.
    @work(group="header-meter", exit_on_error=False)
    async def _measure(self, number: int, conversation, provider: str | None, model: str | None) -> None:
        from agentterm.engine.context import cost, measure, window_for

        astore = self.app.astore  # type: ignore[attr-defined]
        settings = getattr(self.client, "settings", None)
        size = await astore.context_size(conversation.id)
        instructions = conversation.instructions_override
        if instructions is None and self.agent is not None:
            instructions = self.agent.instructions
        meter = measure(size, instructions=instructions, window=window_for(settings, provider, model))
        spent = None
        if _priced(settings):
            spent = 0.0
            for row in await astore.usage_by_model(conversation.id):
                part = cost(settings, provider, row["model"], row["prompt"], row["completion"])
                spent += part or 0.0
        parent_title = None
        if conversation.parent_id is not None or conversation.forked_from_message_id is not None:
            parent = await astore.get_conversation(conversation.parent_id) if conversation.parent_id else None
            parent_title = parent.display_title if parent is not None else ""
        self.post_message(Measured(number, conversation.id, meter.used, meter.window, meter.estimated,  # type: ignore[attr-defined]
                                   meter.level, spent, parent_title))

    def on_measured(self, event: Measured) -> None:
        event.stop()
        state = self._header_state
        if event.number != getattr(self, "_measures", 0):
            return  # a newer reading is on its way
        if state is None or state.conversation_id != event.conversation_id:
            return  # another conversation is open now
        state.used, state.window, state.estimated = event.used, event.window, event.estimated
        state.level, state.cost, state.parent_title = event.level, event.cost, event.parent_title
        self._draw_header()


def _priced(settings) -> bool:
    for provider in getattr(settings, "providers", {}).values():
        if provider.input_price is not None or provider.output_price is not None:
            return True
        if any("input_price" in m or "output_price" in m for m in provider.models.values()):
            return True
    return False
