"""Markdown shown as one widget, laid out into Content lines at its width; links ask first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from textual.content import Content, Span
from textual.geometry import Size
from textual.message import Message
from textual.selection import Selection
from textual.style import Style
from textual.widget import Widget

if TYPE_CHECKING:
    from markdown_it.token import Token

# Bare addresses in prose are links too (as GitHub shows them); markdown-it's own linkify makes
# parsing several times slower, and this regular expression does the same job here.
BARE_URL = re.compile(r"\bhttps?://[^\s<>()\[\]`]*[^\s<>()\[\]`.,;:!?'\"*_]")
BULLETS = "•◦▪"
CODE_PAD = 2
STYLES = {
    "code_inline": "$text-warning on $warning-muted",
    "em": "italic",
    "strong": "bold",
    "s": "strike",
    "bullet": "$text-primary",
    "quote": "$text-primary 50%",
    "rule": "$secondary",
    "table_header": "bold $text-primary",
    "table_rule": "$foreground 30%",
    "code": "on $foreground 6%",
}
HEADINGS = {
    "h1": "$markdown-h1-color $markdown-h1-text-style",
    "h2": "$markdown-h2-color $markdown-h2-text-style",
    "h3": "$markdown-h3-color $markdown-h3-text-style",
    "h4": "$markdown-h4-color $markdown-h4-text-style",
    "h5": "$markdown-h5-color $markdown-h5-text-style",
    "h6": "$markdown-h6-color $markdown-h6-text-style",
}


FENCE_LINE = re.compile(r"[ \t]*(`{3,}|~{3,})(.*)")


def fence_after(text: str, fence: str | None = None) -> str | None:
    """The code fence still open at the end of `text` (its opening line), given the one open
    at its start."""
    if "```" not in text and "~~~" not in text:
        return fence
    for line in text.split("\n"):
        fence = fence_after_line(line, fence)
    return fence


TABLE_DELIMITER = re.compile(r" {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")


def context_after_line(line: str, context: str | None, previous: str = "") -> str | None:
    """What is open after `line`, given what was open before it: a code fence (its opening
    line), a table (its header and delimiter lines, so a later segment of a long table can be
    laid out as part of it), or None. `previous` is the line before (a table's header)."""
    if context is not None and "\n" in context:
        if "|" in line and line.strip():
            return context  # one more row
        context = None  # the table has ended; this line may open a fence
    if context is not None:
        return fence_after_line(line, context)
    if "|" in previous and previous.strip() and "-" in line and TABLE_DELIMITER.fullmatch(line):
        return f"{previous}\n{line}"
    return fence_after_line(line, None)


def fence_after_line(line: str, fence: str | None) -> str | None:
    """The fence open after `line`, given the one open before it."""
    match = FENCE_LINE.match(line)
    if match is None:
        return fence
    marks, rest = match.groups()
    if fence is None:
        return None if marks[0] == "`" and "`" in rest else line.rstrip()
    opening = FENCE_LINE.match(fence)
    assert opening is not None
    if marks[0] == opening[1][0] and len(marks) >= len(opening[1]) and not rest.strip():
        return None
    return fence


@lru_cache(maxsize=1)
def _parser():
    # Imported on first use: markdown-it is not needed to show the first screen.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


@lru_cache(maxsize=1024)
def _link_style(href: str) -> Style:
    return Style.from_meta({"@click": f"link({href!r})"})


def render_lines(source: str, width: int, fence: str | None = None) -> list[Content]:
    """The Markdown source laid out as lines of at most `width` cells (never parsed as markup).

    `fence`: the code fence open where this source starts (one segment of a long code block),
    reopened here; a block carried on from the segment before, or on to the next, has no
    padding line at that end, so the segments read as one block.
    """
    if not source.strip():
        return []
    if fence is not None and "\n" in fence:
        # A later segment of a long table: laid out under its header, which is not shown again.
        nodes = _tree(_parser().parse(f"{fence}\n{source}"))
        if nodes and nodes[0].type == "table":
            head = _table(nodes[0], max(width, 4), header=False)
            rest = _blocks(nodes[1:], max(width, 4))
            return head + ([Content("")] if head and rest else []) + rest
        fence = None
    nodes = _tree(_parser().parse(f"{fence.strip()}\n{source}" if fence else source))
    lines = _blocks(nodes, max(width, 4))
    if fence and nodes and nodes[0].type == "fence":
        lines = lines[1:]
    if nodes and nodes[-1].type == "fence" and fence_after(source, fence) is not None:
        lines = lines[:-1]
    return lines


class _Node:
    """A block of the document. markdown-it's SyntaxTreeNode links children to parents, and those
    cycles left thousands of objects a layout to the cyclic collector, which paused the app."""

    __slots__ = ("children", "token", "type")

    def __init__(self, kind: str, token: Token | None) -> None:
        self.type = kind
        self.token = token
        self.children: list[_Node] = []


def _tree(tokens: list[Token]) -> list[_Node]:
    root = _Node("root", None)
    stack = [root]
    for token in tokens:
        if token.nesting == 1:
            node = _Node(token.type[:-5], token)  # "bullet_list_open" -> "bullet_list"
            stack[-1].children.append(node)
            stack.append(node)
        elif token.nesting == -1:
            stack.pop()
        else:
            stack[-1].children.append(_Node(token.type, token))
    return root.children


def _blocks(nodes: list[_Node], width: int, *, tight: bool = False, depth: int = 0) -> list[Content]:
    lines: list[Content] = []
    for node in nodes:
        block = _block(node, width, depth)
        if not block:
            continue
        # A tight list's paragraphs are "hidden": its items and their lists sit on consecutive lines.
        if lines and not (tight and (node.type in ("bullet_list", "ordered_list") or (
                node.type == "paragraph" and node.token is not None and node.token.hidden))):
            lines.append(Content(""))
        lines.extend(block)
    return lines


def _text(node: _Node) -> Content:
    """The inline content of a paragraph, heading or table cell."""
    return _inline(node.children[0].token) if node.children and node.children[0].token else Content("")


def _block(node: _Node, width: int, depth: int) -> list[Content]:
    kind = node.type
    token = node.token
    if kind == "paragraph":
        return _text(node).wrap(width)
    if kind == "heading":
        tag = token.tag if token is not None else "h1"
        return _text(node).stylize_before(HEADINGS.get(tag, "bold")).wrap(width)
    if kind in ("bullet_list", "ordered_list"):
        return _list(node, width, depth)
    if kind == "blockquote":
        bar = Content.styled("▌ ", STYLES["quote"])
        return [bar + line for line in _blocks(node.children, width - 2, depth=depth)]
    if token is None:
        return []
    if kind in ("fence", "code_block"):
        return _code(token.content, (token.info or "").split(" ", 1)[0], width)
    if kind == "hr":
        return [Content.styled("─" * width, STYLES["rule"])]
    if kind == "table":
        return _table(node, width)
    if kind == "html_block":
        return Content(token.content.rstrip("\n")).wrap(width)
    if node.children:
        return _blocks(node.children, width, depth=depth)
    return Content(token.content).wrap(width) if token.content else []


def _list(node: _Node, width: int, depth: int) -> list[Content]:
    ordered = node.type == "ordered_list"
    attrs = node.token.attrs if node.token is not None else {}
    start = int(attrs.get("start", 1)) if ordered else 1
    items = [child for child in node.children if child.type == "list_item"]
    if ordered:
        size = len(f"{start + len(items) - 1}.") + 1
        marks = [f"{start + index}.".rjust(size - 1) + " " for index in range(len(items))]
    else:
        size = 2
        marks = [BULLETS[depth % len(BULLETS)] + " "] * len(items)
    tight = all(child.token is not None and child.token.hidden
                for item in items for child in item.children if child.type == "paragraph")
    lines: list[Content] = []
    indent = Content(" " * size)
    for mark, item in zip(marks, items):
        body = _blocks(item.children, width - size, tight=tight, depth=depth + (not ordered)) or [Content("")]
        if lines and not tight:
            lines.append(Content(""))
        lines.append(Content.styled(mark, STYLES["bullet"]) + body[0])
        lines.extend(indent + line for line in body[1:])
    return lines


def _code(code: str, language: str, width: int) -> list[Content]:
    from textual.highlight import highlight

    code = code.rstrip("\n").expandtabs(4)
    inner = max(width - 2 * CODE_PAD, 2)
    # No language named: shown plain, since guessing one costs more than the rest together.
    text = highlight(code, language=language or "text") if code else Content("")
    pad = Content(" " * CODE_PAD)
    blank = Content(" " * width).stylize(STYLES["code"])
    lines = [blank]
    for line in text.split("\n", allow_blank=True):
        for part in (line.fold(inner) if line.cell_length > inner else [line]):
            line = pad + part.pad_right(inner - part.cell_length) + pad
            lines.append(line.stylize_before(STYLES["code"]))
    lines.append(blank)
    return lines


def _table(node: _Node, width: int, header: bool = True) -> list[Content]:
    rows: list[list[Content]] = []
    header_rows = 0
    for section in node.children:
        for row in section.children:
            rows.append([_text(cell) for cell in row.children])
            if section.type == "thead":
                header_rows += 1
    if not rows:
        return []
    columns = max(len(row) for row in rows)
    for row in rows:
        row.extend(Content("") for _ in range(columns - len(row)))
    separator = Content.styled(" │ ", STYLES["table_rule"])
    room = max(width - 3 * (columns - 1), columns)
    natural = [max(max((row[c].cell_length for row in rows), default=0), 1) for c in range(columns)]
    widths = natural[:]
    while sum(widths) > room:
        # Take a cell from the widest column until the table fits.
        widest = max(range(columns), key=lambda c: widths[c])
        if widths[widest] <= 3:
            break
        widths[widest] -= 1
    lines: list[Content] = []
    for index, row in enumerate(rows):
        wrapped = [cell.wrap(widths[c]) or [Content("")] for c, cell in enumerate(row)]
        for y in range(max(len(cell) for cell in wrapped)):
            parts = []
            for c, cell in enumerate(wrapped):
                part = cell[y] if y < len(cell) else Content("")
                part = part.pad_right(widths[c] - part.cell_length)
                if index < header_rows:
                    part = part.stylize_before(STYLES["table_header"])
                parts.append(part)
            lines.append(separator.join(parts).rstrip())
        if index == header_rows - 1:
            lines.append(Content.styled("─┼─".join("─" * w for w in widths), STYLES["table_rule"]))
            if not header:  # the header's width counts (columns line up), its lines are not shown
                lines.clear()
    return lines


INLINE_STYLES = {"em_open": "em", "strong_open": "strong", "s_open": "s"}


def _inline(token: Token) -> Content:
    """An inline token's text with its styles; links become a click that asks before opening."""
    text: list[str] = []
    spans: list[Span] = []
    opened: list[tuple[int, str | Style]] = []
    position = 0
    links = 0
    for child in token.children or ():
        kind = child.type
        piece = ""
        if kind == "text":
            piece = child.content
            if not links:
                for match in BARE_URL.finditer(piece):
                    spans.append(Span(position + match.start(), position + match.end(),
                                      _link_style(match.group())))
        elif kind == "softbreak":
            piece = " "
        elif kind == "hardbreak":
            piece = "\n"
        elif kind == "code_inline":
            piece = child.content
            spans.append(Span(position, position + len(piece), STYLES["code_inline"]))
        elif kind in INLINE_STYLES:
            opened.append((position, STYLES[INLINE_STYLES[kind]]))
        elif kind == "link_open":
            links += 1
            opened.append((position, _link_style(str(child.attrs.get("href", "")))))
        elif kind == "image":
            piece = "🖼 " + "".join(grandchild.content for grandchild in child.children or ())
            spans.append(Span(position, position + len(piece), _link_style(str(child.attrs.get("src", "")))))
        elif kind.endswith("_close"):
            if kind == "link_close":
                links -= 1
            if opened:
                start, style = opened.pop()
                spans.append(Span(start, position, style))
        else:
            piece = child.content  # html_inline and anything new: shown as the text it is
        if piece:
            text.append(piece)
            position += len(piece)
    return Content("".join(text), spans)


_warm = False


def warm_up() -> None:
    """Import and build what the first answer's layout needs (markdown-it, the highlighter):
    about 80 ms the first time, better spent in a thread while the request goes out than on the
    event loop at the first flush (where it also made the next flushes wait: they are spaced by
    what the last one cost)."""
    global _warm
    if not _warm:
        _warm = True
        render_lines("# A\n\n```python\nx = 1\n```\n", 40)


class NoRelayout:
    """Mixed into a widget: its size changing in a layout does not ask for another layout.

    Textual sets a widget's virtual_size after each layout, and that reactive asks for a full
    layout of the screen again: with a streaming answer, each flush laid the screen out twice,
    the second time to the same result. The size is still recorded (and a scrolling container's
    scrollbars updated); whatever changes a widget's content asks for its own layout.
    """

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)  # type: ignore[misc]


class MarkdownText(NoRelayout, Widget):
    """Markdown in one widget, where Textual's Markdown mounts one widget per block (each laid out
    again on every change). Laid out again only when its width or its text changes; selectable
    as text; a click on a link posts LinkClicked and opens nothing."""

    DEFAULT_CSS = """
    MarkdownText {
        height: auto;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    @dataclass
    class LinkClicked(Message):
        """A link in the text was clicked; whoever handles it decides whether to open it."""

        href: str

    def __init__(self, source: str = "", *, fence: str | None = None, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self._source = source
        self.fence = fence
        """The code fence open where this text starts (it is a later part of a long block)."""
        self._laid_out: tuple[int, Content, int] | None = None

    @property
    def source(self) -> str:
        return self._source

    def update(self, source: str) -> None:
        """Show another text; only this widget is laid out again."""
        if source == self._source:
            return
        laid_out = self._laid_out
        self._source = source
        self._laid_out = None
        if laid_out is not None and self._layout(laid_out[0])[1] == laid_out[2]:
            # As tall as before (a streamed chunk that ended on the same line): nothing moves,
            # so only this widget is painted again, with no layout of the screen.
            self.refresh()
        else:
            self.refresh(layout=True)

    def _layout(self, width: int) -> tuple[Content, int]:
        laid_out = self._laid_out
        if laid_out is None or laid_out[0] != width:
            lines = render_lines(self._source, width, self.fence)
            laid_out = self._laid_out = (width, Content("\n").join(lines), len(lines))
        return laid_out[1], laid_out[2]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._layout(width)[1]

    def render(self) -> Content:
        return self._layout(self.size.width)[0]

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        text = str(self._layout(self.size.width)[0])
        extracted = selection.extract(text)
        # Code blocks are padded to the width: copied text should not be.
        return "\n".join(line.rstrip() for line in extracted.split("\n")), "\n"

    def action_link(self, href: str) -> None:
        # As written: decoding it here would show one address and open another (issue 8.11).
        self.post_message(self.LinkClicked(href))
