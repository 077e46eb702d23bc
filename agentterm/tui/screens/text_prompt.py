"""A small modal asking for one piece of text: a title, tags, a path, an edited prompt."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static, TextArea

from agentterm.tui.widgets.fields import TextBox, TextField


class TextPromptScreen(ModalScreen[str | None]):
    """Dismisses with the text (enter, or ctrl+s when multi-line), or None when cancelled."""

    DEFAULT_CSS = """
    TextPromptScreen {
        align: center middle;
    }
    TextPromptScreen > #dialog {
        width: 72;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    TextPromptScreen #dialog-title {
        text-style: bold;
        margin-bottom: 1;
    }
    TextPromptScreen #dialog-help {
        color: $text-muted;
    }
    TextPromptScreen TextArea {
        height: 10;
    }
    TextPromptScreen #dialog-buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    TextPromptScreen #dialog-buttons Button {
        margin-left: 1;
        min-width: 10;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="text_prompt.cancel"),
        Binding("ctrl+s", "save", "Save", id="text_prompt.save", priority=True),
    ]

    def __init__(self, title: str, value: str = "", *, help: str = "", multiline: bool = False,
                 confirm_label: str = "Save", select: bool = False) -> None:
        super().__init__()
        self.select = select
        """The text starts selected, so typing replaces it (a title)."""
        self.dialog_title = title
        self.value = value
        self.help = help
        self.multiline = multiline
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Content(self.dialog_title), id="dialog-title")
            if self.multiline:
                yield TextBox(self.value, id="value", soft_wrap=True)
            else:
                yield TextField(self.value, id="value", select_on_focus=self.select)
            if self.help:
                yield Static(Content(self.help), id="dialog-help")
            with Horizontal(id="dialog-buttons"):
                yield Button(Content("Cancel"), id="cancel")
                yield Button(Content(self.confirm_label), id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#value").focus()

    def _text(self) -> str:
        widget = self.query_one("#value")
        return widget.text if isinstance(widget, TextArea) else widget.value  # type: ignore[attr-defined]

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        self.dismiss(self._text())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
