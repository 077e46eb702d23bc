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
