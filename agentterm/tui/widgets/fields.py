"""Input and TextArea that never write a control character to the terminal (the value keeps it)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Input, TextArea

from agentterm.sanitize import visible_controls


class TextField(Input):
    """An Input for text that may hold escapes (a pasted prompt, a name from a file): shown safely."""

    @property
    def _value(self) -> Text:
        # Textual renders the value as it is, so an ESC in it would reach the terminal raw.
        if self.password:
            return super()._value
        text = Text(visible_controls(self.value), no_wrap=True, overflow="ignore", end="")
        if self.highlighter is not None:
            text = self.highlighter(text)
        return text


class TextBox(TextArea):
    """A TextArea that shows control characters as symbols; its text is left as it is."""

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        shown = visible_controls(line.plain)
        if shown is line.plain:
            return line
        return Text(shown, end="", no_wrap=True)
