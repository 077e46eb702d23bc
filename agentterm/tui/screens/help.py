"""F1: every key as it is mapped now (the [keymap] included), and how to change them."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from agentterm.tui.keymap import key_label, key_rows


class HelpScreen(ModalScreen[None]):
    """Reads the app's keymap when it opens, so a remapped key shows as it works."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > #help {
        width: 100;
        max-width: 98%;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen #help-title {
        text-style: bold;
    }
    HelpScreen DataTable {
        height: 1fr;
    }
    HelpScreen #help-footer {
        color: $text-muted;
    }
    """

    BINDINGS = [Binding("escape,f1,q", "close", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(Content("Keys (as mapped now)"), id="help-title")
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            sidebar = ", ".join(f"{key_label(self, f'sidebar.{name}')} {name}"
                                for name in ("rename", "delete", "archive", "pin", "restore", "tags"))
            yield Static(Content(
                "Remap any id in the [keymap] table of config.toml, e.g.  \"app.new_conversation\" = \"ctrl+t\".  "
                f"The sidebar: {sidebar}. {key_label(self, 'app.command_palette')} lists every action. "
                "Escape closes this."), id="help-footer")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("where", "key", "does", "id")
        # Rich Text cells: DataTable measures them for its column widths, and they are never markup.
        for row in key_rows(getattr(self.app, "keymap", {})):
            key = Text(row.keys or "(none)", style="bold" if row.keys else "italic")
            if not row.keys:
                key.append(" (lost in a clash)", style="italic")
            elif row.remapped:
                key.append(" (remapped)", style="italic")
            table.add_row(Text(row.place), key, Text(row.description), Text(row.id))
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
