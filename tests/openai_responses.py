"""The fake OpenAI server's scripted responses (Stream, Events, Complete, Error, Raw, Hang), also as JSON."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Union

DEFAULT_TEXT = "Hello from the test server."

AUTO = "auto"


@dataclass
class Stream:
    """A streamed answer: SSE chunks, then optionally a usage chunk and ``data: [DONE]``."""

    text: str | None = None
    chunks: list[str] | None = None  # explicit content chunks; else text split by chunk_size
    chunk_size: int = 4  # characters per content chunk when splitting text
    delay: float | None = None  # seconds before each content chunk; None: the server's default
    role_chunk: bool = True  # a first chunk whose delta carries only the role
    usage: tuple[int, int] | str | None = AUTO  # (prompt, completion); AUTO counts; None: no chunk
    done: bool = True  # send "data: [DONE]" at the end
    finish_reason: str | None = "stop"  # None: no chunk carries a finish_reason
    drop_after: int | None = None  # close the socket abruptly after N content chunks
    stall_after: int | None = None  # after N content chunks send nothing more, hang (bounded)
    stall_seconds: float = 20.0  # how long a stall lasts at most (the client usually leaves first)
    error_event_after: int | None = None  # after N content chunks send a {"error": ...} event, end
    error_message: str = "The model crashed mid-answer."
    model: str | None = None  # model named in the chunks; None: echo the request's model
    headers: dict[str, str] = field(default_factory=dict)

    def content_chunks(self) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        text = DEFAULT_TEXT if self.text is None else self.text
        size = max(1, self.chunk_size)
        return [text[i : i + size] for i in range(0, len(text), size)]

    def full_text(self) -> str:
        return "".join(self.content_chunks())


@dataclass
class Events:
    """A scripted event stream, byte for byte: the hostile server's answers.

    Each item of ``events`` is a chunk sent as ``data: <JSON>\n\n`` (any JSON value: a dict is
    a chunk, a number is a fault) or bytes sent verbatim (half a line, invalid UTF-8, "[DONE]").
    ``cut_at`` sends only the first N bytes of it all; then ``end`` says how the body ends:
    "clean" (the chunked terminator), "drop" (the socket reset mid-body) or "close" (the socket
    closed without the terminator). ``pieces`` splits the bytes into that many writes.
    """

    events: list[Any] = field(default_factory=list)
    cut_at: int | None = None
    end: str = "clean"
    delay: float = 0.0  # seconds before each write
    pieces: int = 0  # 0: one write per event
    content_type: str = "text/event-stream"

    def rendered(self) -> list[bytes]:
        out = [e if isinstance(e, bytes) else b"data: " + json.dumps(e).encode() + b"\n\n"
               for e in self.events]
        if self.cut_at is not None or self.pieces:
            body = b"".join(out)
            if self.cut_at is not None:
                body = body[: self.cut_at]
            n = max(1, self.pieces or 1)
            size = max(1, -(-len(body) // n))
            out = [body[i : i + size] for i in range(0, len(body), size)]
        return [piece for piece in out if piece]


def chunk(delta: dict | None = None, finish_reason: str | None = None, *, model: Any = "test-model",
          usage: Any = None, choices: Any = None) -> dict:
    """One chat.completion.chunk, for Events scripts."""
    data: dict[str, Any] = {"id": "chatcmpl-test", "object": "chat.completion.chunk",
                            "created": 1_700_000_000, "model": model}
    if choices is None:
        choices = [] if delta is None and finish_reason is None else [
            {"index": 0, "delta": delta or {}, "finish_reason": finish_reason}]
    data["choices"] = choices
    if usage is not None:
        data["usage"] = usage
    return data


DONE = b"data: [DONE]\n\n"


@dataclass
class Complete:
    """A non-streaming completion (what a title request expects)."""

    text: str = DEFAULT_TEXT
    model: str | None = None
    usage: tuple[int, int] | str | None = AUTO
    finish_reason: str | None = "stop"
    delay: float = 0.0  # seconds before answering


@dataclass
class Error:
    """An HTTP error with an OpenAI-style JSON body (or ``body`` verbatim when given)."""

    status: int
    message: str = "Something went wrong."
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # str/bytes sent as is, dict/list sent as JSON; None: {"error": {...}}
    type: str | None = None  # error.type; None: derived from the status
    code: str | None = None  # error.code, e.g. "model_not_found"


@dataclass
class Raw:
    """Any status, body and content type: an HTML page, malformed JSON, an empty body."""

    status: int = 200
    body: str | bytes = "<html><body><h1>Welcome to nginx!</h1></body></html>"
    content_type: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Hang:
    """Accept the request and send nothing, for at most ``seconds`` (or until the client leaves)."""

    seconds: float = 20.0


Response = Union[Stream, Events, Complete, Error, Raw, Hang]
KINDS: dict[str, type] = {
    "stream": Stream,
    "events": Events,
    "complete": Complete,
    "error": Error,
    "raw": Raw,
    "hang": Hang,
}


def response_from_dict(data: dict[str, Any]) -> Response:
    """Build a response from its JSON form: ``{"kind": "stream", ...fields}``."""
    data = dict(data)
    kind = data.pop("kind", "stream")
    cls = KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown response kind {kind!r}; expected one of {sorted(KINDS)}")
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown field(s) for {kind!r}: {sorted(unknown)}")
    if isinstance(data.get("usage"), list):
        data["usage"] = tuple(data["usage"])
    if cls is Events:
        data["events"] = [_event_from_json(e) for e in data.get("events", [])]
    return cls(**data)


def _event_from_json(event: Any) -> Any:
    """{"bytes_b64": ...} in a JSON script stands for raw bytes."""
    if isinstance(event, dict) and set(event) == {"bytes_b64"}:
        return base64.b64decode(event["bytes_b64"])
    return event


def response_to_dict(response: Response) -> dict[str, Any]:
    """The JSON form of a response (the inverse of response_from_dict), for --script files."""
    kind = next(k for k, cls in KINDS.items() if isinstance(response, cls))
    data = {f.name: getattr(response, f.name) for f in fields(response)}
    if isinstance(response, Events):
        data["events"] = [{"bytes_b64": base64.b64encode(e).decode()} if isinstance(e, bytes) else e
                          for e in response.events]
    return {"kind": kind, **data}


def load_script(path: str | Path) -> list[Response]:
    items = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(items, list):
        raise ValueError(f"{path}: a script is a JSON list of responses")
    return [response_from_dict(item) for item in items]
