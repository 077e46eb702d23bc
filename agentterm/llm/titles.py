"""Conversation titles: cleaning what a model wrote, and the fallback when it wrote nothing useful."""

from __future__ import annotations

import re

MAX_CHARS = 60
MAX_WORDS = 6
EMPTY_TITLE = "New conversation"

# Reasoning models think out loud first; the title is what follows.
_THINK = re.compile(r"<(think|thinking|reasoning)>.*?(</\1>|$)", re.IGNORECASE | re.DOTALL)
_ESCAPES = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL / ST
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b[@-Z\\-_]"  # other two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"\[/?[^\[\]]*\]")  # Rich/BBCode-style tags: [b], [/b], [bold red], [/]
_HTML = re.compile(r"</?[A-Za-z][^<>]*>")
_PREFIX = re.compile(r"^\s*(?:#+\s*|>\s*|[-*+]\s+|\d+[.)]\s+)*(?:(?:conversation\s+)?title\s*[:\-–—]\s*)?",
                     re.IGNORECASE)
_LEAD_IN = re.compile(r"^.{0,40}?\btitle\b[^:]{0,30}:\s*(.+)$", re.IGNORECASE)
_QUOTES = "\"“”„«»‹›「」『』`"
_EDGE = "'‘’ \t*_~#.,;:!?-–—()[]{}<>|/\\"
_HAS_WORD = re.compile(r"\w", re.UNICODE)


def _strip_controls(text: str) -> str:
    text = _ESCAPES.sub("", text)
    return _CONTROL.sub(" ", text)


def _cap(text: str, limit: int = MAX_CHARS) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" " + _EDGE) + "…"


def fallback_title(prompt: str) -> str:
    """The first non-empty line of the prompt, free of control characters, capped at 60 chars."""
    text = _strip_controls(prompt or "").replace("\r", "\n").replace("\t", " ")
    for line in text.split("\n"):
        line = " ".join(line.split())
        if line:
            return _cap(line)
    return EMPTY_TITLE


def clean_title(raw: str, fallback: str) -> str:
    """What a model wrote, made into a title: one line of 1 to 6 words, at most 60 characters.

    Reasoning blocks, escape sequences, control characters, Markdown, HTML and Rich-style markup
    tags, quotes and a "Title:" prefix are removed; more than six words are cut to six. When
    nothing with a letter or digit is left, `fallback` is returned (capped the same way).
    """
    text = raw if isinstance(raw, str) else ""
    text = _THINK.sub("", text)
    text = _strip_controls(text).replace("\r", "\n")
    lines = [ln.strip() for ln in text.split("\n") if _HAS_WORD.search(ln)]
    # "Here is a title:" on a line of its own: the title is on the next one.
    while len(lines) > 1 and lines[0].endswith(":"):
        lines.pop(0)
    line = lines[0] if lines else ""
    lead_in = _LEAD_IN.match(line)
    if lead_in and _HAS_WORD.search(lead_in.group(1)):
        line = lead_in.group(1)
    line = _MD_LINK.sub(r"\1", line)
    line = _HTML.sub(" ", line)
    line = _MARKUP.sub(" ", line)
    line = _PREFIX.sub("", line)
    line = line.translate({ord(c): " " for c in _QUOTES})
    line = line.replace("**", " ").replace("__", " ")
    words = [w.strip(_EDGE) for w in line.split()]
    words = [w for w in words if w]
    if not words or not any(_HAS_WORD.search(w) for w in words):
        return _cap(" ".join(fallback.split())) or EMPTY_TITLE
    title = " ".join(words[:MAX_WORDS])
    return _cap(title)


__all__ = ["clean_title", "fallback_title", "MAX_CHARS", "MAX_WORDS"]
