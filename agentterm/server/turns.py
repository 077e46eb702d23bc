"""One turn of an agent for the server's routes: the request's messages split into history and
prompt, the engine's events read as text (approvals denied, usage summed), and the agent checks."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any

from agentterm.server.app import Parts
from agentterm.server.errors import APIError, error_body, turn_error

DENIED = ("agentterm serve cannot ask anyone to approve a tool call: this agent's tool_approval"
          " is 'ask' and the tool is not always allowed (set the agent to auto, or allow the tool in the app)")


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def split_turn(messages: list[dict]) -> tuple[list[dict], str]:
    """(the history before the new turn, the new turn's prompt): the user messages after the
    last assistant message are the new turn."""
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1)
    new = [text_of(m.get("content")) for m in messages[last + 1:] if m.get("role") == "user"]
    if not any(t.strip() for t in new):
        raise APIError(400, "There is no user message after the last assistant message: nothing to answer.",
                       code="no_new_message", param="messages")
    return messages[: last + 1], "\n\n".join(t for t in new if t.strip())


def history_rows(history: list[dict]) -> list[tuple[str, str]]:
    """(role, text) of the messages a new session keeps from what the client told it."""
    return [(m["role"], text_of(m.get("content"))) for m in history
            if m.get("role") in ("user", "assistant") and text_of(m.get("content")).strip()]


async def store_history(astore, cid: int, history: list[dict]) -> None:
    """A new session told its past by the client: its user and assistant messages kept as the history."""
    for role, text in history_rows(history):
        await astore.add_message(cid, role, text)


def title_mode(parts: Parts) -> str:
    """[serve] titles: "sessions" (default), "all" or "prompt" (docs/api.md, Titles)."""
    return str((getattr(parts.settings, "serve", None) or {}).get("titles", "sessions"))


def usable(agent, name: str):
    """The agent, if it can answer now: unknown or retired is a 404, paused a 409."""
    if agent is None or agent.status == "inactive":
        raise APIError(404, f"There is no agent {name!r}: GET /v1/models lists them.",
                       code="model_not_found", param="model")
    if agent.status == "paused":
        raise APIError(409, f"The agent {agent.name!r} is paused: resume it to talk to it.",
                       code="agent_paused", param="model")
    return agent


def start_run(parts: Parts, cid: int, prompt: str, model: str, new: bool, *, conversation=None,
              agent=None, ephemeral: bool = False, first_prompt: str | None = None) -> Run:
    """The turn started (lazily: nothing runs before the first read) in conversation `cid`.
    `conversation` and `agent`: read by the caller just now (not read again by the turn).
    `ephemeral`: made without a session id (its title, under the default [serve] titles, is the
    prompt's first line: no model request); `first_prompt` is what such a title is made of."""
    from agentterm.engine import run_turn

    turn = run_turn(parts.astore, parts.client, cid, prompt, tools=parts.tools, auto_approve=False,
                    max_steps=getattr(parts.settings, "max_steps", 20), conversation=conversation,
                    agent=agent)
    run = Run(parts, turn, model, cid, new)
    run.ephemeral, run.first_prompt = ephemeral, first_prompt or prompt
    return run


async def answer_text(run: Run) -> str:
    """The whole answer of a turn not streamed; its fault as an APIError (the partial answer kept)."""
    try:
        text = "".join([t async for t in run.texts()])
    finally:
        await closed(run)
    if run.error is not None:
        raise turn_error(run.error, run.parts.scrub)
    return text


async def closed(run: Run) -> None:
    """Close the run, waiting for it even through a cancellation (a client gone, a stop), which
    goes on after: the engine's write of the interrupted answer must not be cut short."""
    try:
        await run.close()
    except asyncio.CancelledError:
        await run.close()
        raise


async def until_gone(request, work):
    """Await `work` (a non-streamed answer) unless the client goes away or the server stops
    first: then it is cancelled, so the turn stops and its partial answer is stored interrupted,
    as a stream's is. (The body is read already: the next ASGI message can only be the disconnect.)"""
    from fastapi.responses import JSONResponse, Response

    from agentterm.server.leaving import stopping_body, when_set

    stopping = request.app.state.parts.stopping
    task = asyncio.ensure_future(work)

    async def gone() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    watchers = [asyncio.ensure_future(gone()), asyncio.ensure_future(when_set(stopping))]
    try:
        await asyncio.wait({task, *watchers}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for other in (task, *watchers):
            other.cancel()
        await asyncio.gather(task, *watchers, return_exceptions=True)
    if not task.cancelled():
        return task.result()
    if stopping is not None and stopping.is_set():
        return JSONResponse(stopping_body(), status_code=503)
    return Response(status_code=499)  # the client is gone: nobody reads it


def prompt_title(astore, cid: int, prompt: str) -> None:
    """The prompt's first line as the conversation's title (never over a user's), in the background:
    the answer does not wait for the write, and nothing waits for its end (a title is never worth
    a warning)."""
    from agentterm.engine.answer import _scrub
    from agentterm.llm import fallback_title

    astore.submit(astore.store.set_auto_title, cid, _scrub(fallback_title(prompt)))


class Run:
    """One turn's events read as text pieces; approvals denied, usage summed, the error kept."""

    def __init__(self, parts: Parts, turn, model: str, cid: int, new: bool) -> None:
        self.parts, self.turn, self.model, self.cid, self.new = parts, turn, model, cid, new
        self.error: Exception | None = None
        self.prompt_tokens = self.completion_tokens = 0
        self.id = "chatcmpl-" + secrets.token_hex(12)
        self.created = int(time.time())
        self.done = False
        self.ephemeral = False
        self.first_prompt = ""
        self._closing: asyncio.Future | None = None

    async def next_piece(self) -> str | None:
        """The next text piece, or None at the end of the turn."""
        from agentterm.engine import AnswerFailed, Approval, ApprovalAsked, TextDelta, UsageReported

        while not self.done:
            try:
                event = await self.turn.__anext__()
            except StopAsyncIteration:
                self.done = True
                break
            if isinstance(event, TextDelta) and event.text:
                return event.text
            if isinstance(event, ApprovalAsked):
                if not event.future.done():
                    event.future.set_result(Approval("deny", DENIED))
            elif isinstance(event, UsageReported):
                self.prompt_tokens += getattr(event.usage, "prompt_tokens", None) or 0
                self.completion_tokens += getattr(event.usage, "completion_tokens", None) or 0
            elif isinstance(event, AnswerFailed):
                self.error = event.error
        return None

    async def until_text(self) -> list[str]:
        piece = await self.next_piece()
        return [] if piece is None else [piece]

    async def texts(self):
        while (piece := await self.next_piece()) is not None:
            yield piece

    def usage(self) -> dict:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens}

    def close(self) -> asyncio.Future:
        """End the turn (a turn cut short is stored interrupted by the engine). Every call awaits
        the same closing, shielded: a cancelled waiter leaves it running, a later one waits for it."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        return asyncio.shield(self._closing)

    async def _close(self) -> None:
        await self.turn.aclose()
        if self.new and self.error is None and self.done:
            mode = title_mode(self.parts)
            if mode == "all" or (mode == "sessions" and not self.ephemeral):
                from agentterm.engine import start_title

                start_title(self.parts.astore, self.parts.client, self.cid)
            else:
                # No model request: a stateless client would pay two upstream requests a call.
                prompt_title(self.parts.astore, self.cid, self.first_prompt)

    def chunk(self, delta: dict, finish: str | None = None, **extra: Any) -> str:
        data = {"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra}
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    async def sse(self, first: list[str], include_usage: bool):
        try:
            yield self.chunk({"role": "assistant", "content": ""})
            for piece in first:
                yield self.chunk({"content": piece})
            async for piece in self.texts():
                yield self.chunk({"content": piece})
            if self.error is not None:
                error = turn_error(self.error, self.parts.scrub)
                yield f"data: {json.dumps(error_body(error.message, error.type, error.code))}\n\n"
                return
            yield self.chunk({}, "stop")
            if include_usage:
                data = {"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                        "model": self.model, "choices": [], "usage": self.usage()}
                yield f"data: {json.dumps(data)}\n\n"
            yield "data: [DONE]\n\n"
        finally:
            # A client gone or a stop cancels this generator: the turn is closed, its answer
            # interrupted (LeavingStream waits for that, outside the cancelled scope).
            await self.close()
