"""Making untrusted text (model output, titles, names, server errors, imported files) safe to show."""

from __future__ import annotations

import re
import unicodedata

from rich.text import Text

# Rich and Textual pass ESC and the C1 controls through to the terminal, so model text could set
# the clipboard (OSC 52), disguise a link (OSC 8), clear the screen or retitle the window.
# Whole sequences go, not just their ESC, so no "[31m" litter is left behind. A string sequence
# (OSC, DCS, SOS, PM, APC) with no terminator ends at the line's end: one stray ESC ] hides at
# most the rest of its line.
_SEQUENCE = (
    r"(?P<str>\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?P<st>\x07|\x1b\\|\x9c)?"
    r"|(?P<csi>\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*(?P<csi_end>[\x40-\x7e])?"
    r"|\x1b[\x20-\x2f]*(?P<esc_end>[\x30-\x7e])?"
)
# Every other C0 control but \t and \n, DEL, the C1 controls; and the bidi embeddings, overrides
# and isolates that make text read differently from what it is ("Trojan Source").
_CONTROLS = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
_REMOVE = re.compile(f"{_SEQUENCE}|{_CONTROLS}")
_SEQUENCE_RE = re.compile(_SEQUENCE)
_SURROGATE = re.compile("[\ud800-\udfff]")
_SUSPECT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_INTRODUCER = re.compile("[\x1b\x90\x98\x9b\x9d\x9e\x9f]")
_WHITESPACE = re.compile(r"\s+")
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
ELLIPSIS = "…"


_ASCII_SUSPECT = bytes(range(0x09)) + bytes(range(0x0B, 0x20)) + b"\x7f"


def _plain_ascii(text: str) -> bool:
    """ASCII holding no control but newline and tab: checked in C at memory speed, where the
    regular expressions take a second for each 50 MB (a huge chunk froze the app, issue 8.17)."""
    if not text.isascii():
        return False
    data = text.encode("ascii")
    return len(data.translate(None, _ASCII_SUSPECT)) == len(data)


def strip_escapes(text: str) -> str:
    """Text without terminal escape sequences, controls (but \\n and \\t), bidi overrides or lone surrogates."""
    if _plain_ascii(text) or not _SUSPECT.search(text):
        return text  # the common case, and the one streaming hits per chunk
    text = _REMOVE.sub("", text)
    return _SURROGATE.sub("\ufffd", text)


def for_terminal(text: str) -> str:
    """Text for the command line's stdout: no escapes or controls, newlines and tabs kept."""
    return strip_escapes(text)


def one_line(text: str, max_len: int | None = None) -> str:
    """Text for a title or a name: clean, on one line, whitespace collapsed, capped with an ellipsis."""
    text = _WHITESPACE.sub(" ", strip_escapes(text)).strip(" " + _ZERO_WIDTH)
    if max_len is None or len(text) <= max_len:
        return text
    if max_len < 1:
        raise ValueError("max_len must be at least 1")
    cut = max_len - 1
    while cut > 0 and unicodedata.combining(text[cut]):
        cut -= 1  # an accent stays with its letter
    return text[:cut].rstrip(" " + _ZERO_WIDTH) + ELLIPSIS


# Same length, so an editor's cursor and selection still line up: a C0 control as its Unicode
# "control picture" (ESC shows as ␛), DEL as ␡, a C1 control, bidi override or lone surrogate as �.
_VISIBLE = {
    **{code: 0x2400 + code for code in range(0x20) if code not in (0x09, 0x0A)},
    0x7F: 0x2421,
    **{code: 0xFFFD for code in range(0x80, 0xA0)},
    **{code: 0xFFFD for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))},
}


def visible_controls(text: str) -> str:
    """Text for an editable field: the same characters, but controls shown as harmless symbols.

    An editor must keep what it edits (a pasted prompt is sent byte for byte), so nothing is
    removed; only what reaches the terminal changes.
    """
    if not _SUSPECT.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text.translate(_VISIBLE))


def as_text(text: str, style: str = "") -> Text:
    """A Rich Text of the cleaned string: never parsed as markup, so "[@click=...]" stays literal."""
    return Text(strip_escapes(text), style=style)


def _is_open(match: re.Match[str]) -> bool:
    """Whether a sequence that reaches the end of the input could go on in the next chunk."""
    if match["str"]:
        return match["st"] is None
    if match["csi"]:
        return match["csi_end"] is None
    return match["esc_end"] is None


class EscapeFilter:
    """strip_escapes for a stream: holds back a sequence split across chunks until it is whole."""

    MAX_HOLD = 2048
    """Longest unfinished sequence held back; past it the text is let through (cleaned) to keep the stream moving."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, chunk: str) -> str:
        """The cleaned text that is safe to show now; an unfinished sequence at the end waits."""
        text = self._held + chunk if self._held else chunk
        self._held = ""
        if (text.isascii() and "\x1b" not in text) or not _INTRODUCER.search(text):
            return strip_escapes(text)  # the other introducers are not ASCII
        last = None
        for last in _SEQUENCE_RE.finditer(text):
            pass
        if last and last.end() == len(text) and _is_open(last) and len(text) - last.start() <= self.MAX_HOLD:
            self._held = text[last.start() :]
            text = text[: last.start()]
        return strip_escapes(text)

    def flush(self) -> str:
        """Whatever was held back, cleaned: call it when the stream ends."""
        held, self._held = self._held, ""
        return strip_escapes(held)
