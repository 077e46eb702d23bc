"""A scriptable loopback server speaking the OpenAI chat protocol, for tests and end-to-end runs.

In a test (the ``server`` fixture in conftest.py gives you one)::

    with FakeOpenAIServer() as server:
        server.script(
            Stream("Hi there", chunk_size=2, delay=0.01, usage=(3, 4)),
            Error(429, "Slow down", headers={"Retry-After": "7"}),
            Complete("A short title"),          # for a non-streaming request (titles)
        )
        ...  # point a client at server.base_url
        server.requests[0]["messages"]          # what the client sent
        server.request_headers[0]["authorization"]

Each chat request (streaming or not) takes the next scripted response; when the queue is empty
``server.default`` answers (a stream of "Hello from the test server."). Chunk counts in
``drop_after``, ``stall_after`` and ``error_event_after`` count content chunks only (not the
role-only first chunk).

As a process (for CLI and tmux tests)::

    python -m tests.openai_server --port 0 --port-file PATH [--script FILE.json] [--delay S]

writes the chosen port to PATH once it is listening and serves until SIGTERM or SIGINT. The
script file is a JSON list of objects such as ``{"kind": "stream", "text": "Hi", "delay": 0.05}``,
``{"kind": "error", "status": 401, "message": "bad key"}``, ``{"kind": "complete", "text": "T"}``,
``{"kind": "raw", "status": 200, "body": "<html>", "content_type": "text/html"}``,
``{"kind": "hang", "seconds": 5}``; the other keys are the dataclass fields below.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import select
import signal
import socket
import struct
import threading
import time
from dataclasses import dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Union

DEFAULT_TEXT = "Hello from the test server."
DEFAULT_MODELS = ["test-model", "test-title-model"]
# No wait in this module lasts longer than this, whatever a script asks for.
MAX_WAIT = 30.0
CREATED = 1_700_000_000

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


Response = Union[Stream, Complete, Error, Raw, Hang]
KINDS: dict[str, type] = {
    "stream": Stream,
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
    return cls(**data)


def load_script(path: str | Path) -> list[Response]:
    items = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(items, list):
        raise ValueError(f"{path}: a script is a JSON list of responses")
    return [response_from_dict(item) for item in items]


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
}


class _Disconnected(Exception):
    """The client went away; the handler stops quietly."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # bounds reading a request from a client that never sends one
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass

    # --- routing -----------------------------------------------------------------------------

    def do_GET(self) -> None:
        owner = self.server.owner
        owner._hit("GET", self.path)
        if self.path.rstrip("/").endswith("/models"):
            if not self._authorized():
                return
            if owner.models_response is not None:
                try:
                    self._respond(owner.models_response, {}, stream=False)
                except (_Disconnected, BrokenPipeError, ConnectionResetError):
                    owner._note_disconnect()
                return
            models = owner.models
            if models is None:
                self._send_error_json(Error(404, "Not found: this server has no model list."))
                return
            data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "test"} for m in models]
            self._send_json(200, {"object": "list", "data": data})
            return
        self._send_error_json(Error(404, f"Unknown path {self.path}"))

    def do_POST(self) -> None:
        owner = self.server.owner
        owner._hit("POST", self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_error_json(Error(404, f"Unknown path {self.path}"))
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send_error_json(Error(400, "The request body is not JSON."))
            return
        owner._record(body, {k.lower(): v for k, v in self.headers.items()})
        if not self._authorized():
            return
        response = owner._next_response()
        stream = bool(body.get("stream"))
        try:
            self._respond(response, body, stream)
        except _Disconnected:
            owner._note_disconnect()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            owner._note_disconnect()

    def _authorized(self) -> bool:
        expected = self.server.owner.api_key
        if expected is None:
            return True
        if self.headers.get("Authorization") == f"Bearer {expected}":
            return True
        self._send_error_json(
            Error(401, "Incorrect API key provided.", code="invalid_api_key")
        )
        return False

    # --- responses ---------------------------------------------------------------------------

    def _respond(self, response: Response, body: dict, stream: bool) -> None:
        if isinstance(response, Error):
            self._send_error_json(response)
        elif isinstance(response, Raw):
            payload = response.body.encode() if isinstance(response.body, str) else response.body
            self._send_bytes(response.status, payload, response.content_type, response.headers)
        elif isinstance(response, Hang):
            self._wait(response.seconds)
        elif isinstance(response, Complete):
            if response.delay:
                self._wait(response.delay)
            self._send_completion(response.text, response.model, response.usage,
                                  response.finish_reason, body)
        elif isinstance(response, Stream):
            if stream:
                self._send_stream(response, body)
            else:
                self._send_completion(response.full_text(), response.model, response.usage,
                                      response.finish_reason, body)
        else:  # pragma: no cover - a scripting mistake
            raise TypeError(f"not a response: {response!r}")

    def _send_bytes(self, status: int, payload: bytes, content_type: str,
                    headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        self.close_connection = True

    def _send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(data).encode(), "application/json", headers)

    def _send_error_json(self, err: Error) -> None:
        if err.body is None:
            payload: Any = {
                "error": {
                    "message": err.message,
                    "type": err.type or _ERROR_TYPES.get(err.status, "server_error"),
                    "param": None,
                    "code": err.code,
                }
            }
        else:
            payload = err.body
        if isinstance(payload, (str, bytes)):
            data = payload.encode() if isinstance(payload, str) else payload
            self._send_bytes(err.status, data, "text/plain", err.headers)
        else:
            self._send_json(err.status, payload, err.headers)

    def _usage(self, usage: Any, body: dict, completion_chunks: int) -> dict | None:
        if usage is None:
            return None
        if usage == AUTO:
            prompt = sum(
                len(str(m.get("content") or "").split())
                for m in body.get("messages", [])
                if isinstance(m, dict)
            )
            usage = (prompt, completion_chunks)
        p, c = usage
        return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}

    def _send_completion(self, text: str, model: str | None, usage: Any,
                         finish_reason: str | None, body: dict) -> None:
        data = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": CREATED,
            "model": model or body.get("model") or "unknown",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": finish_reason,
                }
            ],
        }
        usage_data = self._usage(usage, body, len(text.split()))
        if usage_data is not None:
            data["usage"] = usage_data
        self._send_json(200, data)

    def _send_stream(self, spec: Stream, body: dict) -> None:
        owner = self.server.owner
        model = spec.model or body.get("model") or "unknown"
        delay = owner.default_delay if spec.delay is None else spec.delay

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        for name, value in spec.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True

        def chunk(delta: dict, finish_reason: str | None = None) -> dict:
            return {
                "id": "chatcmpl-test",
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }

        if spec.role_chunk:
            self._event({**chunk({"role": "assistant", "content": ""})})
        pieces = spec.content_chunks()
        for sent, piece in enumerate(pieces):
            if spec.drop_after is not None and sent >= spec.drop_after:
                self._drop()
                return
            if spec.stall_after is not None and sent >= spec.stall_after:
                self._stall(spec)
                return
            if spec.error_event_after is not None and sent >= spec.error_event_after:
                self._error_event(spec)
                return
            if delay:
                self._wait(delay)
            self._event(chunk({"content": piece}))
        n = len(pieces)
        if spec.drop_after is not None and n >= spec.drop_after:
            self._drop()
            return
        if spec.stall_after is not None and n >= spec.stall_after:
            self._stall(spec)
            return
        if spec.error_event_after is not None and n >= spec.error_event_after:
            self._error_event(spec)
            return
        if spec.finish_reason is not None:
            self._event(chunk({}, spec.finish_reason))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        usage = self._usage(spec.usage, body, n) if include_usage else None
        if usage is not None:
            self._event({**chunk({}), "choices": [], "usage": usage})
        if spec.done:
            self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")  # the chunked-encoding terminator: a clean end
        owner._note_stream_finished()

    def _event(self, data: dict) -> None:
        self._write_chunk(b"data: " + json.dumps(data).encode() + b"\n\n")

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _error_event(self, spec: Stream) -> None:
        self._event({"error": {"message": spec.error_message, "type": "server_error",
                               "param": None, "code": None}})
        self._write_chunk(b"")

    def _drop(self) -> None:
        """Close the connection mid-body, as a crashed proxy or server would."""
        self.close_connection = True
        sock = self.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.server.owner._note_drop()

    def _stall(self, spec: Stream) -> None:
        self._wait(spec.stall_seconds)

    def _wait(self, seconds: float) -> None:
        """Sleep, but notice the client leaving and the server closing; bounded by MAX_WAIT.

        Raises _Disconnected when the client has gone (so a stream stops promptly).
        """
        owner = self.server.owner
        deadline = time.monotonic() + min(max(seconds, 0.0), MAX_WAIT)
        sock = self.connection
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or owner._closing.is_set():
                return
            try:
                readable, _, _ = select.select([sock], [], [], min(remaining, 0.05))
            except (OSError, ValueError):
                raise _Disconnected from None
            if readable:
                try:
                    peek = sock.recv(1, socket.MSG_PEEK)
                except OSError:
                    raise _Disconnected from None
                if not peek:
                    raise _Disconnected
                # Unexpected bytes from the client: keep waiting without spinning.
                owner._closing.wait(min(remaining, 0.05))


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    owner: FakeOpenAIServer


class FakeOpenAIServer:
    """A real HTTP server on 127.0.0.1 (ephemeral port) in a background thread.

    Attributes:
        base_url: "http://127.0.0.1:PORT/v1".
        requests: the JSON bodies of the chat requests received, in order.
        request_headers: their headers (lower-cased names), parallel to ``requests``.
        hits: every (method, path) received, chat and models alike.
        models: the ids /v1/models lists; None makes /v1/models answer 404.
        models_response: when set (an Error, Raw or Hang), what /v1/models answers instead.
        api_key: when set, requests without "Authorization: Bearer <api_key>" get a 401.
        default: the response used when the script queue is empty.
        default_delay: seconds between chunks for streams that do not set ``delay``.
        disconnects: how many times a client left before its answer was complete.
        client_disconnected: a threading.Event set on each such departure.
    """

    def __init__(self, *, port: int = 0, models: list[str] | None = None,
                 api_key: str | None = None, default_delay: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._queue: collections.deque[Response] = collections.deque()
        self._closing = threading.Event()
        self.requests: list[dict] = []
        self.request_headers: list[dict[str, str]] = []
        self.hits: list[tuple[str, str]] = []
        self.models: list[str] | None = list(DEFAULT_MODELS) if models is None else models
        self.models_response: Response | None = None
        self.api_key = api_key
        self.default: Response = Stream(DEFAULT_TEXT)
        self.default_delay = default_delay
        self.disconnects = 0
        self.drops = 0
        self.streams_finished = 0
        self.client_disconnected = threading.Event()
        self._request_log: Path | None = None
        self._requested_port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle --------------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        httpd = _HTTPServer(("127.0.0.1", self._requested_port), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name="fake-openai-server", daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        httpd = self._httpd
        if httpd is None:
            return
        self._httpd = None
        self._closing.set()
        httpd.shutdown()
        httpd.server_close()  # joins the handler threads; every wait in them is bounded
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the server is not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # --- scripting ---------------------------------------------------------------------------

    def script(self, *responses: Response) -> None:
        """Queue responses; each chat request consumes the next one."""
        for response in responses:
            if not isinstance(response, (Stream, Complete, Error, Raw, Hang)):
                raise TypeError(f"not a response: {response!r}")
        with self._lock:
            self._queue.extend(responses)

    @property
    def pending(self) -> int:
        """How many scripted responses have not been used yet."""
        with self._lock:
            return len(self._queue)

    @property
    def last_request(self) -> dict | None:
        with self._lock:
            return self.requests[-1] if self.requests else None

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until ``n`` chat requests have arrived; False on timeout."""
        deadline = time.monotonic() + min(timeout, MAX_WAIT)
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= n:
                    return True
            time.sleep(0.01)
        return False

    # --- called from handler threads --------------------------------------------------------

    def _next_response(self) -> Response:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    def _record(self, body: dict, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append(body)
            self.request_headers.append(headers)
            log = self._request_log
        if log is not None:
            with log.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(body) + "\n")

    def _hit(self, method: str, path: str) -> None:
        with self._lock:
            self.hits.append((method, path))

    def _note_disconnect(self) -> None:
        with self._lock:
            self.disconnects += 1
        self.client_disconnected.set()

    def _note_drop(self) -> None:
        with self._lock:
            self.drops += 1

    def _note_stream_finished(self) -> None:
        with self._lock:
            self.streams_finished += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.openai_server", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--port-file", type=Path, help="write the port here once listening")
    parser.add_argument("--script", type=Path, help="JSON list of responses to queue")
    parser.add_argument("--delay", type=float, default=0.0, help="default seconds between chunks")
    parser.add_argument("--models", help="comma-separated model ids for /v1/models ('' for a 404)")
    parser.add_argument("--api-key", help="require this bearer key (else any key is accepted)")
    parser.add_argument("--default-text", help="what the default answer says")
    parser.add_argument("--request-log", type=Path, help="append each chat request body as a JSON line")
    args = parser.parse_args(argv)

    models = None if args.models is None else [m for m in args.models.split(",") if m]
    server = FakeOpenAIServer(port=args.port, api_key=args.api_key, default_delay=args.delay)
    if args.models is not None:
        server.models = models or None
    if args.default_text is not None:
        server.default = Stream(args.default_text)
    if args.script is not None:
        server.script(*load_script(args.script))
    server._request_log = args.request_log

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with server:
        if args.port_file is not None:
            tmp = args.port_file.with_name(args.port_file.name + ".tmp")
            tmp.write_text(str(server.port), encoding="utf-8")
            os.replace(tmp, args.port_file)  # atomic: a reader never sees a half-written port
        print(f"listening on {server.base_url}", flush=True)
        while not stop.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
