"""Markdown laid out into one widget: blocks, code, tables, links that only ask, text never markup."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.selection import Selection
from textual.geometry import Offset

from agentterm.tui.widgets.markdown_text import MarkdownText, render_lines

DOC = """# Title

A paragraph with `code`, *em*, **strong** and a [link](https://example.com/a?b=1).

- one
- two
  - nested item that is long enough to wrap at a narrow width

1. first
2. second

> quoted words

```python
def f(x):
    return x
```

| name | value |
| --- | --- |
| a | 1 |

---
"""


def plain(source: str, width: int = 40) -> list[str]:
    return [line.plain for line in render_lines(source, width)]


def clicks(source: str, width: int = 80) -> list[tuple[str, str]]:
    """(text, action) for each span of the laid-out lines that runs an action when clicked."""
    found = []
    for line in render_lines(source, width):
        for span in line.spans:
            style = span.style
            meta = getattr(style, "meta", {}) if not isinstance(style, str) else {}
            if "@click" in meta:
                found.append((line.plain[span.start:span.end], meta["@click"]))
    return found


def test_blocks_are_laid_out_within_the_width():
    lines = plain(DOC, 40)
    assert lines[0] == "Title"
    assert "• one" in lines and "• two" in lines
    assert "1. first" in lines and "2. second" in lines
    assert "▌ quoted words" in lines
    assert any(line.strip() == "def f(x):" for line in lines)
    assert any(line.startswith("name │ value") for line in lines)
    assert "─" * 40 in lines
    assert all(len(line) <= 40 for line in lines)
    # A wrapped list item keeps its indent.
    nested = next(i for i, line in enumerate(lines) if "nested item" in line)
    assert lines[nested].startswith("  ◦ ") and lines[nested + 1].startswith("    ")


def test_code_keeps_its_lines_and_is_folded_not_wrapped():
    source = "```\n" + "x" * 100 + "\n  indented\n```\n"
    lines = plain(source, 30)
    code = [line.rstrip() for line in lines[1:-1]]
    assert "".join(line.strip() for line in code[:-1]) == "x" * 100
    assert code[-1] == "    indented"


def test_links_ask_first_and_markup_is_text():
    source = ("See [docs](https://example.com/x) or https://bare.example/p. "
              "[@click=app.quit]no[/] [b]bold[/b] `[@click=app.quit]`")
    lines = plain(source, 200)
    assert "[@click=app.quit]no[/] [b]bold[/b]" in lines[0]
    assert clicks(source, 200) == [("docs", "link('https://example.com/x')"),
                                   ("https://bare.example/p", "link('https://bare.example/p')")]


def test_a_quote_in_a_url_cannot_break_out_of_the_action():
    source = "[x](https://e.example/'),app.quit('), https://e.example/a'b"
    for _, action in clicks(source):
        assert action.startswith("link(") and "app.quit" not in action.split("'")[0]
        from textual.actions import parse

        name, params = parse(action)[1:]
        assert name == "link" and len(params) == 1


def test_empty_text_has_no_lines():
    assert render_lines("", 40) == [] and render_lines("  \n\n", 40) == []


class One(App):
    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source
        self.links: list[str] = []

    def compose(self) -> ComposeResult:
        yield MarkdownText(self.source)

    def on_markdown_text_link_clicked(self, event: MarkdownText.LinkClicked) -> None:
        self.links.append(event.href)


async def test_a_click_on_a_link_posts_it_and_a_resize_lays_out_again():
    app = One("Go to [the docs](https://example.com/d%20s) now, please, " + "word " * 30)
    async with app.run_test(size=(40, 10)) as pilot:
        widget = app.query_one(MarkdownText)
        assert widget.size.height == len(render_lines(widget.source, 40))
        await pilot.click(MarkdownText, offset=(8, 0))
        await pilot.pause()
        assert app.links == ["https://example.com/d%20s"]  # as the browser will get it
        await pilot.resize_terminal(20, 10)
        await pilot.pause()
        assert widget.size.height == len(render_lines(widget.source, 20)) > 2


async def test_selected_code_is_copied_without_its_padding():
    app = One("```\nprint(1)\n```\n")
    async with app.run_test(size=(40, 10)):
        widget = app.query_one(MarkdownText)
        text, _ = widget.get_selection(Selection(Offset(0, 0), Offset(40, 2)))
        assert text == "\n  print(1)\n"


async def test_an_update_that_keeps_the_height_is_painted_without_a_layout():
    app = One("Streaming the first words")
    async with app.run_test(size=(40, 10)) as pilot:
        widget = app.query_one(MarkdownText)
        widget.update("Streaming the first words and more")
        assert not widget._layout_required
        await pilot.pause()
        assert "and more" in app.screen._compositor.render_strips()[0].text
        widget.update("Streaming the first words and more, and then a line too long for one row")
        assert widget._layout_required
        await pilot.pause()
        assert widget.size.height == 2
