"""Reading an answer's event stream: `data:` lines parsed once each, chunks made into typed events."""

from __future__ import annotations

import json
import re
from typing import Any

from agentterm.llm.errors import BadResponse, StreamCut
from agentterm.llm.mapping import server_detail
from agentterm.llm.normalize import (
    REPLACEMENT,
    arguments_text,
    clean_text,
    content_text,
    count,
    finish_of,
    label,
    optional_text,
)
from agentterm.llm.replies import Event, Finished, TextDelta, ThinkingDelta, ToolCallDelta, Usage

_SURROGATES = re.compile("[\ud800-\udfff]")

DONE = object()  # `data: [DONE]`
CUT = object()  # the body ended inside an event: what came before it stands, the answer is cut

OPEN_THINK = "<think>"
CLOSE_THINK = "</think>"
_MAX_TOOL_INDEX = 1024


class SSEDecoder:
    """Bytes of an event stream in, the JSON value of each `data:` line out; DONE or CUT at its end.

    One json.loads per line and no typed object per chunk (at 20,000 chunks openai's typed
    chunks cost seconds); plain calls, not an async generator, to keep each chunk's path short.
    A data line that is not JSON on its own is joined with the event's next data lines, as the
    SSE format allows; invalid UTF-8 is decoded with U+FFFD in its place.
    """

    def __init__(self, where: str) -> None:
        self.where = where
        self.pending: list[bytes] = []  # bytes of a line not yet ended
        self.data: list[bytes] = []  # the data lines of an event that did not parse alone

    def feed(self, piece: bytes) -> list[Any]:
        if b"\n" not in piece:
            if piece:
                self.pending.append(piece)
            return []
        if self.pending:
            self.pending.append(piece)
            piece = b"".join(self.pending)
            self.pending = []
        lines = piece.split(b"\n")
        tail = lines.pop()
        if tail:
            self.pending.append(tail)
        out: list[Any] = []
        data = self.data
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if data:
                    out.append(_loads(b"\n".join(data), self.where))
                    data.clear()
                continue
            if not line.startswith(b"data:"):
                continue  # event:, id:, retry: and ": comments" carry nothing we use
            payload = line[6:] if line.startswith(b"data: ") else line[5:]
            if data:
                data.append(payload)
                continue
            if payload.startswith(b"[DONE]"):
                out.append(DONE)
                return out
            value = _try_loads(payload)
            if value is _INVALID:
                data.append(payload)
            else:
                out.append(value)
        return out

    def end(self) -> list[Any]:
        """What the body's end leaves: a last line with no newline, then CUT if it stopped mid-way."""
        if not self.pending and not self.data:
            return []
        tail = b"".join(self.pending)
        out: list[Any] = []
        if tail.startswith(b"data:") and not self.data:
            value = _try_loads(tail[5:])
            if value is not _INVALID:
                out.append(value)
        out.append(CUT)
        return out


_INVALID = object()


def _try_loads(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except UnicodeDecodeError:
        try:
            return json.loads(payload.decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            return _INVALID
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        return _INVALID


def _loads(payload: bytes, where: str) -> Any:
    value = _try_loads(payload)
    if value is _INVALID:
        raise BadResponse(f"{where} sent malformed JSON mid-answer.")
    return value


class ThinkSplitter:
    """Splits a <think>...</think> block at the very start of the content from the answer after it.

    Tags may arrive split across chunks, so a possible tag's start is held back until the next
    chunk says what it is. A <think> anywhere but at the start is answer text.
    """

    def __init__(self) -> None:
        self.state = "start"  # start | thinking | after | text
        self.held = ""

    def feed(self, text: str) -> list[tuple[bool, str]]:
        """(is_thinking, text) pieces ready to show."""
        if self.state == "text":
            return [(False, text)]
        if self.state == "start":
            self.held += text
            head = self.held.lstrip()
            if head.startswith(OPEN_THINK):
                self.state, self.held = "thinking", ""
                return self._thinking(head[len(OPEN_THINK):])
            if OPEN_THINK.startswith(head):
                return []
            self.state, held, self.held = "text", self.held, ""
            return [(False, held)]
        if self.state == "thinking":
            return self._thinking(text)
        return self._after(text)

    def end(self) -> list[tuple[bool, str]]:
        """Whatever was held back, once the content is over."""
        held, self.held = self.held, ""
        if not held:
            return []
        return [(self.state == "thinking", held)]

    def _thinking(self, text: str) -> list[tuple[bool, str]]:
        buf = self.held + text
        end = buf.find(CLOSE_THINK)
        if end >= 0:
            self.state, self.held = "after", ""
            out = [(True, buf[:end])] if end else []
            return out + self._after(buf[end + len(CLOSE_THINK):])
        keep = _partial_tag(buf, CLOSE_THINK)
        self.held = buf[len(buf) - keep:] if keep else ""
        shown = buf[: len(buf) - keep]
        return [(True, shown)] if shown else []

    def _after(self, text: str) -> list[tuple[bool, str]]:
        # The blank line models put between the thinking and the answer is not answer.
        text = text.lstrip()
        if not text:
            return []
        self.state = "text"
        return [(False, text)]


def _partial_tag(text: str, tag: str) -> int:
    """The length of the longest end of `text` that is a start of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class ChunkReader:
    """Chat completion chunks (parsed JSON) in, normalised typed events out; remembers the end."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.think = ThinkSplitter()
        self.started = False  # any chunk at all
        self.answered = False  # any text or tool call
        self.finish_reason: str | None = None
        self.model: str | None = None
        self._model_seen: Any = None
        self._high = ""  # a high surrogate that ended the last chunk's text
        self.usage: Usage | None = None

    def feed(self, chunk: Any) -> list[Event]:
        if not isinstance(chunk, dict):
            raise BadResponse(f"{self.where} sent a chunk that is not in the OpenAI format.")
        self.started = True
        error = chunk.get("error")
        if error:
            detail = server_detail(chunk) or "no details"
            raise StreamCut(f"{self.where} reported an error mid-answer: {detail}")
        model = chunk.get("model")
        if model != self._model_seen:  # the same name on every chunk: checked once
            self._model_seen = model
            self.model = label(model) or self.model
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = Usage(count(usage.get("prompt_tokens")), count(usage.get("completion_tokens")))
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            return []
        out: list[Event] = []
        for choice in choices:
            if not isinstance(choice, dict) or choice.get("index", 0) not in (0, None):
                continue
            delta = choice.get("delta")
            if isinstance(delta, dict):
                content = delta.get("content")
                plain = self.think.state == "text" and not self._high
                if plain and type(content) is str and content.isascii() \
                        and (len(delta) == 1 or (len(delta) == 2 and "role" in delta)):
                    # The common chunk, {"content": "..."} or with its role: straight through.
                    if content:
                        self.answered = True
                        out.append(TextDelta(content))
                else:
                    self._delta(delta, out)
            finish = choice.get("finish_reason")
            if finish is not None:
                finish = finish_of(finish)
                if finish is not None:
                    self.finish_reason = finish
        return out

    def _pairs(self, content: str) -> str:
        """A surrogate pair split between two chunks (a proxy cutting UTF-16 text) made whole."""
        if self._high:
            content, self._high = self._high + content, ""
        if content and "\ud800" <= content[-1] <= "\udbff":
            content, self._high = content[:-1], content[-1]
        if _SURROGATES.search(content):
            content = content.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return content

    def end(self) -> list[Event]:
        """Events held back (a possible <think> tag's start) once the stream is over."""
        out: list[Event] = []
        if self._high:  # half a pair that never got its other half
            self._high = ""
            for thinking, text in self.think.feed(REPLACEMENT):
                self._text(thinking, text, out)
        for thinking, text in self.think.end():
            self._text(thinking, text, out)
        return out

    def finish(self, model: str | None, *, cut: bool = False) -> list[Event]:
        """Usage (if any) and Finished; StreamCut for an answer that never finished, BadResponse
        for one with neither text nor a tool call."""
        if self.finish_reason is None or (cut and not self.answered):
            if self.started:
                raise StreamCut(f"The answer from {self.where} ended before it was finished.")
            raise StreamCut(f"{self.where} closed the stream without sending an answer.")
        if not self.answered:
            raise BadResponse(f"{self.where} sent an empty answer.",
                              "Retry, or check the model name (`agentterm doctor` lists them).")
        out: list[Event] = [] if self.usage is None else [self.usage]
        out.append(Finished(self.finish_reason, self.model or model))
        return out

    def _delta(self, delta: dict, out: list[Event]) -> None:
        if "reasoning_content" in delta or "reasoning" in delta:
            reasoning = (optional_text(delta.get("reasoning_content"))
                         or optional_text(delta.get("reasoning")))
            if reasoning:
                out.append(ThinkingDelta(reasoning))
        content = delta.get("content")
        if type(content) is str and (self._high or not content.isascii()):
            content = self._pairs(content)
        if content is not None:
            text = content_text(content, self.where)
            if text:
                for thinking, piece in self.think.feed(text):
                    self._text(thinking, piece, out)
        calls = delta.get("tool_calls")
        if isinstance(calls, list):
            for position, call in enumerate(calls):
                if isinstance(call, dict):
                    self._tool_call(position, call, out)

    def _text(self, thinking: bool, text: str, out: list[Event]) -> None:
        if thinking:
            out.append(ThinkingDelta(text))
        else:
            self.answered = True
            out.append(TextDelta(text))

    def _tool_call(self, position: int, call: dict, out: list[Event]) -> None:
        index = call.get("index")
        if type(index) is not int or not 0 <= index <= _MAX_TOOL_INDEX:
            index = position  # a server that numbers nothing sends whole calls, in order
        function = call.get("function")
        if not isinstance(function, dict):
            function = {}
        call_id = call.get("id")
        # Not capped like a label: the id goes back to the server with the result, as it came.
        call_id = clean_text(call_id) if isinstance(call_id, str) and 0 < len(call_id) <= 256 else None
        piece = ToolCallDelta(index, call_id, label(function.get("name")),
                              arguments_text(function.get("arguments")))
        if piece.id or piece.name or piece.arguments:
            self.answered = True
            out.append(piece)
