"""Pick the model (and provider) for a conversation's next answers, without editing its agent."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from rich.text import Text

from agentterm.sanitize import one_line

# ("provider", "model"): a choice; ("", "") goes back to the agent's.
ModelChoice = tuple[str, str]
AGENTS_OWN: ModelChoice = ("", "")


class ModelPickerScreen(ModalScreen[ModelChoice | None]):
    """The models the config names, then each provider's list as it arrives; typing filters,
    and enter on a name no one listed uses it with the highlighted (or default) provider."""

    DEFAULT_CSS = """
    ModelPickerScreen { align: center middle; }
    ModelPickerScreen > #models {
        width: 72; max-width: 95%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ModelPickerScreen #models-title { text-style: bold; margin-bottom: 1; }
    ModelPickerScreen #models-list { height: auto; max-height: 14; }
    ModelPickerScreen #models-hint { color: $text-muted; margin-top: 1; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "down", show=False),
        Binding("up", "up", show=False),
    ]

    def __init__(self, client, *, current: ModelChoice, agents_model: str | None) -> None:
        super().__init__()
        self.client = client
        self.current = current
        self.agents_model = agents_model
        self.choices: list[ModelChoice] = []
        settings = getattr(client, "settings", None)
        self.default_provider = getattr(settings, "default_provider", "") or ""
        for name, provider in (getattr(settings, "providers", None) or {}).items():
            for model in (provider.model, *provider.models):
                if model and (name, model) not in self.choices:
                    self.choices.append((name, model))
        self.loading = True

    def compose(self) -> ComposeResult:
        with Vertical(id="models"):
            yield Static("Model for this conversation's next answers", id="models-title")
            yield Input(placeholder="filter, or type a model name", id="models-filter")
            yield OptionList(id="models-list")
            yield Static("enter uses it · the agent is not changed · esc cancels", id="models-hint")

    def on_mount(self) -> None:
        self._fill()
        self.query_one(Input).focus()
        self._fetch()

    @work(group="models", exit_on_error=False)
    async def _fetch(self) -> None:
        """Each provider's own list (its /models); a provider that cannot be reached lists none."""
        settings = getattr(self.client, "settings", None)
        for name in (getattr(settings, "providers", None) or {}):
            try:
                models = await self.client.list_models(name)
            except Exception:  # noqa: BLE001 - unreachable or no key: its configured models stay
                continue
            for model in models:
                if (name, model) not in self.choices:
                    self.choices.append((name, model))
            self._fill()
        self.loading = False
        self._fill()

    def _fill(self) -> None:
        words = self.query_one(Input).value.strip().lower()
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        own = Text("The agent's model", style="bold")
        if self.agents_model:
            own.append(f"  {one_line(self.agents_model)}", style="dim")
        shown: list[Option] = [Option(own, id="own")]
        for index, (provider, model) in enumerate(self.choices):
            if words and words not in f"{provider} {model}".lower():
                continue
            line = Text(one_line(model))
            line.append(f"  {one_line(provider)}", style="dim")
            if (provider, model) == self.current:
                line.append(" (current)", style="italic")
            shown.append(Option(line, id=f"m{index}"))
        if self.loading:
            shown.append(Option(Text("asking the providers for their models…", style="dim"), disabled=True))
        options.add_options(shown)
        if options.option_count:
            # Filtering: the first match (after "the agent's model") is the one enter takes.
            first = 1 if words and len(shown) > 1 and shown[1].id else 0
            options.highlighted = first if words else min(highlighted or 0, options.option_count - 1)

    @on(Input.Changed)
    def _filtered(self) -> None:
        self._fill()

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text and not self._listed(text):
            self.dismiss((self.default_provider, text))  # a name no provider listed: used as typed
            return
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            if option.id:
                self._pick(option.id)

    def _listed(self, text: str) -> bool:
        return any(text.lower() in f"{p} {m}".lower() for p, m in self.choices)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self._pick(event.option.id)

    def _pick(self, option_id: str) -> None:
        if option_id == "own":
            self.dismiss(AGENTS_OWN)
        else:
            self.dismiss(self.choices[int(option_id[1:])])

    def action_cancel(self) -> None:
        self.dismiss(None)
