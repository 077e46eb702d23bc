"""Where a long answer is cut into Markdown widgets so that the pieces read as the whole does."""

from __future__ import annotations

import re

from agentterm.tui.widgets.markdown_text import context_after_line

# A long answer is several Markdown widgets of about this many characters each: while it
# streams only the last one is laid out again, and opening it lays out only its end, so the cost
# follows what is on screen, not the length of the answer.
SEGMENT_CHARS = 2000
HARD_CHARS = 4 * SEGMENT_CHARS
"""A stretch this long with no clean place to cut (one huge paragraph or line) is cut anyway."""
LIST_ITEM = re.compile(r"(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
"""The start of an item of a top-level list (not indented)."""


def _is_row(line: str) -> bool:
    return "|" in line and bool(line.strip())


def cut_points(text: str, size: int = SEGMENT_CHARS, context: str | None = None,
               first: int | None = None, opened: list[str | None] | None = None) -> list[int]:
    """Where to cut `text`, in one pass: the first cut past `first` (default `size`), each next
    at least `size` past the one before. A cut falls after a blank line outside a code fence,
    between two one-line items of a list, between two rows of a table, or after a line of code
    in a fence (the next segment reopens the fence, or the table's header); a stretch of
    HARD_CHARS with none of those is cut at a line end, or inside a line. `context` is the
    fence or table open where `text` starts (markdown_text.context_after_line); `opened`, when
    given, gets the one open at each cut."""
    cuts: list[int] = []
    opened = opened if opened is not None else []
    want = size if first is None else first
    last = 0
    position = 0
    lines = text.split("\n")
    previous = ""
    for index, line in enumerate(lines):
        end = position + len(line) + 1
        final = index == len(lines) - 1  # no newline yet: still growing, or the text's end
        while end - 1 - max(last, position) > HARD_CHARS:
            # One huge line (a 50 MB chunk): cut inside it, at a space when there is one.
            base = max(last, position)
            space = text.rfind(" ", base + HARD_CHARS // 2, base + HARD_CHARS)
            cut = space + 1 if space >= 0 else base + HARD_CHARS
            cuts.append(cut)
            opened.append(context)
            last, want = cut, cut + size
        if final:
            break
        before = context
        context = context_after_line(line, context, previous)
        previous = line
        position = end
        if end <= want or end <= 1:
            if end - last >= HARD_CHARS and end < len(text):
                cuts.append(end)
                opened.append(context)
                last, want = end, end + size
            continue
        following = lines[index + 1]
        complete = index + 2 < len(lines)  # the next line has ended: what it is, is known
        if context is None:
            ok = not line.strip() or (complete and LIST_ITEM.match(line) is not None
                                      and LIST_ITEM.match(following) is not None)
        elif "\n" in context:  # a table: between two body rows
            ok = before == context and complete and _is_row(following)
        else:
            # Inside a fence only a top-level one is cut: reopened on its own, one nested in a
            # list (indented four or more) would read as an indented code block.
            ok = before is not None and "\n" not in before and \
                len(before) - len(before.lstrip()) < 4 and bool(line.strip())
        if (ok or end - last >= HARD_CHARS) and end < len(text):
            cuts.append(end)
            opened.append(context)
            last, want = end, end + size
    return cuts


def split_point(text: str, start: int = 0, fence: str | None = None) -> int | None:
    """The first place a segment may end in `text`, past `start` (see cut_points)."""
    cuts = cut_points(text, len(text) + 1, fence, first=start)
    return cuts[0] if cuts else None


def segments(text: str, size: int = SEGMENT_CHARS) -> list[str]:
    """Cut a Markdown text into pieces of about `size` characters that render as the whole does."""
    return split(text, size)[0]


def split(text: str, size: int = SEGMENT_CHARS) -> tuple[list[str], list[str | None]]:
    """segments() and fences() of them, in one pass."""
    opened: list[str | None] = [None]
    pieces: list[str] = []
    last = 0
    for cut in cut_points(text, size, opened=opened):
        pieces.append(text[last:cut])
        last = cut
    pieces.append(text[last:])
    return pieces, opened


def context_after(text: str, context: str | None = None) -> str | None:
    """The fence or table open at the end of `text`, given the one open at its start."""
    if "|" not in text and "```" not in text and "~~~" not in text and context is None:
        return None
    previous = ""
    for line in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
        context = context_after_line(line, context, previous)
        previous = line
    return context


def fences(pieces: list[str]) -> list[str | None]:
    """The fence or table open where each piece starts (None: outside any)."""
    opened: list[str | None] = []
    context = None
    for piece in pieces:
        opened.append(context)
        context = context_after(piece, context)
    return opened
