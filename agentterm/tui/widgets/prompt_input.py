"""The prompt: a TextArea where Enter sends, ctrl+j or shift+enter starts a new line, and up
on its first line (down on its last) recalls the prompts sent before, as a shell does."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message

from textual.widgets import TextArea

from agentterm.tui.widgets.fields import TextBox
from agentterm.tui.widgets.prompt_complete import PathCompletion


class PromptInput(PathCompletion, TextBox):
    """Enter sends; a pasted block of lines is inserted as it is, never sent."""

    BINDINGS = [
        # Priority, because TextArea inserts a newline for enter before any ordinary binding runs.
        Binding("enter", "submit", "Send", id="chat.send", priority=True),
        Binding("ctrl+j,shift+enter", "newline", "New line", id="chat.newline", priority=True),
        # Only while a path is suggested (check_action); otherwise tab moves on as it did.
        Binding("tab", "complete", "Complete the path", id="chat.complete", show=False),
    ]

    @dataclass
    class PromptSubmitted(Message):
        """The user asked to send what is typed."""

        prompt_input: PromptInput
        text: str

        @property
        def control(self) -> PromptInput:
            return self.prompt_input

    @dataclass
    class HistoryWanted(Message):
        """Up was pressed with no history read yet: the pane reads it off the loop, then
        calls `set_history`, which takes the step asked for."""

        prompt_input: PromptInput

        @property
        def control(self) -> PromptInput:
            return self.prompt_input

    # Prompts sent before, newest first (None: not read yet), the one shown (-1: the text being
    # typed, which `_kept` holds while an older one is shown).
    recall: list[str] | None = None
    _recalled = -1
    _kept = ""
    _history_asked = False

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

    # History: TextArea's own up and down, which recall at the first or last line.

    def action_cursor_up(self, select: bool = False) -> None:
        if select or not self.navigator.is_first_wrapped_line(self.cursor_location):
            super().action_cursor_up(select)
        elif self.recall is None:
            if not self._history_asked:
                self._history_asked = True
                self.post_message(self.HistoryWanted(self))
        else:
            self._recall(self._recalled + 1)

    def action_cursor_down(self, select: bool = False) -> None:
        if select or self._recalled < 0 or not self.navigator.is_last_wrapped_line(self.cursor_location):
            super().action_cursor_down(select)
        else:
            self._recall(self._recalled - 1)

    def set_history(self, prompts: list[str]) -> None:
        """The prompts read for the up that asked for them; that up is taken now."""
        self.recall = prompts
        self._history_asked = False
        self._recall(self._recalled + 1)

    def forget_history(self) -> None:
        """Another conversation, or a prompt sent: read the history again at the next up."""
        self.recall = None
        self._history_asked = False
        self._recalled = -1
        self._kept = ""

    def _recall(self, index: int) -> None:
        history = self.recall or []
        if index >= len(history) or index < -1:
            if index >= len(history) and history:
                self.app.bell()  # the oldest: nothing further back
            return
        if self._recalled == -1:
            self._kept = self.text
        self._recalled = index
        text = self._kept if index == -1 else history[index]
        self.load_text(text)
        self.move_cursor(self.document.end)
        if index == -1:
            self._kept = ""

    def _on_text_area_changed(self, event: TextArea.Changed) -> None:
        # Editing a recalled prompt makes it the text being typed: up starts from the newest again.
        if self._recalled >= 0 and self.recall and self.text != self.recall[self._recalled]:
            self._recalled = -1
            self._kept = ""
