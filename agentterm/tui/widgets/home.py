"""The dashboard shown when no conversation is open: counts, quick actions, agents, recent chats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from agentterm.humanize import count, relative_time
from agentterm.sanitize import one_line
from agentterm.store import Store
from agentterm.tui.keymap import key_label
from agentterm.tui.widgets.conversation_list import ConversationList

AGENT_BADGES = {"active": ("active", "$text-success"), "paused": ("paused", "bold $text-warning"),
                "inactive": ("retired", "$text-muted")}
QUICK_ACTIONS = [  # (label, action, the id of the binding whose live key is shown)
    ("New chat", "screen.new_conversation", "app.new_conversation"),
    ("Agents", "app.agents", "app.agents"),
    ("Search", "screen.focus_filter", "app.search"),
    ("Help", "app.help", "app.help"),
]


# The title (app.tcss gave it $text-accent and a blank line under it) and the agents' heading
# (the screen's colour, not the agents' lines' $text).
TITLE = Content.assemble(("agentterm", "bold $text-accent"), "\n\n")
AGENTS_HEADING = Content.assemble(("Agents", "bold $foreground"), "\n")


def _number(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_number(v) for v in value.values())
    return int(value or 0)


class QuickAction(Widget, can_focus=True):
    """A compact Button that runs an action, drawn and pressed as Textual's (enter, a click).

    Button brings a 7 KB stylesheet for its variants (8.6 ms of parsing before the first frame,
    docs/performance.md, start-up); these are the rules a compact default Button uses.
    """

    DEFAULT_CSS = """
    QuickAction {
        width: auto;
        min-width: 16;
        height: auto;
        line-pad: 1;
        text-align: center;
        content-align: center middle;
        pointer: pointer;
        text-style: bold;
        color: $button-foreground;
        background: $surface;
        &:focus {
            text-style: $button-focus-text-style;
            background-tint: $foreground 5%;
        }
        &:hover {
            background: $surface-darken-1;
        }
        &.-active {
            background: $surface;
            tint: $background 30%;
        }
        &:ansi {
            background: ansi_default;
            &:hover {
                background: $ansi-background;
            }
            &.-active {
                background: $ansi-background;
                tint: transparent;
            }
        }
    }
    """
    BINDINGS = [Binding("enter", "press", "Press button", show=False)]
    ALLOW_SELECT = False

    def __init__(self, label: Content, action: str) -> None:
        super().__init__()
        self.label = label
        self.action = action

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max((len(line) for line in self.label.plain.splitlines()), default=0) + 2

    def render(self) -> Content:
        return self.label

    def on_click(self, event) -> None:
        event.stop()
        self.action_press()

    def action_press(self) -> None:
        if self.has_class("-active") or self.disabled or not self.display:
            return
        self.add_class("-active")  # Button's press effect, for as long
        self.set_timer(0.2, lambda: self.remove_class("-active"))
        self.call_later(self.app.run_action, self.action, default_namespace=self.parent)


class Home(VerticalScroll):
    """Read only from the store's cheap aggregates: it never loads a message body."""

    def __init__(self, store: Store, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.clock = clock

    def compose(self) -> ComposeResult:
        # The title with the counts, and a heading with its lines, each one Static: two widgets
        # fewer in the first frame, the same cells (docs/performance.md, start-up).
        yield Static(id="home-counts")
        with Horizontal(id="home-actions"):
            for label, action, binding_id in QUICK_ACTIONS:
                yield QuickAction(Content(f"{label}  {key_label(self, binding_id)}"), action)
        yield Static(id="home-agents", classes="home-heading")
        yield Static(Content.from_markup("[b]Recent conversations[/b]"), classes="home-heading")
        yield OptionList(id="home-recent")

    def on_mount(self) -> None:
        self.refresh_home()

    def refresh_home(self) -> None:
        viewer = getattr(self.app, "viewer", None)  # the local user: other users' are not shown
        stats = self.store.stats(owner=viewer)
        agents = stats.get("agents", {})
        by_status = agents if isinstance(agents, dict) else {}
        parts: list[str | tuple[str, str]] = []
        for label, value in (("agent", agents), ("conversation", stats.get("conversations")),
                             ("message", stats.get("messages")), ("token", stats.get("tokens"))):
            if parts:
                parts.append((" · ", "$text-muted"))
            number = _number(value)
            parts += [(count(number), "bold"), f" {label}{'' if number == 1 else 's'}"]
        for label, value in (("archived", stats.get("archived")), ("in the trash", stats.get("trashed"))):
            if number := _number(value):
                parts += [(" · ", "$text-muted"), (count(number), "bold"), f" {label}"]
        self.query_one("#home-counts", Static).update(Content.assemble(TITLE, *parts))
        agent_line = " · ".join(f"{count(_number(n))} {AGENT_BADGES.get(status, (status,))[0]}"
                                for status, n in by_status.items() if n)
        parts = [(agent_line + "\n", "$text-muted")] if agent_line else []
        for agent in self.store.list_agents(owner=viewer):
            label, style = AGENT_BADGES.get(agent.status, (agent.status, ""))
            parts += [one_line(agent.name, 40), " ", (f"[{label}]", style), "   "]
        self.query_one("#home-agents", Static).update(Content.assemble(
            AGENTS_HEADING, *(parts or [f"No agents: {key_label(self, 'app.agents')} to create one."])))
        now = self.clock()
        recent = self.store.list_conversations(view="inbox", limit=8, owner=viewer)
        options = [
            Option(Content.assemble(
                one_line(c.display_title, 60), ("  " + (one_line(c.agent_name, 30) if c.agent_name else "no agent"), "$text-muted"),
                ("  " + relative_time(c.last_activity_at, now), "$text-muted"),
            ), id=f"c:{c.id}")
            for c in recent
        ]
        recent_list = self.query_one("#home-recent", OptionList)
        recent_list.set_options(options or [Option(Content(f"None yet: {key_label(self, 'app.new_conversation')} starts one."), disabled=True)])

    @on(OptionList.OptionSelected, "#home-recent")
    def _open(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(ConversationList.ConversationSelected(int(event.option.id[2:])))
