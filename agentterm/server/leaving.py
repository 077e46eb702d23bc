"""An answer nobody will read stops: the client went away, or the server is stopping (SIGTERM,
Ctrl+C). The turn is cancelled, so the engine stores its partial answer interrupted, and the server
waits for that write before it lets the request go: a stop loses nothing."""

from __future__ import annotations

import asyncio
import json

from fastapi.responses import StreamingResponse

from agentterm.server.errors import error_body

STOPPING = ("agentterm serve is stopping: the answer so far is kept, interrupted (retry it when the"
            " server is back).")


def stopping_body() -> dict:
    return error_body(STOPPING, "server_error", "server_stopping")


async def when_set(event: asyncio.Event | None) -> None:
    """Wait for the event; None (a server that never stops answers early, as in some tests): forever."""
    await (event or asyncio.Event()).wait()


class LeavingStream(StreamingResponse):
    """A stream that watches for the client leaving and the server stopping, whatever ASGI
    version the server speaks: either cancels the turn. Stopping, it ends the stream with an
    error event (so the client knows it was cut), then waits for the turn to be stored; the
    stream's slot (limits.StreamSlot) is given back however it ends."""

    def __init__(self, content, *, run, slot=None, stopping: asyncio.Event | None = None, **kwargs) -> None:
        super().__init__(content, **kwargs)
        self.run, self.slot, self.stopping = run, slot, stopping

    async def __call__(self, scope, receive, send) -> None:
        import anyio

        state = {"started": False, "ended": False, "stopped": False}

        async def tracked(message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                state["ended"] = True
            await send(message)

        try:
            async with anyio.create_task_group() as group:
                async def until_done(job) -> None:
                    await job()
                    group.cancel_scope.cancel()

                async def stopped() -> None:
                    await when_set(self.stopping)
                    state["stopped"] = True

                group.start_soon(until_done, lambda: self.stream_response(tracked))
                group.start_soon(until_done, stopped)
                await until_done(lambda: self.listen_for_disconnect(receive))
            if state["stopped"] and state["started"] and not state["ended"]:
                await send({"type": "http.response.body", "more_body": False,
                            "body": f"data: {json.dumps(stopping_body())}\n\n".encode()})
        finally:
            try:
                await self.run.close()  # outside the cancelled scope: the interrupted answer is written
            finally:
                if self.slot is not None:
                    self.slot.release()
