"""Attachment chips: under the prompt, the files its `@path` words name; in a sent prompt, what went."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from textual import work
from textual.content import Content
from textual.widgets import Static

from agentterm.sanitize import one_line

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}


def chip(path: str, detail: str, *, bad: bool = False) -> Content:
    style = "bold $text-error on $error-muted" if bad else "$text-accent on $accent-muted"
    return Content.styled(f" @{one_line(path, 60)} · {detail} ", style)


def chips(items: list[Content]) -> Content:
    return Content(" ").join(items)


def message_chips(extra: dict[str, Any] | None) -> Content | None:
    """The chips of a stored prompt's attachments (None when it has none)."""
    from agentterm.engine.attachments import human_size

    records = [a for a in (extra or {}).get("attachments", ()) if isinstance(a, dict)]
    if not records:
        return None
    shown = []
    for record in records:
        size = human_size(int(record.get("bytes") or 0))
        shown.append(chip(str(record.get("path", "")), f"image {size}" if record.get("kind") == "image" else size))
    return chips(shown)


def look(path: str, base: Path, max_bytes: int) -> tuple[str, bool]:
    """What a chip says of a file before it is sent: its size, or what is wrong (no read)."""
    from agentterm.engine.attachments import AttachmentError, human_size, resolve

    try:
        target = resolve(path, base)
        info = os.stat(target)  # never blocks: a FIFO is only looked at
    except AttachmentError:
        return "refused", True
    except OSError as error:
        return ("loop" if error.errno == 40 else "missing" if error.errno == 2 else "unreadable"), True
    if stat.S_ISDIR(info.st_mode):
        return "a directory", True
    if not stat.S_ISREG(info.st_mode):
        return "not a file", True
    if target.suffix.lower() in IMAGE_SUFFIXES:
        return f"image {human_size(info.st_size)}", False
    if info.st_size > max_bytes:
        return f"{human_size(info.st_size)}: too big", True
    return human_size(info.st_size), False


class AttachmentBar(Static):
    """Under the prompt: the chips of what its `@path` words would attach, and the paths that
    complete the one being typed. Shown only while there is one or the other."""

    DEFAULT_CSS = """
    AttachmentBar { height: auto; max-height: 4; padding: 0 1; display: none; }
    """

    _chips: list[Content] = []
    _matches: list[str] = []

    def show_for(self, text: str) -> None:
        if "@" not in text:
            self._chips = []
            self._render_bar()
            return
        self._look(text)

    def show_completions(self, matches: list[str]) -> None:
        self._matches = matches
        self._render_bar()

    @work(thread=True, exclusive=True, group="chips", exit_on_error=False)
    def _look(self, text: str) -> None:
        from agentterm.engine.attachments import references

        max_bytes = int(getattr(self.app.settings, "max_attachment_bytes", 256 * 1024))
        base = Path.cwd()
        found = []
        for path in references(text)[:20]:
            detail, bad = look(path, base, max_bytes)
            found.append(chip(path, detail, bad=bad))
        self.app.call_from_thread(self._found, found)

    def _found(self, found: list[Content]) -> None:
        self._chips = found
        self._render_bar()

    def _render_bar(self) -> None:
        lines = []
        if self._chips:
            lines.append(chips(self._chips))
        if self._matches:
            from agentterm.tui.keymap import key_label

            shown = "  ".join(one_line(m, 40) for m in self._matches[:8])
            more = f"  (+{len(self._matches) - 8})" if len(self._matches) > 8 else ""
            lines.append(Content.assemble((f"{key_label(self, 'chat.complete')} completes: ", "dim"),
                                          shown + more))
        self.display = bool(lines)
        if lines:
            self.update(Content("\n").join(lines))
