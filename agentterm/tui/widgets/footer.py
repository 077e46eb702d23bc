"""Textual's footer, composed in the first frame and once for a burst of binding changes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey


class Footer(TextualFooter):
    """Textual's footer recomposes after a refresh for each change of bindings: at start (focus
    moving while the screen mounts) that is five recomposes, the keys appearing about 200 ms after
    the rest of the screen. Here the first compose comes before the first frame, and later changes
    make one recompose after the next frame (a focus change still shows at once: the footer's
    recompose, 15 to 50 ms, follows it rather than delaying it)."""

    _recompose_pending = False

    def compose(self) -> ComposeResult:
        # A FooterKey starts compact and is then bound to the footer's (not compact) value: each
        # key was styled twice as it mounted (a sixth of the first frame's work after imports).
        # Given the footer's value first, the binding finds nothing to change.
        # (The command palette's key is not bound: it stays compact, as Textual draws it.)
        for widget in super().compose():
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not (screen.app.app_focus and self.is_attached and screen is self.screen):
            return
        if not self.children:
            self.refresh(recompose=True)
        elif not self._recompose_pending:
            self._recompose_pending = True
            self.call_after_refresh(self._recompose_once)

    async def _recompose_once(self) -> None:
        self._recompose_pending = False
        await self.recompose()
