"""The new-conversation picker: choose an agent, or none, typing to filter."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static, Switch
from textual.widgets.option_list import Option
from rich.text import Text

from agentterm.models import Agent
from agentterm.sanitize import one_line
from agentterm.tui.widgets.fields import TextField
from agentterm.tui.widgets.guard import report, store_guarded

PickerResult = tuple[str, int | None]

BADGE_STYLES = {"active": "green", "paused": "bold yellow", "inactive": "dim"}
BADGE_LABELS = {"active": "active", "paused": "paused", "inactive": "retired"}
NO_AGENT_WORDS = "no agent general chat"


def status_badge(status: str) -> Text:
    """The status as a short coloured word: the same badge everywhere agents are listed."""
    return Text(f"[{BADGE_LABELS.get(status, status)}]", style=BADGE_STYLES.get(status, ""))


def agent_prompt(agent: Agent, *, default: bool = False, mark: str = "default") -> Text:
    """One option line: name, badge, a default mark and the description, all as plain text."""
    text = Text(one_line(agent.name), style="bold")
    text.append(" ")
    text.append_text(status_badge(agent.status))
    if default:
        text.append(f" ({mark})", style="italic")
    if agent.description:
        text.append("  " + one_line(agent.description), style="dim")
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


class AgentPickerScreen(ModalScreen[PickerResult | None]):
    """Dismisses with ("agent", id), ("none", None) for a general chat, or None when cancelled."""

    DEFAULT_CSS = """
    AgentPickerScreen {
        align: center middle;
    }
    AgentPickerScreen > #picker {
        width: 72;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    AgentPickerScreen #picker-title {
        text-style: bold;
        margin-bottom: 1;
    }
    AgentPickerScreen #picker-agents {
        height: auto;
        max-height: 12;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    AgentPickerScreen #picker-bar {
        height: auto;
        margin-top: 1;
    }
    AgentPickerScreen #picker-bar Label {
        padding: 1 1 0 1;
    }
    AgentPickerScreen #picker-hint {
        color: $text-muted;
        width: 1fr;
        padding: 1 0 0 0;
        text-align: right;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("ctrl+t", "toggle_inactive", "Show retired", id="picker.toggle_inactive"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
        Binding("pagedown", "move(8)", show=False),
        Binding("pageup", "move(-8)", show=False),
    ]

    def __init__(self, default_agent_id: int | None = None, *, title: str = "New conversation",
                 enter_does: str = "start", default_mark: str = "default") -> None:
        super().__init__()
        self.default_agent_id = default_agent_id
        self.title_text = title
        self.enter_does = enter_does
        """What enter does, for the footer: "start", "move here"."""
        self.default_mark = default_mark
        """How the preselected agent is marked: "default", "current"."""
        self._agents: list[Agent] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(Content(self.title_text), id="picker-title")
            yield TextField(placeholder="Type to filter agents", id="picker-filter", select_on_focus=False)
            yield OptionList(id="picker-agents", markup=False)
            with Horizontal(id="picker-bar"):
                yield Switch(value=False, id="picker-inactive")
                yield Label("Show retired (ctrl+t)")
                yield Static(Content(f"enter {self.enter_does} · esc cancel"), id="picker-hint")

    def on_mount(self) -> None:
        from agentterm.store import StoreError

        try:
            self.load_agents()
        except StoreError as error:
            # The store out of reach (a server away): one notice, and nothing to pick from.
            report(self, error, title="The agents could not be read")
            self.dismiss(None)
            return
        self.query_one("#picker-filter", Input).focus()

    @property
    def show_inactive(self) -> bool:
        return self.query_one("#picker-inactive", Switch).value

    def load_agents(self) -> None:
        statuses = None if self.show_inactive else ("active", "paused")
        self._agents = self.app.store.list_agents(statuses=statuses, owner=getattr(self.app, "viewer", None))  # type: ignore[attr-defined]
        self.refresh_options()

    def refresh_options(self) -> None:
        """Show the agents matching the filter, keeping the default (else the first) highlighted."""
        words = self.query_one("#picker-filter", Input).value.strip().lower()
        options: list[Option] = []
        if not words or words in NO_AGENT_WORDS:
            prompt = Text("No agent", style="bold")
            prompt.append("  a general chat with the default settings", style="dim")
            options.append(Option(prompt, id="none"))
        for agent in self._agents:
            haystack = f"{agent.name} {agent.description} {agent.model or ''}".lower()
            if words and words not in haystack:
                continue
            default = agent.id == self.default_agent_id
            options.append(Option(agent_prompt(agent, default=default, mark=self.default_mark),
                                  id=f"agent-{agent.id}"))
        agents = self.query_one("#picker-agents", OptionList)
        if not options:
            # Say why the list is empty (a question typed here, say) instead of an empty box.
            shown = one_line(words)
            if len(shown) > 40:
                shown = shown[:39] + "…"
            notice = Text(f"No agent matches “{shown}”", style="italic")
            notice.append("  backspace to widen, ctrl+t for retired, esc to cancel", style="dim")
            agents.set_options([Option(notice, id="no-match", disabled=True)])
            return
        agents.set_options(options)
        wanted = f"agent-{self.default_agent_id}" if self.default_agent_id is not None else "none"
        ids = [option.id for option in options]
        if wanted in ids and not (words and wanted == "none"):
            agents.highlighted = ids.index(wanted)
        else:
            # While filtering, the first matching agent beats "No agent".
            agents.highlighted = next((i for i, oid in enumerate(ids) if oid != "none"), 0)

    def on_key(self, event: events.Key) -> None:
        """Typing while the list has the focus filters too."""
        agents = self.query_one("#picker-agents", OptionList)
        if self.focused is agents and event.is_printable and event.character not in (None, " "):
            event.stop()
            event.prevent_default()
            filter_input = self.query_one("#picker-filter", Input)
            filter_input.focus()
            filter_input.insert_text_at_cursor(event.character or "")

    @on(Input.Changed, "#picker-filter")
    def _filter_changed(self) -> None:
        self.refresh_options()

    @on(Switch.Changed, "#picker-inactive")
    @store_guarded
    def _toggle_changed(self) -> None:
        self.load_agents()

    def action_toggle_inactive(self) -> None:
        switch = self.query_one("#picker-inactive", Switch)
        switch.value = not switch.value

    def action_move(self, delta: int) -> None:
        agents = self.query_one("#picker-agents", OptionList)
        if agents.option_count:
            current = agents.highlighted if agents.highlighted is not None else 0
            agents.highlighted = max(0, min(agents.option_count - 1, current + delta))

    @on(Input.Submitted, "#picker-filter")
    def _submitted(self) -> None:
        agents = self.query_one("#picker-agents", OptionList)
        if agents.highlighted is not None:
            self._choose(agents.get_option_at_index(agents.highlighted).id)

    @on(OptionList.OptionSelected, "#picker-agents")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option.id)

    def _choose(self, option_id: str | None) -> None:
        if option_id == "none":
            self.dismiss(("none", None))
        elif option_id and option_id.startswith("agent-"):
            self.dismiss(("agent", int(option_id.removeprefix("agent-"))))

    def action_cancel(self) -> None:
        self.dismiss(None)
