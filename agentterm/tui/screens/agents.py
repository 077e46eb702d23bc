"""The agents screen: every agent with its badge and usage, and what can be done to one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Static

from agentterm.agent_io import AgentFileError, agent_from_toml, agent_to_toml
from agentterm.models import Agent
from agentterm.sanitize import one_line
from agentterm.tui.screens.agent_editor import AgentEditorScreen, unique_name
from agentterm.tui.screens.agent_picker import status_badge
from agentterm.tui.screens.agent_versions import VersionsScreen, local_time
from agentterm.tui.screens.confirm import ChoiceScreen, ConfirmScreen
from agentterm.tui.screens.text_prompt import TextPromptScreen
from agentterm.tui.widgets.guard import report, store_guarded
from agentterm.templates import list_templates, load_template

# The name column takes what the others leave; each column also has a cell of padding each side.
COLUMNS = (("Name", 0), ("Status", 9), ("Model", 12), ("Chats", 5), ("Msgs", 6), ("Tokens", 7), ("Last used", 10))
ACTIONS = (("new", "n", "New"), ("edit", "e", "Edit"), ("chat", "s", "Chat"), ("duplicate", "c", "Copy"),
           ("pause", "p", "Pause"), ("retire", "r", "Retire"), ("delete", "d", "Delete"),
           ("versions", "v", "Versions"), ("export", "x", "Export"), ("import", "i", "Import"),
           ("close", "esc", "Close"))


def export_file_name(name: str) -> str:
    """A file name from an agent name: "Code reviewer" -> "Code-reviewer.agent.toml"."""
    stem = re.sub(r"[^\w.-]+", "-", one_line(name)).strip("-.") or "agent"
    return f"{stem}.agent.toml"


class AgentsScreen(Screen[None]):
    """Lists the agents; starting a conversation posts ConversationRequested to the app and
    closes the screen."""

    DEFAULT_CSS = """
    AgentsScreen #agents-title {
        height: 1;
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    AgentsScreen #agents-table {
        height: 1fr;
    }
    AgentsScreen #agents-detail {
        height: auto;
        max-height: 3;
        padding: 0 1;
        color: $text-muted;
    }
    AgentsScreen #agents-buttons {
        height: auto;
        layout: grid;
        grid-size: 6;
        grid-gutter: 0 1;
        grid-rows: 1;
        padding: 0 1;
    }
    AgentsScreen #agents-buttons Button {
        width: 1fr;
        min-width: 0;
    }
    """

    BINDINGS = [
        Binding("escape", "close", "Close", id="agents.close"),
        Binding("n", "new", "New", id="agents.new"),
        Binding("e", "edit", "Edit", id="agents.edit"),
        Binding("s", "chat", "Start chat", id="agents.chat"),
        Binding("c", "duplicate", "Copy", id="agents.duplicate"),
        Binding("p", "pause", "Pause/resume", id="agents.pause"),
        Binding("r", "retire", "Retire", id="agents.retire"),
        Binding("d,delete", "delete", "Delete", id="agents.delete"),
        Binding("v", "versions", "Versions", id="agents.versions"),
        Binding("x", "export", "Export", id="agents.export"),
        Binding("i", "import", "Import", id="agents.import"),
    ]

    @dataclass
    class ConversationRequested(Message):
        """The user asked for a new conversation with this agent (the app opens it)."""

        agent_id: int

    def compose(self) -> ComposeResult:
        yield Static(id="agents-title", markup=False)
        table: DataTable[Text] = DataTable(id="agents-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(id="agents-detail", markup=False)
        with Container(id="agents-buttons"):
            for action, key, label in ACTIONS:
                yield Button(self._label(key, label), id=f"do-{action}", compact=True,
                             variant="error" if action == "delete" else "default")

    @staticmethod
    def _label(key: str, label: str) -> Content:
        return Content.assemble((key, "bold $accent"), " ", label)

    def on_mount(self) -> None:
        from agentterm.store import StoreError

        try:
            self.reload()
        except StoreError as error:
            # The store out of reach (a server away): one notice, and back where it was.
            report(self, error, title="The agents could not be read")
            self.dismiss(None)
            return
        self.query_one("#agents-table", DataTable).focus()

    @store_guarded
    def on_resize(self) -> None:
        self.reload()

    @property
    def store(self):  # type: ignore[no-untyped-def]
        return self.app.store  # type: ignore[attr-defined]

    # -- the table ---------------------------------------------------------------------------

    def reload(self, select: int | None = None) -> None:
        """Read the agents again, keeping the cursor on `select` (else on the same agent)."""
        table = self.query_one("#agents-table", DataTable)
        current = select if select is not None else self.selected_id
        agents = self.store.list_agents(owner=getattr(self.app, "viewer", None))
        table.clear(columns=True)
        fixed = sum(width + 2 for _label, width in COLUMNS[1:])
        # Room for the vertical scrollbar, so a long list never needs a horizontal one.
        name_width = max(12, self.size.width - fixed - 2 - 2)
        for label, width in COLUMNS:
            numeric = label in ("Chats", "Msgs", "Tokens")
            table.add_column(Text(label, justify="right" if numeric else "left"), width=width or name_width, key=label)
        for agent in agents:
            usage = self.store.agent_usage(agent.id)
            last = usage.last_used_at.astimezone().strftime("%Y-%m-%d") if usage.last_used_at else "-"
            table.add_row(
                Text(one_line(agent.name), overflow="ellipsis", no_wrap=True),
                status_badge(agent.status),
                Text(one_line(agent.model or "default"), overflow="ellipsis", no_wrap=True,
                     style="" if agent.model else "dim"),
                Text(f"{usage.conversations:,}", justify="right"),
                Text(f"{usage.messages:,}", justify="right"),
                Text(f"{usage.tokens:,}", justify="right"),
                Text(last),
                key=str(agent.id),
            )
        counts = {status: sum(a.status == status for a in agents) for status in ("active", "paused", "inactive")}
        self.query_one("#agents-title", Static).update(
            Text(f"Agents: {counts['active']} active, {counts['paused']} paused, {counts['inactive']} retired")
        )
        if current is not None and str(current) in table.rows:
            table.move_cursor(row=table.get_row_index(str(current)))
        self._show_detail()

    @property
    def selected_id(self) -> int | None:
        table = self.query_one("#agents-table", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    def selected_agent(self) -> Agent | None:
        agent_id = self.selected_id
        agent = self.store.get_agent(agent_id) if agent_id is not None else None
        if agent is None:
            self.notify("No agent selected: press n to create one.")
        return agent

    def _show_detail(self) -> None:
        agent_id = self.selected_id
        agent = self.store.get_agent(agent_id) if agent_id is not None else None
        detail = self.query_one("#agents-detail", Static)
        if agent is None:
            detail.update(Text("No agents yet: press n to create one, or i to import a file."))
            return
        text = Text(f"v{agent.version}, saved {local_time(agent.updated_at)}")
        if agent.provider:
            text.append(f" · provider {one_line(agent.provider)}")
        if agent.description:
            text.append(" · " + one_line(agent.description))
        detail.update(text)
        pause = self.query_one("#do-pause", Button)
        pause.label = self._label("p", "Resume" if agent.status != "active" else "Pause")

    @on(DataTable.RowHighlighted, "#agents-table")
    def _highlighted(self) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#agents-table")
    def _selected(self) -> None:
        self.action_edit()

    @on(Button.Pressed, "#agents-buttons Button")
    async def _button(self, event: Button.Pressed) -> None:
        event.stop()
        await self.run_action((event.button.id or "").removeprefix("do-"))

    # -- actions -----------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss(None)

    def _edited(self, agent: Agent | None) -> None:
        self.reload(select=agent.id if agent else None)

    def action_new(self) -> None:
        templates = list_templates()

        def chosen(name: str | None) -> None:
            if name is None:
                return
            template = None
            if name != "":
                try:
                    template = {**load_template(name), "template_name": name}
                except ValueError as error:
                    self.notify(str(error), severity="error", markup=False)
                    return
            self.app.push_screen(AgentEditorScreen(template=template), self._edited)

        choices = [("Blank agent", "")] + [(f"From template: {name}", name) for name in templates]
        self.app.push_screen(ChoiceScreen("New agent", "Start from a blank form or a template.", choices), chosen)

    def action_edit(self) -> None:
        if agent := self.selected_agent():
            self.app.push_screen(AgentEditorScreen(agent_id=agent.id), self._edited)

    def action_chat(self) -> None:
        agent = self.selected_agent()
        if agent is None:
            return
        if agent.status == "paused":
            self.notify(f"{one_line(agent.name)} is paused: press p to resume it, then start a chat.",
                        severity="warning", markup=False)
            return
        self.app.post_message(self.ConversationRequested(agent.id))
        self.dismiss(None)

    def action_duplicate(self) -> None:
        if agent := self.selected_agent():
            copy = self._store_call(self.store.duplicate_agent, agent.id)
            if copy is not None:
                self.notify(f"Copied as {one_line(copy.name)}.", markup=False)
                self.reload(select=copy.id)

    def action_pause(self) -> None:
        if agent := self.selected_agent():
            status = "active" if agent.status != "active" else "paused"
            if self._store_call(self.store.set_agent_status, agent.id, status) is not None:
                verb = "Paused" if status == "paused" else "Resumed"
                self.notify(f"{verb} {one_line(agent.name)}.", markup=False)
                self.reload()

    def action_retire(self) -> None:
        agent = self.selected_agent()
        if agent is None:
            return
        if agent.status == "inactive":
            self.notify(f"{one_line(agent.name)} is retired already: p makes it active again.", markup=False)
            return
        if self._store_call(self.store.set_agent_status, agent.id, "inactive") is not None:
            self.notify(f"Retired {one_line(agent.name)}: hidden from the new-chat picker; "
                        "its conversations stay. p makes it active again.", markup=False)
            self.reload()

    def action_delete(self) -> None:
        agent = self.selected_agent()
        if agent is None:
            return
        usage = self.store.agent_usage(agent.id)
        name = one_line(agent.name)

        def chosen(answer: str | None) -> None:
            if answer is None:
                return
            keep = answer == "keep"
            if self._store_call(self.store.delete_agent, agent.id, keep_conversations=keep, ok=True):
                what = "its conversations kept" if keep else "its conversations moved to the trash"
                self.notify(f"Deleted {name}; {what}.", markup=False)
                self.reload()

        self.app.push_screen(
            ChoiceScreen(
                f"Delete the agent {name}?",
                f"It has {usage.conversations} conversation(s) and {usage.messages} message(s). "
                "Its versions go with it.",
                [("Keep its conversations (unlinked, still readable)", "keep"),
                 ("Move its conversations to the trash too", "delete")],
                danger=True,
            ),
            chosen,
        )

    def action_versions(self) -> None:
        if agent := self.selected_agent():
            self.app.push_screen(VersionsScreen(agent.id), self._edited)

    def action_export(self) -> None:
        agent = self.selected_agent()
        if agent is None:
            return
        default = Path.cwd() / export_file_name(agent.name)

        def write(path: Path) -> None:
            from agentterm.safe_write import WriteError, write_private

            try:
                # Asked before when the file exists: force here; 0600 and whole either way.
                write_private(path, agent_to_toml(agent), force=True)
            except WriteError as error:
                self.notify(error.message, severity="error", markup=False)
            except OSError as error:
                self.notify(f"Could not write {path}: {error.strerror or error}", severity="error", markup=False)
            else:
                self.notify(f"Exported {one_line(agent.name)} to {path}", markup=False)

        def chosen(answer: str | None) -> None:
            if not answer or not answer.strip():
                return
            path = Path(answer.strip()).expanduser()
            if path.is_dir():
                path = path / export_file_name(agent.name)
            path = path.resolve()
            if path.exists():
                self.app.push_screen(
                    ConfirmScreen("Replace the file?", f"{path} exists already.", "Replace", danger=True),
                    lambda yes: write(path) if yes else None,
                )
            else:
                write(path)

        self.app.push_screen(
            TextPromptScreen(f"Export {one_line(agent.name)} to a TOML file", str(default),
                             help="A file or a folder; enter writes it.", confirm_label="Export"),
            chosen,
        )

    def action_import(self) -> None:
        def chosen(answer: str | None) -> None:
            if not answer or not answer.strip():
                return
            path = Path(answer.strip()).expanduser()
            try:
                text = path.read_text(encoding="utf-8")
                fields = agent_from_toml(text, source=str(path))
            except AgentFileError as error:
                self.notify(str(error), title="Not imported", severity="error", markup=False)
                return
            except (OSError, UnicodeDecodeError) as error:
                why = getattr(error, "strerror", None) or str(error)
                self.notify(f"Could not read {path}: {why}", severity="error", markup=False)
                return
            wanted = fields.pop("name")
            name = unique_name(self.store, wanted)
            agent = self._store_call(self.store.create_agent, name, **fields)
            if agent is not None:
                renamed = f" as {one_line(name)} (the name was taken)" if name != wanted.strip() else ""
                self.notify(f"Imported {one_line(agent.name)}{renamed}.", markup=False)
                self.reload(select=agent.id)

        self.app.push_screen(
            TextPromptScreen("Import an agent from a TOML file", "",
                             help="The path of an .agent.toml file.", confirm_label="Import"),
            chosen,
        )

    def _store_call(self, method, *args, ok: bool = False, **kwargs):  # type: ignore[no-untyped-def]
        """Run a store write; a fault becomes a notice (the screen stays usable), never a crash."""
        try:
            result = method(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - StoreError and ValidationError say what to do
            self.notify(str(error), severity="error", markup=False)
            return None
        return True if ok else result
