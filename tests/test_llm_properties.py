"""Property tests: hostile event streams from a grammar of chunk shapes, read by the client directly.

Every case: no exception but an LLMError escapes; every delta has the type it promises (text is
str and encodable as UTF-8, counts are ints in range); an error is one line without the key; the
text yielded is a prefix of what was sent (all of it when the stream ended well); an uncut
stream ends well exactly when it is a good answer. See docs/reliability.md.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given

from agentterm.llm import (
    Finished,
    LLMError,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
)
from agentterm.llm.normalize import MAX_COUNT
from tests.conftest import TEST_KEY
from tests.hostile import examples, one_line_error, streams
from tests.llm_helpers import collect, text_of


def check_events(events: list) -> None:
    for position, event in enumerate(events):
        if isinstance(event, (TextDelta, ThinkingDelta)):
            assert type(event.text) is str and event.text
            event.text.encode("utf-8")
        elif isinstance(event, ToolCallDelta):
            assert type(event.index) is int and type(event.arguments) is str
            assert event.id is None or type(event.id) is str
            assert event.name is None or type(event.name) is str
        elif isinstance(event, Usage):
            for value in (event.prompt_tokens, event.completion_tokens):
                assert value is None or (type(value) is int and 0 <= value <= MAX_COUNT)
            assert isinstance(events[position + 1], Finished)
        elif isinstance(event, Finished):
            assert position == len(events) - 1
            assert event.finish_reason is None or type(event.finish_reason) is str
            assert event.model is None or type(event.model) is str
        else:
            raise AssertionError(f"not an event: {event!r}")


@pytest.fixture
def loop():
    """One event loop for all of a property's examples: the client keeps its connection."""
    made = asyncio.new_event_loop()
    yield made
    made.close()


@examples(200)
@given(drawn=streams())
def test_the_client_reads_any_stream_into_typed_events_or_one_clear_error(client, server, loop, drawn):
    server.script(drawn.events)
    events, error = loop.run_until_complete(collect(client))
    assert server.pending == 0
    check_events(events)
    text = text_of(events)
    assert drawn.expected.startswith(text), (text, drawn.expected)
    if error is not None:
        assert isinstance(error, LLMError) and not isinstance(events[-1:], Finished)
        assert one_line_error(error.message) and one_line_error(error.hint)
        assert TEST_KEY not in error.message + error.hint
    else:
        assert text == drawn.expected and isinstance(events[-1], Finished)
    if not drawn.cut:
        assert (error is None) == drawn.complete, (error, drawn.pieces, drawn.finish)


# --- the parser's pieces, split anywhere --------------------------------------------------------

from hypothesis import strategies as st  # noqa: E402

from agentterm.llm.stream import CUT, DONE, SSEDecoder, ThinkSplitter  # noqa: E402


def split_at(text, cuts: list[int]) -> list:
    points = sorted({c % (len(text) + 1) for c in cuts})
    return [text[a:b] for a, b in zip([0, *points], [*points, len(text)])]


def think_pieces(pieces: list[str]) -> tuple[str, str]:
    splitter, thinking, text = ThinkSplitter(), [], []
    for piece in pieces:
        for is_thinking, part in [*splitter.feed(piece)]:
            (thinking if is_thinking else text).append(part)
    for is_thinking, part in splitter.end():
        (thinking if is_thinking else text).append(part)
    return "".join(thinking), "".join(text)


@examples(150)
@given(lead=st.sampled_from(["", "\n", "  \n"]), thought=st.text(max_size=30).filter(lambda t: "</think>" not in t),
       answer=st.text(max_size=30), cuts=st.lists(st.integers(0, 200), max_size=8))
def test_a_leading_think_block_split_anywhere_is_the_thinking_then_the_answer(lead, thought, answer, cuts):
    whole = f"{lead}<think>{thought}</think>{answer}"
    assert think_pieces(split_at(whole, cuts)) == (thought, answer.lstrip())


@examples(150)
@given(text=st.text(min_size=1, max_size=40).filter(lambda t: not t.lstrip().startswith("<think>")),
       cuts=st.lists(st.integers(0, 200), max_size=8))
def test_content_without_a_leading_think_block_split_anywhere_is_all_answer(text, cuts):
    assert think_pieces(split_at(text, cuts)) == ("", text)


@examples(150)
@given(values=st.lists(st.dictionaries(st.text(max_size=5), st.text(max_size=8) | st.integers()), max_size=5),
       crlf=st.booleans(), cuts=st.lists(st.integers(0, 2000), max_size=10))
def test_an_event_stream_split_at_any_byte_gives_each_value_once(values, crlf, cuts):
    import json

    end = b"\r\n" if crlf else b"\n"
    body = b"".join(b"data: " + json.dumps(v).encode() + end + end for v in values) + b"data: [DONE]" + end + end
    decoder, out = SSEDecoder("host"), []
    for piece in split_at(body, cuts):
        out += decoder.feed(piece)
        if out[-1:] == [DONE]:
            break  # as the client does
    else:
        out += decoder.end()
    assert out == [*values, DONE]
    # Cut anywhere: a prefix of the values, then CUT when the cut fell inside a line.
    for at in {c % (len(body) + 1) for c in cuts}:
        cut = SSEDecoder("host")
        head = cut.feed(body[:at])
        head += [] if head[-1:] == [DONE] else cut.end()
        got = [value for value in head if value is not CUT]
        assert got == [*values, DONE][: len(got)] and CUT not in head[:-1]
