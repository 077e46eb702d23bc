"""Small modal dialogs: a yes/no confirmation and a choice between a few answers."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, HorizontalScroll, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from agentterm.sanitize import as_text

DIALOG_CSS = """
{name} {
    align: center middle;
}
{name} > #dialog {
    width: 64;
    max-width: 95%;
    height: auto;
    max-height: 90%;
    border: thick $primary;
    background: $surface;
    padding: 0 1;
}
{name}.-danger > #dialog {
    border: thick $error;
}
{name} #dialog-title {
    text-style: bold;
    width: 100%;
    margin-bottom: 1;
}
{name} #dialog-body {
    height: auto;
    max-height: 12;
}
{name} #dialog-buttons {
    height: auto;
    margin-top: 1;
    align-horizontal: right;
}
{name} #dialog-buttons Button {
    margin-left: 1;
    min-width: 10;
}
"""


class _Dialog:
    """Shared parts: the title and body as plain text (they may hold names from a file or a
    server), and a click on the dimmed background cancels."""

    def _compose_text(self, title: str, body: str) -> ComposeResult:
        yield Static(as_text(title), id="dialog-title")
        with VerticalScroll(id="dialog-body"):
            yield Static(as_text(body))

    def on_click(self, event: events.Click) -> None:
        if event.widget is self:
            self.action_cancel()  # type: ignore[attr-defined]


class ConfirmScreen(_Dialog, ModalScreen[bool]):
    """Ask a yes/no question; dismisses with True (y, enter, the confirm button) or False."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "ConfirmScreen")

    BINDINGS = [
        Binding("y", "confirm", "Yes", id="confirm.yes"),
        Binding("n,escape", "cancel", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, body: str = "", confirm_label: str = "OK", danger: bool = False) -> None:
        super().__init__(classes="-danger" if danger else None)
        self.dialog_title = title
        self.body = body
        self.confirm_label = confirm_label
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield from self._compose_text(self.dialog_title, self.body)
            with Horizontal(id="dialog-buttons"):
                yield Button(Content("Cancel"), id="cancel")
                yield Button(
                    Content(self.confirm_label),
                    id="confirm",
                    variant="error" if self.danger else "primary",
                )

    def on_mount(self) -> None:
        # Enter presses the focused button, so focusing "confirm" makes enter confirm.
        self.query_one("#confirm", Button).focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class LinkScreen(ConfirmScreen):
    """Open a link from an answer? The host named apart, then the exact URL the browser gets, on
    one line (scrolled sideways when long, never wrapped), as text."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "LinkScreen") + """
    LinkScreen #link-host {
        text-style: bold;
    }
    LinkScreen #link-url {
        height: auto;
        max-height: 3;
        overflow-x: auto;
        overflow-y: hidden;
        margin: 1 0;
        background: $boost;
    }
    LinkScreen #link-url Static {
        width: auto;
        text-wrap: nowrap;
    }
    """

    def __init__(self, url: str, host: str) -> None:
        super().__init__("Open this link?", confirm_label="Open")
        self.url = url
        self.host = host

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(as_text(self.dialog_title), id="dialog-title")
            yield Static(Content.assemble(("Host: ", "not bold"), self.host), id="link-host")
            with HorizontalScroll(id="link-url"):
                yield Static(Content(self.url), markup=False)
            yield Static(Content("It came from a model's answer: the browser opens exactly this "
                                 "address. Check the host before opening it."))
            with Horizontal(id="dialog-buttons"):
                yield Button(Content("Cancel"), id="cancel")
                yield Button(Content(self.confirm_label), id="confirm", variant="primary")


class ChoiceScreen(_Dialog, ModalScreen[str | None]):
    """Offer a few answers, each a (label, value) pair, Textual's Select order; dismisses with
    the chosen value, or None when cancelled. Keys 1-9 pick by position."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "ChoiceScreen") + """
    ChoiceScreen #choices {
        height: auto;
        max-height: 12;
        margin-top: 1;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice.cancel")] + [
        Binding(str(n), f"choose({n - 1})", show=False) for n in range(1, 10)
    ]

    def __init__(self, title: str, body: str, choices: list[tuple[str, str]], danger: bool = False) -> None:
        super().__init__(classes="-danger" if danger else None)
        self.dialog_title = title
        self.body = body
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield from self._compose_text(self.dialog_title, self.body)
            options = [
                Option(Content(f"{index + 1}  {label}" if index < 9 else f"   {label}"), id=str(index))
                for index, (label, _value) in enumerate(self.choices)
            ]
            yield OptionList(*options, id="choices", markup=False)
            with Horizontal(id="dialog-buttons"):
                yield Button(Content("Cancel"), id="cancel")

    def on_mount(self) -> None:
        choices = self.query_one("#choices", OptionList)
        choices.highlighted = 0 if self.choices else None
        choices.focus()

    def action_choose(self, index: int) -> None:
        if 0 <= index < len(self.choices):
            self.dismiss(self.choices[index][1])

    @on(OptionList.OptionSelected, "#choices")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_choose(event.option_index)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
