"""Per-token limits: requests per minute (ASGI middleware) and concurrent streams (taken by chat.py).

Both are kept in memory, per process, keyed by the token's hash: a restart forgets them, which is
what a limit against a runaway client needs. Over either, the answer is a 429 in OpenAI's shape with
Retry-After, which the official clients honour when they retry.
"""

from __future__ import annotations

import math
import time
from collections import deque

from agentterm.server.errors import APIError, send_error

WINDOW = 60.0  # seconds: "per minute" is a sliding minute, not the clock's
STREAM_RETRY_AFTER = 1  # seconds: a stream's end cannot be foreseen; ask again soon


class Limits:
    """The counters. 0 for either limit: none."""

    def __init__(self, requests_per_minute: int, streams_per_token: int) -> None:
        self.requests_per_minute = requests_per_minute
        self.streams_per_token = streams_per_token
        self._requests: dict[str, deque[float]] = {}
        self._streams: dict[str, int] = {}

    def request(self, token: str, now: float | None = None) -> int | None:
        """Count one request of `token`; None if allowed, else the seconds to wait."""
        if not self.requests_per_minute:
            return None
        now = time.monotonic() if now is None else now
        times = self._requests.setdefault(token, deque())
        while times and times[0] <= now - WINDOW:
            times.popleft()
        if len(times) >= self.requests_per_minute:
            return max(1, math.ceil(times[0] + WINDOW - now))
        times.append(now)
        return None

    def open_stream(self, token: str) -> StreamSlot:
        """A slot for one more stream of `token`, or a 429 if it has all it may have."""
        if self.streams_per_token and self._streams.get(token, 0) >= self.streams_per_token:
            raise APIError(429, f"This token already has {self.streams_per_token} streams open, the most"
                           " [serve] streams_per_token allows: wait for one to end.",
                           "rate_limit_error", "too_many_streams",
                           headers={"Retry-After": str(STREAM_RETRY_AFTER)})
        self._streams[token] = self._streams.get(token, 0) + 1
        return StreamSlot(self, token)

    def streams_open(self, token: str) -> int:
        return self._streams.get(token, 0)

    def _close_stream(self, token: str) -> None:
        left = self._streams.get(token, 0) - 1
        if left > 0:
            self._streams[token] = left
        else:
            self._streams.pop(token, None)


class StreamSlot:
    """One open stream; release() is idempotent, so every way a stream can end may call it.
    `handed`: the stream itself took it over (it releases it when it ends)."""

    def __init__(self, limits: Limits, token: str) -> None:
        self.limits, self.token, self.held, self.handed = limits, token, True, False

    def release(self) -> None:
        if self.held:
            self.held = False
            self.limits._close_stream(self.token)


class RequestRate:
    """Inside BearerAuth (it needs the token): over the minute's allowance, a 429 before the app runs."""

    def __init__(self, app, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope, receive, send):
        token = scope.get("state", {}).get("token") if scope["type"] == "http" else None
        wait = self.limits.request(token) if token else None
        if wait is not None:
            await send_error(send, 429, f"This token made {self.limits.requests_per_minute} requests in the"
                             " last minute, the most [serve] requests_per_minute allows: retry in"
                             f" {wait} s.", "rate_limit_error", "rate_limit_exceeded",
                             headers=[(b"retry-after", str(wait).encode())])
            return
        await self.app(scope, receive, send)
