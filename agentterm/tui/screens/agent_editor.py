"""The agent editor: a form with validation beside each field; ctrl+s saves a new version."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Footer, Input, Label, Select, SelectionList, Static, TextArea

from agentterm.agent_io import FIELDS
from agentterm.models import Agent
from agentterm.sanitize import one_line
from agentterm.tui.screens import agent_tools
from agentterm.tui.screens.agent_tools import TOOL_FIELDS, TOOL_LABELS, AlwaysAllowed
from agentterm.tui.screens.agent_versions import VersionsScreen
from agentterm.tui.screens.confirm import ConfirmScreen
from agentterm.tui.widgets.fields import TextBox, TextField

LABELS = {
    "name": "Name", "description": "Description", "status": "Status", "provider": "Provider",
    "model": "Model", "instructions": "Instructions", "temperature": "Temperature",
    "top_p": "Top p", "max_tokens": "Max tokens", "extra": "Extra parameters", **TOOL_LABELS,
}
STATUS_OPTIONS = [("active", "active"), ("paused", "paused"), ("retired", "inactive")]


def _parse_number(text: str, *, whole: bool) -> Any:
    """The typed number, None for an empty field, or the text itself when it is not a number
    (validation then says so)."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text) if whole else float(text)
    except ValueError:
        return text


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)


def parse_extra(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """(object, None) for an empty field or a JSON object, else (None, why)."""
    if not text.strip():
        return {}, None

    def no_constants(name: str) -> Any:
        raise ValueError(f"is not valid JSON: {name} is not a number JSON allows")

    try:
        value = json.loads(text, parse_constant=no_constants)
    except json.JSONDecodeError as error:
        return None, f"is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
    except ValueError as error:
        return None, str(error)
    if not isinstance(value, dict):
        return None, 'must be a JSON object, like {"seed": 7}'
    return value, None


def unique_name(store: Any, name: str) -> str:
    """The name, or "name 2", "name 3"... when an agent already has it."""
    candidate, n = name, 2
    while store.get_agent_by_name(candidate) is not None:
        candidate, n = f"{name} {n}", n + 1
    return candidate


class AgentEditorScreen(agent_tools.ToolFields, Screen[Agent | None]):
    """Edit an agent (or a new one, blank or from a template's fields); dismisses with the saved
    Agent, or None when cancelled."""

    DEFAULT_CSS = """
    AgentEditorScreen #editor-title {
        dock: top;
        height: 1;
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    AgentEditorScreen #form {
        padding: 1 1 0 1;
    }
    AgentEditorScreen .field {
        height: auto;
        margin-bottom: 1;
    }
    AgentEditorScreen .field > Label {
        width: 14;
        padding-right: 1;
        text-align: right;
        color: $text-muted;
    }
    AgentEditorScreen .field:focus-within > Label {
        color: $text;
        text-style: bold;
    }
    AgentEditorScreen .control {
        height: auto;
        width: 1fr;
    }
    AgentEditorScreen .control > Select, AgentEditorScreen .control > Input {
        width: 40;
    }
    AgentEditorScreen .control > #name, AgentEditorScreen .control > #description {
        width: 1fr;
    }
    AgentEditorScreen .error {
        color: $error;
        height: auto;
        display: none;
    }
    AgentEditorScreen .error.-shown {
        display: block;
    }
    AgentEditorScreen .note {
        color: $text-muted;
        height: auto;
    }
    AgentEditorScreen .note.-warning {
        color: $text-warning;
    }
    AgentEditorScreen #model-row {
        height: 1;
    }
    AgentEditorScreen #model-row > Input {
        width: 1fr;
        margin-right: 1;
    }
    AgentEditorScreen #model-row > Select {
        width: 1fr;
    }
    AgentEditorScreen #instructions {
        height: 10;
    }
    AgentEditorScreen #extra {
        height: 6;
    }
    AgentEditorScreen #mcp_servers, AgentEditorScreen #always-allowed {
        height: auto;
        max-height: 8;
        width: 60;
    }
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="editor.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="editor.cancel"),
        Binding("ctrl+o", "versions", "Versions", id="editor.versions"),
    ]

    @dataclass
    class ModelsLoaded(Message):
        """The provider's model list arrived (or could not be had: error says why)."""

        provider: str | None
        models: list[str]
        error: str | None = None

    def __init__(self, agent_id: int | None = None, template: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.agent_id = agent_id
        self.template = dict(template or {})
        self._baseline: dict[str, Any] = {}
        self.errors: dict[str, str] = {}

    # -- building the form --------------------------------------------------------------

    def _field(self, label: str, name: str, *widgets: Widget) -> Horizontal:
        """A row: the label, then the widget(s) with the field's problem shown under them."""
        error = Static("", id=f"{name}-error", classes="error", markup=False)
        return Horizontal(Label(label), Vertical(*widgets, error, classes="control"), classes="field")

    def compose(self) -> ComposeResult:
        settings = self.app.settings  # type: ignore[attr-defined]
        providers = [(Text(one_line(name)), name) for name in settings.providers]
        default = one_line(settings.default_provider)
        yield Static(id="editor-title", markup=False)
        with VerticalScroll(id="form"):
            yield self._field("Name", "name", TextField(id="name", placeholder="required, unique", compact=True))
            yield self._field("Description", "description", TextField(id="description", compact=True))
            yield self._field(
                "Status", "status", Select(STATUS_OPTIONS, allow_blank=False, id="status", compact=True)
            )
            yield self._field(
                "Provider", "provider",
                Select(providers, prompt=f"default ({default})", id="provider", compact=True),
            )
            yield self._field(
                "Model", "model",
                Horizontal(
                    TextField(id="model", placeholder="the provider's default", compact=True),
                    Select([], prompt="pick from the provider", id="model-list", compact=True),
                    id="model-row",
                ),
                Static("", id="model-note", classes="note", markup=False),
            )
            yield self._field("Temperature", "temperature", TextField(id="temperature", placeholder="0 to 2", compact=True))
            yield self._field("Top p", "top_p", TextField(id="top_p", placeholder="0 to 1", compact=True))
            yield self._field("Max tokens", "max_tokens", TextField(id="max_tokens", placeholder="a positive whole number", compact=True))
            yield self._field("Instructions", "instructions", TextBox(id="instructions", placeholder="the system prompt"))
            yield self._field("Extra", "extra", TextBox(id="extra", placeholder='extra API parameters, a JSON object: {"seed": 1}'))
            for name, widgets in agent_tools.tool_widgets().items():
                yield self._field(TOOL_LABELS[name], name, *widgets)
            yield self._field("Always allowed", "always-allowed", AlwaysAllowed(id="always-allowed", compact=True),
                              Static("x revokes the highlighted tool (at once; the next call asks again)",
                                     classes="note", markup=False))
        yield Footer()

    def on_mount(self) -> None:
        self.load_form()
        self.query_one("#name", Input).focus()

    @property
    def store(self) -> Any:
        return self.app.store  # type: ignore[attr-defined]

    def load_form(self, agent: Agent | None = None) -> None:
        """Fill the form from the agent (or the template, or blanks) and make that the baseline."""
        if agent is None and self.agent_id is not None:
            agent = self.store.get_agent(self.agent_id)
            if agent is None:
                # Deleted meanwhile (another window, another process): never save it as new.
                self.notify("That agent no longer exists.", severity="warning")
                self.dismiss(None)
                return
        defaults = {"mcp_servers": [], "allowed_tools": None, "tool_approval": "ask"}
        if agent is not None:
            values = {key: getattr(agent, key, defaults.get(key)) for key in (*FIELDS, *TOOL_FIELDS)}
            title = Text(f"Edit agent: {one_line(agent.name)} (version {agent.version})")
        else:
            values = {key: self.template.get(key, defaults.get(key)) for key in (*FIELDS, *TOOL_FIELDS)}
            values["name"] = unique_name(self.store, values["name"]) if values["name"] else ""
            source = self.template.get("template_name") or self.template.get("name")
            title = Text(f"New agent from template {one_line(source)}" if source else "New agent")
        self.query_one("#editor-title", Static).update(title)
        self.query_one("#name", Input).value = values["name"] or ""
        self.query_one("#description", Input).value = values["description"] or ""
        self.query_one("#status", Select).value = values["status"] or "active"
        provider = self.query_one("#provider", Select)
        if values["provider"] and values["provider"] not in self.app.settings.providers:  # type: ignore[attr-defined]
            # Keep a provider this config lacks rather than dropping it silently.
            options = [(Text(one_line(n)), n) for n in self.app.settings.providers]  # type: ignore[attr-defined]
            options.append((Text(f"{one_line(values['provider'])} (not in the config)"), values["provider"]))
            provider.set_options(options)
        if values["provider"]:
            provider.value = values["provider"]
        else:
            provider.clear()
        self.query_one("#model", Input).value = values["model"] or ""
        self.query_one("#temperature", Input).value = _as_text(values["temperature"])
        self.query_one("#top_p", Input).value = _as_text(values["top_p"])
        self.query_one("#max_tokens", Input).value = _as_text(values["max_tokens"])
        self.query_one("#instructions", TextArea).load_text(values["instructions"] or "")
        extra = values["extra"] or {}
        self.query_one("#extra", TextArea).load_text(json.dumps(extra, indent=2, ensure_ascii=False) if extra else "")
        self._load_tools(values)
        self._baseline = self.raw_values()
        self.validate_form()
        self.load_models(self.current_provider())

    # -- reading and checking -------------------------------------------------------------

    def current_provider(self) -> str | None:
        value = self.query_one("#provider", Select).value
        return None if value is Select.NULL else value  # type: ignore[return-value]

    def raw_values(self) -> dict[str, Any]:
        """What the widgets hold, as typed: compared with the baseline to tell unsaved changes."""
        raw: dict[str, Any] = {}
        for name in ("name", "description", "model", "temperature", "top_p", "max_tokens"):
            raw[name] = self.query_one(f"#{name}", Input).value
        raw["status"] = self.query_one("#status", Select).value
        raw["provider"] = self.current_provider()
        raw["instructions"] = self.query_one("#instructions", TextArea).text
        raw["extra"] = self.query_one("#extra", TextArea).text
        raw["mcp_servers"] = self._selected_servers()
        raw["allowed_tools"] = self.query_one("#allowed_tools", Input).value
        raw["tool_approval"] = self.query_one("#tool_approval", Select).value
        return raw

    @property
    def dirty(self) -> bool:
        return self.raw_values() != self._baseline

    def form_fields(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The agent fields the form describes, and field -> why it is invalid."""
        raw = self.raw_values()
        fields: dict[str, Any] = {
            "name": raw["name"].strip(),
            "description": raw["description"].strip(),
            "status": raw["status"],
            "provider": raw["provider"],
            "model": raw["model"].strip() or None,
            "instructions": raw["instructions"],
            "temperature": _parse_number(raw["temperature"], whole=False),
            "top_p": _parse_number(raw["top_p"], whole=False),
            "max_tokens": _parse_number(raw["max_tokens"], whole=True),
        }
        extra, extra_error = parse_extra(raw["extra"])
        # Unparsed text goes to the store's check as it is, so the store words the reason.
        fields["extra"] = extra if extra is not None else raw["extra"]
        if "mcp_servers" in FIELDS:  # the store knows the tool fields
            fields["mcp_servers"] = raw["mcp_servers"]
            fields["allowed_tools"] = agent_tools.parse_allowed_tools(raw["allowed_tools"])
            fields["tool_approval"] = raw["tool_approval"]
        errors = self.store.validate_agent_fields(fields, agent_id=self.agent_id)
        if extra_error:
            errors["extra"] = extra_error
        return fields, errors

    def validate_form(self) -> dict[str, str]:
        """Show each field's problem beside it; return them all."""
        _fields, errors = self.form_fields()
        for name in FIELDS:
            message = errors.get(name, "")
            # An Input resets -invalid itself on each change, so this is set every time.
            self.query_one(f"#{name}").set_class(bool(message), "-invalid")
            if message == self.errors.get(name, ""):
                continue  # unchanged: no relayout on every keystroke
            error = self.query_one(f"#{name}-error", Static)
            error.update(Text(f"{LABELS[name]} {message}" if message else ""))
            error.set_class(bool(message), "-shown")
        self.errors = errors
        return errors

    @on(Input.Changed)
    @on(TextArea.Changed)
    def _changed(self) -> None:
        self.validate_form()

    @on(Select.Changed, "#status")
    @on(Select.Changed, "#tool_approval")
    @on(SelectionList.SelectedChanged)
    def _status_changed(self) -> None:
        self.validate_form()

    @on(Select.Changed, "#provider")
    def _provider_changed(self) -> None:
        self.validate_form()
        if self._baseline:
            self.load_models(self.current_provider())

    @on(Select.Changed, "#model-list")
    def _model_picked(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            model = self.query_one("#model", Input)
            model.value = str(event.value)

    # -- the provider's models --------------------------------------------------------------

    @work(exclusive=True, group="agent-editor-models", exit_on_error=False)
    async def load_models(self, provider: str | None) -> None:
        client = getattr(self.app, "client", None)
        if client is None:
            return  # no client, no list: the model is typed
        try:
            models = await client.list_models(provider)
        except Exception as error:  # noqa: BLE001 - a missing list must never break the form
            why = getattr(error, "message", None) or str(error) or type(error).__name__
            self.post_message(self.ModelsLoaded(provider, [], why))
        else:
            self.post_message(self.ModelsLoaded(provider, sorted(models)))

    def on_agent_editor_screen_models_loaded(self, event: AgentEditorScreen.ModelsLoaded) -> None:
        if event.provider != self.current_provider():
            return
        note = self.query_one("#model-note", Static)
        picker = self.query_one("#model-list", Select)
        with picker.prevent(Select.Changed):
            picker.set_options([(Text(one_line(model)), model) for model in event.models])
        self.query_one("#model", Input).suggester = SuggestFromList(event.models, case_sensitive=False)
        self._known_models = event.models if not event.error and event.models else None
        if event.error:
            note.update(Text(f"Could not list the provider's models: {one_line(event.error)}"))
        elif not event.models:
            note.update(Text("The provider lists no models; type one."))
        else:
            self._model_note()

    _known_models: list[str] | None = None
    """The provider's model list, when it gave one: a model it does not list is warned of."""

    @on(Input.Changed, "#model")
    def _model_note(self) -> None:
        """Next to the model: what the provider offers, or a warning (never blocking the save)
        when the model typed is not among them (issue 8.21)."""
        known = self._known_models
        if known is None:
            return
        note = self.query_one("#model-note", Static)
        model = self.query_one("#model", Input).value.strip()
        if model and model not in known:
            note.update(Text(f"The provider does not list {one_line(model, 60)!r} among its "
                             f"{len(known)} models: answers may fail. Saving is still allowed.",
                             style="bold"))
            note.add_class("-warning")
        else:
            note.update(Text(f"The provider offers {len(known)} models: pick one or type to complete."))
            note.remove_class("-warning")

    # -- actions ------------------------------------------------------------------------------

    def action_save(self) -> None:
        fields, errors = self.form_fields()
        self.validate_form()
        if errors:
            first = next(name for name in FIELDS if name in errors)
            widget = self.query_one(f"#{first}")
            widget.focus()
            widget.scroll_visible()
            self.notify(f"Not saved: {LABELS[first].lower()} {errors[first]}.", severity="error", markup=False)
            return
        try:
            if self.agent_id is None:
                name = fields.pop("name")
                agent = self.store.create_agent(name, **fields)
            elif not self.dirty:
                self.dismiss(self.store.get_agent(self.agent_id))
                return
            else:
                agent = self.store.update_agent(self.agent_id, **fields)
        except Exception as error:  # noqa: BLE001 - the store says why; the form stays open
            self.notify(f"Not saved: {error}", severity="error", markup=False)
            return
        self.notify(f"Saved {one_line(agent.name)} (version {agent.version}).", markup=False)
        self.dismiss(agent)

    def action_cancel(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen("Discard your changes?", "The agent has unsaved changes.",
                          confirm_label="Discard", danger=True),
            answered,
        )

    def action_versions(self) -> None:
        if self.agent_id is None:
            self.notify("A new agent has no versions yet: save it first.")
            return

        def restored(agent: Agent | None) -> None:
            if agent is not None:
                self.load_form(agent)

        def open_versions(go_on: bool | None = True) -> None:
            if go_on:
                self.app.push_screen(VersionsScreen(self.agent_id), restored)  # type: ignore[arg-type]

        if self.dirty:
            self.app.push_screen(
                ConfirmScreen("Open the versions?", "A restore would replace your unsaved changes.",
                              confirm_label="Open"),
                open_versions,
            )
        else:
            open_versions()
