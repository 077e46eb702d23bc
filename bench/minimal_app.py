"""The yardstick for start-up: a minimal Textual app, a sidebar OptionList beside a TextArea."""

from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.widgets import OptionList, TextArea

READY = "Minimal conversation 20"


class MinimalApp(App[None]):
    CSS = "OptionList { width: 32; height: 1fr; } TextArea { width: 1fr; height: 1fr; }"

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield OptionList(*[f"Minimal conversation {n}" for n in range(1, 21)])
            yield TextArea("Type here")


if __name__ == "__main__":
    MinimalApp().run()
