"""POST /v1/chat/completions: an agent (the model) answers through run_turn, in a session."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict

from agentterm.server.app import Parts, parts_of, user_of
from agentterm.server.errors import APIError, error_body, turn_error

router = APIRouter(prefix="/v1", tags=["openai"])
DENIED = ("agentterm serve cannot ask anyone to approve a tool call: this agent's tool_approval"
          " is 'ask' and the tool is not always allowed (set the agent to auto, or allow the tool in the app)")


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[dict[str, Any]]
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    session_id: str | None = None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def split_turn(messages: list[dict]) -> tuple[list[dict], str]:
    """(the history before the new turn, the new turn's prompt): the user messages after the
    last assistant message are the new turn."""
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1)
    new = [_text(m.get("content")) for m in messages[last + 1:] if m.get("role") == "user"]
    if not any(t.strip() for t in new):
        raise APIError(400, "There is no user message after the last assistant message: nothing to answer.",
                       code="no_new_message", param="messages")
    return messages[: last + 1], "\n\n".join(t for t in new if t.strip())


async def _conversation(parts: Parts, user: str, agent, session: str | None, history: list[dict]):
    """(the conversation, its session id, whether it is new) for this request."""
    astore = parts.astore
    if session:
        found = await astore.owned_conversation(user, session, parts.local_user)
        if found is not None:
            if found.agent_id != agent.id:
                raise APIError(400, f"Session {session} talks to agent {found.agent_name!r}, not"
                               f" {agent.name!r}: send that model, or start a new session.", param="model")
            return found, session, False
        if await astore.session_taken(session) or (session.isdigit()
                                                    and await astore.get_conversation(int(session))):
            raise APIError(404, f"There is no session {session}.", code="session_not_found",
                           param="session_id")
    key = session or "sess_" + secrets.token_hex(12)
    conversation = await astore.create_owned_conversation(agent.id, user, key, ephemeral=not session)
    for m in history:  # a new session told its past by the client: kept as the history
        if m.get("role") in ("user", "assistant") and _text(m.get("content")).strip():
            await astore.add_message(conversation.id, m["role"], _text(m.get("content")))
    return conversation, key, True


@router.post("/chat/completions")
async def chat_completions(body: ChatRequest, request: Request,
                           x_session_id: str | None = Header(default=None)):
    parts, user = parts_of(request), user_of(request)
    agent = await parts.astore.visible_agent(user, body.model, parts.local_user)
    if agent is None or agent.status == "inactive":
        raise APIError(404, f"There is no agent {body.model!r}: GET /v1/models lists them.",
                       code="model_not_found", param="model")
    if agent.status == "paused":
        raise APIError(409, f"The agent {agent.name!r} is paused: resume it to talk to it.",
                       code="agent_paused", param="model")
    history, prompt = split_turn(body.messages)
    if not body.stream:
        return await _until_gone(request, _answer(parts, user, agent, body, x_session_id, history, prompt))
    # Taken before any work, given back however the stream ends (done, failed, client gone).
    slot = parts.limits.open_stream(request.scope["state"]["token"]) if parts.limits else None
    try:
        return await _answer(parts, user, agent, body, x_session_id, history, prompt, slot)
    finally:
        if slot is not None and not slot.handed:
            slot.release()


async def _answer(parts: Parts, user: str, agent, body: ChatRequest, x_session_id: str | None,
                  history: list[dict], prompt: str, slot=None):
    from agentterm.engine import run_turn

    conversation, key, new = await _conversation(parts, user, agent, body.session_id or x_session_id, history)
    turn = run_turn(parts.astore, parts.client, conversation.id, prompt, tools=parts.tools,
                    auto_approve=False, max_steps=getattr(parts.settings, "max_steps", 20))
    run = _Run(parts, turn, agent.name, conversation.id, new)
    headers = {"X-Session-ID": key}
    try:
        first = await run.until_text()
    except BaseException:
        await asyncio.shield(run.close())
        raise
    if run.error is not None and not first:
        await run.close()
        error = turn_error(run.error, parts.scrub)
        return JSONResponse(error.body(), status_code=error.status, headers=headers)
    if body.stream:
        usage = bool((body.stream_options or {}).get("include_usage"))
        if slot is not None:
            slot.handed = True  # the stream gives it back when it ends
        return _Stream(run.sse(first, usage), media_type="text/event-stream", headers=headers,
                       on_end=slot.release if slot is not None else None)
    try:
        text = "".join(first) + "".join([t async for t in run.texts()])
    finally:
        # Shielded: a client gone cancels this task, and the turn must still be stored interrupted.
        await asyncio.shield(run.close())
    if run.error is not None:
        error = turn_error(run.error, parts.scrub)
        return JSONResponse(error.body(), status_code=error.status, headers=headers)
    return JSONResponse({
        "id": run.id, "object": "chat.completion", "created": run.created, "model": agent.name,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}],
        "usage": run.usage(), "session_id": key}, headers=headers)


async def _until_gone(request: Request, work):
    """Await `work` (a non-streamed answer) unless the client goes away first: then it is
    cancelled, so the turn stops and its partial answer is stored interrupted, as a stream's is.
    (The body is read already: the next ASGI message can only be the disconnect.)"""
    task = asyncio.ensure_future(work)

    async def gone() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    watch = asyncio.ensure_future(gone())
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for other in (task, watch):
            other.cancel()
        await asyncio.gather(task, watch, return_exceptions=True)
    if task.cancelled():
        return Response(status_code=499)  # nobody is there to read it
    return task.result()


class _Stream(StreamingResponse):
    """A stream that always watches for the client leaving: then the turn is cancelled (the
    answer stored interrupted), whatever ASGI version the server speaks. `on_end` runs however
    it ends (the stream's slot given back)."""

    def __init__(self, *args, on_end=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.on_end = on_end

    async def __call__(self, scope, receive, send) -> None:
        import anyio

        try:
            async with anyio.create_task_group() as group:
                async def until_done(run) -> None:
                    await run()
                    group.cancel_scope.cancel()

                group.start_soon(until_done, lambda: self.stream_response(send))
                await until_done(lambda: self.listen_for_disconnect(receive))
        finally:
            if self.on_end is not None:
                self.on_end()


class _Run:
    """One turn's events read as text pieces; approvals denied, usage summed, the error kept."""

    def __init__(self, parts: Parts, turn, model: str, cid: int, new: bool) -> None:
        self.parts, self.turn, self.model, self.cid, self.new = parts, turn, model, cid, new
        self.error: Exception | None = None
        self.prompt_tokens = self.completion_tokens = 0
        self.id = "chatcmpl-" + secrets.token_hex(12)
        self.created = int(time.time())
        self.done = False
        self.closed = False

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

    async def close(self) -> None:
        """End the turn: a turn cut short (a client gone) is stored interrupted by the engine."""
        if self.closed:
            return
        self.closed = True
        await self.turn.aclose()
        if self.new and self.error is None and self.done:
            from agentterm.engine import start_title

            start_title(self.parts.astore, self.parts.client, self.cid)

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
            # A client that went away cancels this generator: the turn is closed, its answer interrupted.
            await asyncio.shield(self.close())
