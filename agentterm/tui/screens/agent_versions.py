"""An agent's saved versions, newest first, with what each changed and a restore."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from agentterm.models import Agent, AgentVersion
from agentterm.sanitize import one_line, strip_escapes
from agentterm.tui.screens.confirm import ConfirmScreen

SHOWN_FIELDS = ("name", "description", "status", "provider", "model", "temperature", "top_p",
                "max_tokens", "extra", "instructions")
_LONG_FIELDS = ("description", "instructions", "extra")


def local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _short(value: Any) -> str:
    if value is None or value == "" or value == {}:
        return "unset"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def change_summary(data: dict[str, Any], before: dict[str, Any] | None) -> str:
    """A diff-ish line: 'temperature 0.3→0.7, instructions +2/-1 lines'; 'created' for the first."""
    if before is None:
        return "created"
    parts: list[str] = []
    for key in SHOWN_FIELDS:
        old, new = before.get(key), data.get(key)
        if old == new or (not old and not new):
            continue
        if key == "instructions":
            old_lines = set((old or "").splitlines())
            new_lines = (new or "").splitlines()
            added = sum(1 for line in new_lines if line not in old_lines)
            removed = sum(1 for line in (old or "").splitlines() if line not in set(new_lines))
            parts.append(f"instructions +{added}/-{removed} lines")
        elif key in _LONG_FIELDS:
            parts.append(key)
        else:
            parts.append(f"{key} {_short(old)}→{_short(new)}")
    return ", ".join(parts) if parts else "no changes"


class VersionsScreen(ModalScreen[Agent | None]):
    """Dismisses with the agent as restored (a new version), or None when closed."""

    DEFAULT_CSS = """
    VersionsScreen {
        align: center middle;
    }
    VersionsScreen > #versions {
        width: 90%;
        max-width: 110;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    VersionsScreen #versions-title {
        text-style: bold;
    }
    VersionsScreen #versions-list {
        height: 1fr;
        min-height: 4;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    VersionsScreen #versions-detail {
        height: 1fr;
        border: round $panel;
    }
    VersionsScreen #versions-buttons {
        height: auto;
        align-horizontal: right;
    }
    VersionsScreen #versions-buttons Button {
        margin-left: 1;
    }
    """

    BINDINGS = [
        Binding("r", "restore", "Restore", id="versions.restore"),
        Binding("escape", "close", "Close", id="versions.close"),
    ]

    def __init__(self, agent_id: int) -> None:
        super().__init__()
        self.agent_id = agent_id
        self.versions: list[AgentVersion] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="versions"):
            yield Static(id="versions-title", markup=False)
            yield OptionList(id="versions-list", markup=False)
            with VerticalScroll(id="versions-detail"):
                yield Static(id="versions-fields", markup=False)
            with Horizontal(id="versions-buttons"):
                yield Button(Content("Restore (r)"), id="restore", variant="primary")
                yield Button(Content("Close (esc)"), id="close")

    def on_mount(self) -> None:
        self.load()
        self.query_one("#versions-list", OptionList).focus()

    def load(self) -> None:
        store = self.app.store  # type: ignore[attr-defined]
        agent = store.get_agent(self.agent_id)
        self.versions = store.agent_versions(self.agent_id)
        name = one_line(agent.name) if agent else "deleted agent"
        self.query_one("#versions-title", Static).update(
            Text(f"Versions of {name}: {len(self.versions)}, newest first")
        )
        options = []
        for index, version in enumerate(self.versions):
            before = self.versions[index + 1].data if index + 1 < len(self.versions) else None
            line = Text(f"v{version.version}", style="bold")
            if index == 0:
                line.append(" (current)", style="italic")
            line.append(f"  {local_time(version.created_at)}  ", style="dim")
            line.append(one_line(change_summary(version.data, before)))
            line.no_wrap = True
            line.overflow = "ellipsis"
            options.append(Option(line, id=str(version.version)))
        versions = self.query_one("#versions-list", OptionList)
        versions.set_options(options)
        if options:
            versions.highlighted = 0
        self._show(0)

    def _show(self, index: int | None) -> None:
        detail = Text()
        if index is not None and 0 <= index < len(self.versions):
            version = self.versions[index]
            before = self.versions[index + 1].data if index + 1 < len(self.versions) else {}
            for key in SHOWN_FIELDS:
                value = version.data.get(key)
                changed = before and before.get(key) != value
                detail.append(f"{'*' if changed else ' '} {key:<13}", style="bold" if changed else "dim")
                shown = _short(value)
                detail.append(strip_escapes(shown) if key == "instructions" else one_line(shown))
                detail.append("\n")
        self.query_one("#versions-fields", Static).update(detail)

    @on(OptionList.OptionHighlighted, "#versions-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(event.option_index)

    @on(OptionList.OptionSelected, "#versions-list")
    @on(Button.Pressed, "#restore")
    def action_restore(self) -> None:
        index = self.query_one("#versions-list", OptionList).highlighted
        if index is None or not self.versions:
            return
        if index == 0:
            self.notify("That is the current version already.")
            return
        version = self.versions[index].version
        newest = self.versions[0].version

        def restore(confirmed: bool | None) -> None:
            if not confirmed:
                return
            try:
                agent = self.app.store.restore_agent_version(self.agent_id, version)  # type: ignore[attr-defined]
            except Exception as error:  # noqa: BLE001 - the store says why; nothing changed
                self.notify(f"Not restored: {error}", severity="error", markup=False)
                return
            self.notify(f"Restored version {version} as version {agent.version}.")
            self.dismiss(agent)

        self.app.push_screen(
            ConfirmScreen(f"Restore version {version}?",
                          f"Its settings are saved as a new version ({newest + 1}); "
                          "nothing is lost, the current version stays in the list.",
                          confirm_label="Restore"),
            restore,
        )

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
