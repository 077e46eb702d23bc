"""Untrusted text reaches the screen as text: no escape sequence, control or markup gets through."""

from __future__ import annotations

import io
import random
import re

import pytest
from rich.console import Console
from rich.errors import MarkupError
from rich.text import Text

from agentterm.sanitize import EscapeFilter, as_text, for_terminal, one_line, strip_escapes

# Anything here reaching the terminal could act on it rather than be shown.
DANGEROUS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        # CSI: colours, clearing the screen, the alternate screen, moving the cursor
        ("a\x1b[31mred\x1b[0m b", "ared b"),
        ("\x1b[2J\x1b[Hafter", "after"),
        ("\x1b[?1049hhidden", "hidden"),
        ("x\x1b[38;2;255;0;0mtrue\x1b[m", "xtrue"),
        ("\x9b31mC1 csi", "C1 csi"),
        # OSC: clipboard, hyperlinks, window title; BEL, ST and C1 ST terminators
        ("\x1b]52;c;cm0gLXJmIH4=\x07copied?", "copied?"),
        ("\x1b]52;c;cm0gLXJmIH4=\x1b\\copied?", "copied?"),
        ("\x1b]8;;https://evil.example/\x1b\\https://good.example/\x1b]8;;\x1b\\", "https://good.example/"),
        ("\x1b]0;new title\x07text", "text"),
        ("\x9d0;title\x9ctext", "text"),
        # an OSC never terminated swallows only the rest of its line
        ("line one\x1b]0;no end\nline two", "line one\nline two"),
        # DCS, SOS, PM, APC
        ("\x1bPq#0;2;0;0;0\x1b\\after", "after"),
        ("\x1bXsos\x1b\\a\x1b^pm\x1b\\b\x1b_apc\x1b\\c", "abc"),
        ("\x90dcs\x9cok", "ok"),
        # single escapes: reset, save cursor, charset, a lone ESC
        ("\x1bcreset", "reset"),
        ("\x1b7saved\x1b8", "saved"),
        ("\x1b(Bascii", "ascii"),
        ("end\x1b", "end"),
        # C0 controls but \n and \t, DEL, C1
        ("nul\x00bel\x07bs\x08cr\r\nvt\x0bff\x0cdel\x7f", "nulbelbscr\nvtffdel"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("next\x85line\x8dri\x80pad", "nextlineripad"),
        # bidi embeddings, overrides, isolates ("Trojan Source")
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("a\u202ab\u202bc\u202cd\u202de", "abcde"),
        ("x\u2066y\u2067z\u2068w\u2069", "xyzw"),
        # lone surrogates
        ("bad\ud83dpair", "bad\ufffdpair"),
        ("\udc00", "\ufffd"),
    ],
)
def test_strip_escapes(raw, clean):
    assert strip_escapes(raw) == clean


@pytest.mark.parametrize(
    "text",
    [
        "👨\u200d👩\u200d👧 family, 🇫🇷 flag, 👍🏽 tone",
        "漢字かなカナ 한국어 full-width ＡＢＣ",
        "e\u0301 a\u0308 combining; ﷺ",
        "עברית and العربية with marks \u200e\u200f",
        "plain ASCII with [brackets] and :smile: and \\ backslash",
        "",
    ],
)
def test_printable_text_is_kept_exactly(text):
    assert strip_escapes(text) == text
    assert for_terminal(text) == text


def test_nothing_dangerous_survives_random_input():
    rng = random.Random(1234)
    alphabet = "\x1b\x9b\x9d\x90\x9c\x07\\[]P_^X0;mhc(Bab\n\t\r\x00\x7f\x85\u202e\u2067\ud800é漢👍"
    for _ in range(3000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert not DANGEROUS.search(strip_escapes(raw)), ascii(raw)


def test_for_terminal_keeps_lines_and_drops_escapes():
    assert for_terminal("one\n\x1b[31mtwo\x1b[0m\n\tthree\x1b]52;c;eA==\x07\n") == "one\ntwo\n\tthree\n"


# --- one_line ------------------------------------------------------------------------------------


def test_one_line_collapses_whitespace_and_newlines():
    assert one_line("  A  title\nover\r\n two\tlines\u2028and\xa0more  ") == "A title over two lines and more"


def test_one_line_strips_zero_width_characters_at_the_ends():
    assert one_line("\u200b\ufeff Title \u200d\u2060") == "Title"
    assert one_line("👨\u200d👩\u200d👧") == "👨\u200d👩\u200d👧"


def test_one_line_strips_escapes_and_bidi():
    assert one_line("\x1b]0;pwned\x07Nice \x1b[1mtitle\u202e") == "Nice title"


def test_one_line_caps_with_an_ellipsis():
    assert one_line("abcdefghij", max_len=10) == "abcdefghij"
    capped = one_line("abcdefghijk", max_len=10)
    assert capped == "abcdefghi…" and len(capped) == 10
    assert one_line("word  word  word", max_len=11) == "word word…"


def test_one_line_does_not_cut_an_accent_from_its_letter():
    capped = one_line("cafe\u0301 au lait", max_len=5)
    assert capped == "caf…"


def test_one_line_rejects_a_useless_cap():
    with pytest.raises(ValueError):
        one_line("abc", max_len=0)


# --- as_text: never markup -----------------------------------------------------------------------


def render(renderable) -> tuple[str, list]:
    console = Console(
        record=True, file=io.StringIO(), width=100, force_terminal=True, color_system="truecolor"
    )
    console.print(renderable)
    segments = list(console.render(renderable))
    return console.export_text(), segments


@pytest.mark.parametrize(
    "raw",
    [
        "[@click=app.quit]x[/]",
        "[@click=app.screenshot('/tmp/x')]look[/]",
        "[/b] stored title",
        "[bold red]loud[/] :smile:",
    ],
)
def test_as_text_shows_markup_literally(raw):
    text = as_text(raw)
    assert isinstance(text, Text)
    assert text.plain == raw
    shown, segments = render(text)
    assert shown.rstrip("\n") == raw
    for segment in segments:
        assert not segment.style or (
            not segment.style.meta and not segment.style.bold and segment.style.color is None
        )


def test_the_same_strings_as_markup_would_act_or_fail():
    # The check above can fail: parsed as markup these strings lose their brackets or raise.
    _, segments = render(Text.from_markup("[@click=app.quit]x[/]"))
    assert any(segment.style and segment.style.meta.get("@click") for segment in segments)
    with pytest.raises(MarkupError):
        Text.from_markup("[/b] stored title")


def test_as_text_strips_escapes_and_takes_a_style():
    text = as_text("\x1b]52;c;eA==\x07hi\x1b[31m!", style="italic")
    assert text.plain == "hi!"
    assert str(text.style) == "italic"


# --- streaming -----------------------------------------------------------------------------------

STREAMS = [
    "Hello \x1b[31mred\x1b[0m world",
    "copy \x1b]52;c;cm0gLXJmIH4=\x07 done",
    "link \x1b]8;;https://evil.example/\x1b\\text\x1b]8;;\x1b\\ end",
    "title \x1b]0;x\x1b[2J after",
    "c1 \x9b2J\x9d0;t\x9c fine \x90q\x9c",
    "open \x1b]0;never closed\nnext line",
    "charset \x1b(B\x1bc\x1b7 ok\x1b",
    "plain text 👍 漢字 e\u0301 \u202eback\u202c",
]


@pytest.mark.parametrize("raw", STREAMS)
def test_escape_filter_matches_strip_escapes_at_every_split(raw):
    for cut in range(len(raw) + 1):
        escapes = EscapeFilter()
        first = escapes.feed(raw[:cut])
        shown = first + escapes.feed(raw[cut:]) + escapes.flush()
        assert shown == strip_escapes(raw), (cut, ascii(first))
        assert not DANGEROUS.search(first)


@pytest.mark.parametrize("raw", STREAMS)
def test_escape_filter_one_character_at_a_time(raw):
    escapes = EscapeFilter()
    pieces = [escapes.feed(char) for char in raw] + [escapes.flush()]
    assert "".join(pieces) == strip_escapes(raw)
    assert not any(DANGEROUS.search(piece) for piece in pieces)


def test_escape_filter_holds_only_the_unfinished_sequence():
    escapes = EscapeFilter()
    assert escapes.feed("shown now \x1b]52;c;cm0g") == "shown now "
    assert escapes.feed("LXJmIH4=\x07 and after") == " and after"
    assert escapes.feed("\x1b[3") == ""
    assert escapes.feed("1mred") == "red"
    assert escapes.flush() == ""


def test_escape_filter_lets_the_stream_move_past_a_runaway_sequence():
    escapes = EscapeFilter()
    shown = [escapes.feed("start \x1b]0;")]
    shown += [escapes.feed("a" * 100) for _ in range(40)]
    assert shown[0] == "start "
    assert "a" in "".join(shown)  # not everything held back until the end
    assert not any(DANGEROUS.search(piece) for piece in shown)


def test_escape_filter_flush_cleans_an_unfinished_sequence():
    escapes = EscapeFilter()
    assert escapes.feed("tail\x1b]0;half") == "tail"
    assert escapes.flush() == ""
    assert escapes.feed("fresh") == "fresh"


async def test_as_text_in_textual_widgets_shows_markup_and_runs_nothing():
    from textual.app import App
    from textual.widgets import Label, OptionList

    raw = "[/b] \x1b]52;c;eA==\x07[@click=app.quit]click me[/]"

    class Shown(App):
        def compose(self):
            yield Label(as_text(raw))
            yield OptionList(as_text(raw))

    app = Shown()
    async with app.run_test() as pilot:
        expected = "[/b] [@click=app.quit]click me[/]"
        assert str(app.query_one(Label).render()) == expected
        assert str(app.query_one(OptionList).get_option_at_index(0).prompt) == expected
        await pilot.click(Label)
        await pilot.pause()
        assert app.is_running  # the click ran no action
