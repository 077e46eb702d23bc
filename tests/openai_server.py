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
``{"kind": "hang", "seconds": 5}``, ``{"kind": "events", "events": [{...chunk...}, {"bytes_b64": "..."}],
"cut_at": 120, "end": "drop"}``; the other keys are the dataclass fields in
openai_responses.py.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import threading
import time
from pathlib import Path

from tests.openai_handler import MAX_WAIT, OpenAIHandler, OpenAIHTTPServer
from tests.openai_responses import (
    DEFAULT_TEXT,
    Complete,
    Error,
    Events,
    Hang,
    Raw,
    Response,
    Stream,
    load_script,
    response_from_dict,
)

__all__ = [
    "DEFAULT_TEXT",
    "Complete",
    "Error",
    "Events",
    "FakeOpenAIServer",
    "Hang",
    "Raw",
    "Response",
    "Stream",
    "load_script",
    "main",
    "response_from_dict",
]

DEFAULT_MODELS = ["test-model", "test-title-model"]


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
        self._httpd: OpenAIHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle --------------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        httpd = OpenAIHTTPServer(("127.0.0.1", self._requested_port), OpenAIHandler)
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
            if not isinstance(response, (Stream, Events, Complete, Error, Raw, Hang)):
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
