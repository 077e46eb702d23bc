"""The fake OpenAI server's HTTP side: requests answered, streamed, failed or dropped as scripted."""

from __future__ import annotations

import json
import select
import socket
import struct
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from tests.openai_responses import AUTO, Complete, Error, Events, Hang, Raw, Response, Stream

if TYPE_CHECKING:
    from tests.openai_server import FakeOpenAIServer

# No wait in the fake server lasts longer than this, whatever a script asks for.
MAX_WAIT = 30.0
CREATED = 1_700_000_000


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
}


class _Disconnected(Exception):
    """The client went away; the handler stops quietly."""


class OpenAIHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # bounds reading a request from a client that never sends one
    server: OpenAIHTTPServer

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
        elif isinstance(response, Events):
            self._send_events(response)
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

    def _send_events(self, spec: Events) -> None:
        """A scripted byte stream, ended as the script says (cleanly, reset or just closed)."""
        self.send_response(200)
        self.send_header("Content-Type", spec.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for piece in spec.rendered():
            if spec.delay:
                self._wait(spec.delay)
            self._write_chunk(piece)
        if spec.end == "drop":
            self._drop()
            return
        if spec.end == "close":
            self.connection.shutdown(socket.SHUT_WR)
            return
        self._write_chunk(b"")
        self.server.owner._note_stream_finished()

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


class OpenAIHTTPServer(ThreadingHTTPServer):
    daemon_threads = False
    # socketserver's backlog of 5 resets connections when 50 clients arrive at once (the serve load test).
    request_queue_size = 128
    block_on_close = True
    allow_reuse_address = True
    owner: FakeOpenAIServer
