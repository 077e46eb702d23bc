"""The prompt: a TextArea where Enter sends and ctrl+j or shift+enter starts a new line."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message

from agentterm.tui.widgets.fields import TextBox


class PromptInput(TextBox):
    """Enter sends; a pasted block of lines is inserted as it is, never sent."""

    BINDINGS = [
        # Priority, because TextArea inserts a newline for enter before any ordinary binding runs.
        Binding("enter", "submit", "Send", id="chat.send", priority=True),
        Binding("ctrl+j,shift+enter", "newline", "New line", id="chat.newline", priority=True),
    ]

    @dataclass
    class PromptSubmitted(Message):
        """The user asked to send what is typed."""

        prompt_input: PromptInput
        text: str

        @property
        def control(self) -> PromptInput:
            return self.prompt_input

    def __init__(self, *, id: str | None = None, placeholder: str = "") -> None:
        super().__init__(
            "",
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            highlight_cursor_line=False,
            placeholder=placeholder,
            id=id,
        )

    def _on_paste(self, event: events.Paste) -> None:
        from agentterm.engine import prompt_too_long

        # Refused whole, not cut: a cut prompt would read as complete. prevent_default keeps
        # TextArea's own handler (next in the MRO) from inserting it; otherwise that one runs.
        if why := prompt_too_long(self.text + event.text):
            event.prevent_default()
            event.stop()
            self.notify(f"{why} The paste was not inserted.", title="Too long to paste",
                        severity="warning", markup=False)

    def action_submit(self) -> None:
        # A priority binding runs in the app before the keys typed just ahead of it reach this
        # widget's queue (a fast typist, tmux send-keys): read the text once they are inserted.
        self.call_later(self._submit)

    def _submit(self) -> None:
        text = self.text
        if text.strip():
            self.post_message(self.PromptSubmitted(self, text))

    def action_newline(self) -> None:
        self.insert("\n")
