"""Single-letter keys that change data act only once the user is plainly commanding, not typing."""

from __future__ import annotations

from time import monotonic

from textual import events
from textual.binding import Binding, BindingsMap


class LetterKeys:
    """Mixed into a focusable widget whose letter keys change data (pin, archive, delete, retry).

    A letter is taken as a command only when the user has shown they are working this widget:
    after a navigation key (arrows, home, page down...), a click on it, or a pause of QUIET
    seconds. Right after the focus arrives (at start, after a dialog or an inline edit), or
    while keys come as fast as typing, it is refused with a notice: someone who believes they
    are typing a prompt never pins, archives or deletes.
    """

    LETTER_PLACE = "This list"
    """How the notice names the widget: "The sidebar list has the focus, ..."."""
    UNGUARDED: frozenset[str] = frozenset()
    """Actions whose letters are harmless (copying) and act at once."""
    QUIET = 1.0
    """Seconds without a key after which a letter is a command: typing is faster than that."""

    _letters_armed = False
    _last_typed = 0.0

    def disarm_letters(self) -> None:
        self._letters_armed = False
        self._last_typed = monotonic()

    def on_focus(self, event: events.Focus) -> None:
        self.disarm_letters()

    def on_click(self, event: events.Click) -> None:
        self._letters_armed = True

    def _letter_binding(self, key: str) -> Binding | None:
        bindings: BindingsMap = self._bindings.copy()  # type: ignore[attr-defined]
        bindings.apply_keymap(self.app._keymap)  # type: ignore[attr-defined]
        for binding in bindings.key_to_bindings.get(key, ()):
            if binding.action not in self.UNGUARDED:
                return binding
        return None

    def on_key(self, event: events.Key) -> None:
        if not event.is_printable:
            self._letters_armed = True  # a navigation key: the user is working this widget
            return
        binding = self._letter_binding(event.key)
        if binding is None:
            self.disarm_letters()  # a key meant as text: the next letter is not a command
            return
        if self._letters_armed or monotonic() - self._last_typed >= self.QUIET:
            self._letters_armed = True
            return
        self.disarm_letters()
        event.stop()
        event.prevent_default()
        key = binding.key_display or event.key
        self.notify(  # type: ignore[attr-defined]
            f"{self.LETTER_PLACE} has the focus, where {key} is {binding.description.lower()}: "
            f"not done, in case you were typing. Move the highlight or pause, then press {key}; "
            "tab moves on.", title="Not done", severity="warning", timeout=4, markup=False)
