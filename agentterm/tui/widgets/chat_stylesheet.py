"""Mixed into ChatPane: the pane's rules (messages, the prompt, the header) are read with the
pane, not before the first frame, where the pane is not shown (docs/performance.md, start-up)."""

from __future__ import annotations

from pathlib import Path

CHAT_CSS = Path(__file__).resolve().parent.parent / "chat.tcss"


class ChatStylesheet:
    def _post_register(self, app) -> None:
        # Where Textual adds a widget's DEFAULT_CSS, before the pane and its children are styled;
        # a user stylesheet, as app.tcss (added once: the same source again is a no-op).
        stylesheet = app.stylesheet
        if not stylesheet.has_source(str(CHAT_CSS), ""):
            stylesheet.add_source(CHAT_CSS.read_text(encoding="utf-8"), read_from=(str(CHAT_CSS), ""))
        super()._post_register(app)  # type: ignore[misc]
