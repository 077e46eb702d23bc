"""Textual's footer, composed in the first frame and once for a burst of binding changes."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """Textual's footer waits for a refresh after each change of bindings before it recomposes:
    at start (focus moving while the screen mounts) that is five recomposes, the keys appearing
    about 200 ms after the rest of the screen. Here a change asks for one recompose at the next
    idle moment, which comes before the first frame."""

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self.refresh(recompose=True)
