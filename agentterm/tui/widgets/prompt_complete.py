"""Path completion in the prompt: after `@`, the rest of a path is suggested as you type (issue 12.7)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import work
from textual.message import Message

# The most paths offered for one word; the folder is scanned off the event loop, bounded.
MATCHES = 50


class PathCompletion:
    """Mixed into PromptInput (a TextArea): its `suggestion` shows the rest of the first path
    that completes the `@word` before the cursor; tab (or right) takes it. Every path that
    completes it is posted to the pane, which lists them under the prompt."""

    @dataclass
    class Completions(Message):
        matches: list[str]

    _offered: bool = False

    def _at_word(self) -> str | None:
        """The `@word` ending at the cursor, when the cursor ends a word (None otherwise)."""
        row, column = self.cursor_location  # type: ignore[attr-defined]
        line = self.document.get_line(row)  # type: ignore[attr-defined]
        if column < len(line) and not line[column].isspace():
            return None
        start = column
        while start > 0 and not line[start - 1].isspace():
            start -= 1
        word = line[start:column]
        return word if word.startswith("@") else None

    def update_suggestion(self) -> None:
        # TextArea's hook, after each edit: the folder is listed in a thread, never here.
        word = self._at_word()
        if word is None:
            self.suggestion = ""
            if self._offered:
                self._offered = False
                self.post_message(self.Completions([]))  # type: ignore[attr-defined]
            return
        self._complete(word, self.text, self.cursor_location)  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="complete", exit_on_error=False)
    def _complete(self, word: str, text: str, location: tuple[int, int]) -> None:
        from agentterm.engine.attachments import completions

        matches = completions(word[1:], Path.cwd(), limit=MATCHES)
        self.app.call_from_thread(self._completed, word, text, location, matches)  # type: ignore[attr-defined]

    def _completed(self, word: str, text: str, location: tuple[int, int], matches: list[str]) -> None:
        if self.text != text or self.cursor_location != location:  # type: ignore[attr-defined]
            return  # typed on meanwhile: that edit asked again
        typed = word[1:]
        first = next((m for m in matches if m.startswith(typed) and m != typed), None)
        self.suggestion = first[len(typed):] if first else ""
        offered = [m for m in matches if m != typed]
        if offered or self._offered:
            self._offered = bool(offered)
            self.post_message(self.Completions(offered))  # type: ignore[attr-defined]

    def action_complete(self) -> None:
        if self.suggestion:
            self.insert(self.suggestion)  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # With nothing to complete, tab is the app's (the next field), as before.
        if action == "complete":
            return bool(self.suggestion)
        return True
