"""The key hints as one widget drawing one line, drawn like Textual's footer."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


class Footer(Widget, can_focus=False):
    """Textual's footer mounts a widget per key and recomposes them on each change of bindings
    (35 to 65 ms before the first frame). This one draws the same line from the screen's active
    bindings and maps a click back to its key."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"footer-key--key", "footer-key--description", "footer--palette-border"}
    DEFAULT_CSS = """
    Footer {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .footer--palette-border { color: $foreground 20%; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._spans: list[tuple[int, int, str, bool]] = []  # start, end, key, enabled
        self._bindings: dict | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        if screen.app.app_focus and screen is self.screen:
            self._bindings = None
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("footer-key--key")
        text_style = self.get_component_rich_style("footer-key--description")
        app = self.app
        # Kept until the bindings change: under a modal screen this one's are not what it shows.
        if self._bindings is None:
            self._bindings = self.screen.active_bindings
        bindings = self._bindings
        palette = bindings.get(app.COMMAND_PALETTE_BINDING) if app.ENABLE_COMMAND_PALETTE else None
        line, spans, seen = Text(), [], set()
        for _node, binding, enabled, _tooltip in bindings.values():
            if not binding.show or binding.action in seen or (palette and binding is palette[1]):
                continue
            seen.add(binding.action)
            start = line.cell_len
            line.append(f" {app.get_key_display(binding)} ", key_style)
            line.append(f"{binding.description} ", text_style)
            spans.append((start, line.cell_len, binding.key, enabled))
            if not enabled:
                line.stylize("dim", start)
        line.stylize_before(self.rich_style)
        if palette:
            # Textual docks this key right, its padding and the gap before it only background.
            _node, binding, enabled, _tooltip = palette
            fill = Style(bgcolor=self.rich_style.bgcolor)
            hint = Text.assemble(
                ("▏", self.get_component_rich_style("footer--palette-border")),
                (app.get_key_display(binding), key_style),
                (f" {binding.description}", text_style),
                (" ", fill),
            )
            # Docked, it covers the keys that do not fit before it.
            start = max(0, self.size.width - hint.cell_len)
            line.truncate(start)
            line.append(" " * (start - line.cell_len), fill)
            line.append_text(hint)
            spans.insert(0, (start, line.cell_len, binding.key, enabled))
        self._spans = spans
        return line

    def on_mouse_down(self, event: events.MouseDown) -> None:
        for start, end, key, enabled in self._spans:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
