"""POST /v1/chat/completions: an agent (the model) answers through run_turn, in a session."""

from __future__ import annotations

import json
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from agentterm.server.app import Parts, parts_of, user_of
from agentterm.server.errors import APIError, turn_error
from agentterm.server.leaving import LeavingStream
from agentterm.server.turns import (answer_text, closed, history_rows, split_turn, start_run, until_gone,
                                    usable)

router = APIRouter(prefix="/v1", tags=["openai"])
# The key goes back in the X-Session-ID header: a character a header cannot carry (U+202E, a CJK
# name) or a key of megabytes failed the answer after the turn had run (a bare 500).
SESSION_KEY_LENGTH = 200
SESSION_KEY_RULE = (f"must be at most {SESSION_KEY_LENGTH} printable ASCII characters"
                    " (it comes back in the X-Session-ID header)")


def header_safe(key: str) -> bool:
    return len(key) <= SESSION_KEY_LENGTH and all("!" <= ch <= "~" for ch in key)


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[dict[str, Any]]
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    session_id: str | None = Field(default=None, max_length=SESSION_KEY_LENGTH)

    @field_validator("session_id")
    @classmethod
    def _header_safe(cls, value: str | None) -> str | None:
        if value is not None and not header_safe(value):
            raise ValueError(SESSION_KEY_RULE)
        return value


def _begin(store, user: str, local_user: str, model: str, session: str | None, history: list[dict]):
    """(the agent, the conversation, its session id, whether it is new) for this request: run on
    the store's thread as one call, since each call to that thread costs a hop (docs/performance.md)."""
    agent = usable(store.visible_agent(user, model, local_user), model)
    if session:
        found = store.owned_conversation(user, session, local_user)
        if found is not None:
            if found.agent_id != agent.id:
                raise APIError(400, f"Session {session} talks to agent {found.agent_name!r}, not"
                               f" {agent.name!r}: send that model, or start a new session.", param="model")
            return agent, found, session, False
        if store.session_taken(session) or (session.isdigit() and store.get_conversation(int(session))):
            raise APIError(404, f"There is no session {session}.", code="session_not_found",
                           param="session_id")
    key = session or "sess_" + secrets.token_hex(12)
    conversation = store.create_owned_conversation(agent.id, user, key, ephemeral=not session)
    for role, text in history_rows(history):
        store.add_message(conversation.id, role, text)
    return agent, conversation, key, True


def read_body(raw: bytes, content_type: str | None) -> ChatRequest:
    """The body as FastAPI would read and validate it for a `body: ChatRequest` parameter, with
    the same 422s (RequestValidationError, loc under "body"), at a fraction of its cost per
    request: its dependency solving was a tenth of a millisecond of the server's CPU
    (docs/performance.md). Non-JSON content types are validated as the raw bytes, as FastAPI's
    strict content type does."""
    from pydantic import ValidationError

    body: Any = None
    if raw:
        body = raw
        if content_type and _is_json(content_type):
            try:
                body = json.loads(raw)
            except json.JSONDecodeError as error:
                raise RequestValidationError([{"type": "json_invalid", "loc": ("body", error.pos),
                                               "msg": "JSON decode error", "input": {},
                                               "ctx": {"error": error.msg}}], body=error.doc) from None
    if body is None and not raw:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required",
                                       "input": None}])
    try:
        return ChatRequest.model_validate(body, from_attributes=True)
    except ValidationError as error:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])}
                                      for e in error.errors(include_url=False)], body=body) from None


def _is_json(content_type: str) -> bool:
    """FastAPI's test: an application/json or application/*+json type, parameters ignored."""
    kind = content_type.split(";", 1)[0].strip().lower()
    main, _, sub = kind.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


# The body and the header as the OpenAPI document shows them (the route reads both itself).
_DOC = {
    "requestBody": {"required": True, "content": {"application/json": {
        "schema": ChatRequest.model_json_schema()}}},
    "parameters": [{"name": "x-session-id", "in": "header", "required": False,
                    "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "X-Session-Id"}}],
    "responses": {"422": {"description": "Validation Error", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}},
}


@router.post("/chat/completions", openapi_extra=_DOC)
async def chat_completions(request: Request):
    body = read_body(await request.body(), request.headers.get("content-type"))
    x_session_id = request.headers.get("x-session-id")
    parts, user = parts_of(request), user_of(request)
    if x_session_id is not None and not header_safe(x_session_id):
        raise RequestValidationError([{"type": "value_error", "loc": ["header", "x-session-id"],
                                       "msg": SESSION_KEY_RULE, "input": x_session_id[:SESSION_KEY_LENGTH]}])
    history, prompt = split_turn(body.messages)
    if not body.stream:
        return await until_gone(request, _answer(parts, user, body, x_session_id, history, prompt))
    # Taken before any work, given back however the stream ends (done, failed, client gone).
    slot = parts.limits.open_stream(request.scope["state"]["token"]) if parts.limits else None
    try:
        return await _answer(parts, user, body, x_session_id, history, prompt, slot)
    finally:
        if slot is not None and not slot.handed:
            slot.release()


async def _answer(parts: Parts, user: str, body: ChatRequest, x_session_id: str | None,
                  history: list[dict], prompt: str, slot=None):
    session = body.session_id or x_session_id
    agent, conversation, key, new = await parts.astore.run(
        _begin, parts.astore.store, user, parts.local_user, body.model, session, history)
    firsts = [text for role, text in history_rows(history) if role == "user"]
    run = start_run(parts, conversation.id, prompt, agent.name, new, conversation=conversation, agent=agent,
                    ephemeral=new and not session, first_prompt=firsts[0] if firsts else prompt)
    headers = {"X-Session-ID": key}
    try:
        first = await run.until_text()
    except BaseException:
        await closed(run)
        raise
    if run.error is not None and not first:
        await run.close()
        error = turn_error(run.error, parts.scrub)
        return JSONResponse(error.body(), status_code=error.status, headers=headers)
    if body.stream:
        usage = bool((body.stream_options or {}).get("include_usage"))
        if slot is not None:
            slot.handed = True  # the stream gives it back when it ends
        return LeavingStream(run.sse(first, usage), run=run, slot=slot, stopping=parts.stopping,
                             media_type="text/event-stream", headers=headers)
    try:
        text = "".join(first) + await answer_text(run)
    except APIError as error:
        return JSONResponse(error.body(), status_code=error.status, headers=headers)
    return JSONResponse({
        "id": run.id, "object": "chat.completion", "created": run.created, "model": agent.name,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}],
        "usage": run.usage(), "session_id": key}, headers=headers)
