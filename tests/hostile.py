"""Hostile event streams for the property tests: a grammar of chunk shapes, and what each should give.

A stream is drawn as a list of pieces (text, content parts, surrogates, invalid UTF-8, nulls,
thinking, tool calls, huge chunks, and faults: a number or an object as content, bad JSON, a
chunk that is not an object, an error event), then a finish (normal, odd or missing), a usage
chunk (odd numbers too), a model (odd too), [DONE] or not, and maybe a cut at any byte with the
connection ended cleanly, reset or closed. `Drawn.expected` is the text the client must yield
when nothing is cut: the pieces' text up to the first fault, as the client normalises it.

Profiles: the default run is seeded (derandomize) and small; HYPOTHESIS_PROFILE=long draws more.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.openai_responses import DONE, Events, chunk

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
_COMMON = dict(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
settings.register_profile("default", derandomize=True, database=None, **_COMMON)
settings.register_profile("long", max_examples=1000, **_COMMON)


def examples(default: int, long: int | None = None) -> settings:
    """Settings for one property: `default` seeded examples, or more under the long profile."""
    if LONG:
        return settings(settings.get_profile("long"), max_examples=long or default * 10)
    return settings(settings.get_profile("default"), max_examples=default)


# Printable text without "<" (so no piece opens a <think> block the oracle would have to follow)
# and without controls (the CLI and the app filter those on display, by design).
_ALPHABET = st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs"), exclude_characters="<")
TEXT = st.text(_ALPHABET | st.just("\n"), min_size=1, max_size=12)


@dataclass
class Piece:
    event: Any  # an Events item: a JSON value, or bytes
    text: str = ""  # the answer text it carries, as the client must yield it
    answers: bool = False  # text or a tool call: the answer is not empty
    fault: bool = False  # the client must stop here with an LLMError


def _raw(delta_json: str) -> bytes:
    return b'data: {"choices": [{"index": 0, "delta": ' + delta_json.encode("utf-8", "surrogatepass") + b"}]}\n\n"


@st.composite
def text_piece(draw) -> Piece:
    text = draw(TEXT)
    return Piece(chunk({"content": text}), text, True)


@st.composite
def parts_piece(draw) -> Piece:
    texts = draw(st.lists(TEXT, min_size=1, max_size=3))
    parts = [{"type": "text", "text": t} if draw(st.booleans()) else t for t in texts]
    return Piece(chunk({"content": parts}), "".join(texts), True)


@st.composite
def surrogate_piece(draw) -> Piece:
    before, after = draw(TEXT), draw(TEXT)
    delta = '{"content": ' + json.dumps(before)[:-1] + '\\ud800' + json.dumps(after)[1:] + "}"
    return Piece(_raw(delta), before + "\ufffd" + after, True)


@st.composite
def invalid_utf8_piece(draw) -> Piece:
    before = draw(TEXT)
    text = json.dumps(before, ensure_ascii=False)[:-1].encode()  # the string, open: a bad byte ends it
    body = b'data: {"choices": [{"index": 0, "delta": {"content": ' + text + b'\xff"}}]}\n\n'
    return Piece(body, before + "\ufffd", True)


def huge_piece() -> st.SearchStrategy[Piece]:
    return st.integers(10_000, 300_000).map(lambda n: Piece(chunk({"content": "y" * n}), "y" * n, True))


@st.composite
def thinking_piece(draw) -> Piece:
    field_name = draw(st.sampled_from(["reasoning_content", "reasoning"]))
    return Piece(chunk({field_name: draw(TEXT)}))


@st.composite
def tool_piece(draw) -> Piece:
    index = draw(st.integers(0, 2))
    call = {"index": index, "function": {"arguments": draw(TEXT)}}
    if draw(st.booleans()):
        call["id"], call["function"]["name"] = f"call_{index}", "get_time"
    return Piece(chunk({"tool_calls": [call]}), "", True)


NULLS = st.sampled_from([
    Piece(chunk({"content": None})), Piece(chunk({"role": "assistant", "content": ""})),
    Piece(chunk({})), Piece(chunk(choices=None)), Piece(chunk(choices=[None, 3])),
    Piece(b": a comment line\n\n"), Piece(b"event: message\n"),
])
FAULTS = st.sampled_from([
    Piece(chunk({"content": 42}), fault=True), Piece(chunk({"content": {"text": "x"}}), fault=True),
    Piece(chunk({"content": [1.5]}), fault=True), Piece(chunk({"content": True}), fault=True),
    Piece(b"data: {not json\n\n", fault=True), Piece(b"data: 42\n\n", fault=True),
    Piece({"error": {"message": "The model crashed."}}, fault=True),
])


def piece() -> st.SearchStrategy[Piece]:
    return st.one_of(text_piece(), text_piece(), parts_piece(), surrogate_piece(), invalid_utf8_piece(),
                     thinking_piece(), tool_piece(), NULLS, FAULTS, huge_piece())


FINISHES = st.sampled_from(["stop", "stop", "length", "tool_calls", None, "", 5, {"odd": True}])
USAGES = st.sampled_from([None, {"prompt_tokens": 3, "completion_tokens": 4}, {"prompt_tokens": 10**30},
                          {"prompt_tokens": "12", "completion_tokens": 3.5}, {"completion_tokens": -1}, [1, 2]])
MODELS = st.sampled_from(["test-model", "served-model", {"id": "m"}, 12, "", "m" * 500])


@dataclass
class Drawn:
    events: Events
    pieces: list[Piece] = field(default_factory=list)
    finish: Any = None
    cut: bool = False

    @property
    def before_fault(self) -> list[Piece]:
        out = []
        for p in self.pieces:
            if p.fault:
                break
            out.append(p)
        return out

    @property
    def expected(self) -> str:
        """The text the client yields when nothing is cut."""
        return "".join(p.text for p in self.before_fault)

    @property
    def faulty(self) -> bool:
        return any(p.fault for p in self.pieces)

    @property
    def complete(self) -> bool:
        """Whether this stream, uncut, is a good answer (no fault, a finish, text or a tool call)."""
        return (not self.faulty and self.finish not in (None, "")
                and any(p.answers for p in self.pieces))


@st.composite
def streams(draw, *, tools: bool = True, huge: bool = True) -> Drawn:
    pieces = draw(st.lists(piece(), max_size=8))
    if not tools:
        pieces = [p for p in pieces if not (p.answers and not p.text)]
    if not huge:
        pieces = [p for p in pieces if len(p.text) < 10_000]
    finish = draw(FINISHES)
    model = draw(MODELS)
    events: list[Any] = [chunk({"role": "assistant", "content": ""}, model=model)]
    events += [p.event for p in pieces]
    if finish is not None or draw(st.booleans()):
        events.append(chunk(choices=[{"index": 0, "delta": {}, "finish_reason": finish}], model=model))
    usage = draw(USAGES)
    if usage is not None:
        events.append(chunk(usage=usage, model=model))
    if draw(st.booleans()):
        events.append(DONE)
    size = sum(len(e) if isinstance(e, bytes) else len(json.dumps(e)) + 8 for e in events)
    cut_at = draw(st.none() | st.integers(0, size))
    end = draw(st.sampled_from(["clean", "drop", "close"])) if cut_at is not None else "clean"
    spec = Events(events, cut_at=cut_at, end=end, pieces=draw(st.sampled_from([0, 0, 3, 50])))
    return Drawn(spec, pieces, finish, cut=cut_at is not None)


def one_line_error(message: str) -> bool:
    return "\n" not in message and "Traceback" not in message and "bug" not in message.lower()


def drawn_of(pieces: list[Piece], finish: Any = "stop") -> Drawn:
    """A hand-written case in the grammar's terms, for the edges that matter most."""
    events = [chunk({"role": "assistant", "content": ""}), *(p.event for p in pieces),
              chunk({}, finish), DONE]
    return Drawn(Events(events), pieces, finish)


TOOL_CALLS_ONLY = drawn_of([Piece(chunk({"tool_calls": [{"index": 0, "id": "call_0", "function": {
    "name": "get_time", "arguments": "{}"}}]}), "", True)], "tool_calls")
