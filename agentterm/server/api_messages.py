"""/api/sessions/{id}/messages: a session's messages paged, added, edited, deleted, cleared."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from agentterm.server.api_common import Caller, message_json, store_errors
from agentterm.server.errors import APIError

router = APIRouter(prefix="/api/sessions/{session_id}/messages", tags=["messages"])


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant", "system"]
    content: str


class MessagePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(description="The new text; the message is marked edited.")


def _not_streaming(message) -> None:
    if message.status == "streaming" and not message.is_stale:
        raise APIError(409, f"Message {message.id} is being written now: stop the answer first.",
                       code="still_streaming")


@router.get("")
async def list_messages(session_id: int, request: Request, limit: int = Query(default=50, ge=1, le=500),
                        before: int | None = Query(default=None, description="next_before of the page after.")):
    """The newest `limit` messages (before message `before`), oldest first; `next_before` pages
    back towards the start (null there). Answers a retry replaced are left out, as in the app."""
    caller = Caller(request)
    conversation = await caller.session(session_id)
    if before is None:
        page = await caller.astore.latest_messages(conversation.id, limit + 1)
    else:
        page = await caller.astore.messages_before(conversation.id, before, limit + 1)
    more, page = len(page) > limit, page[-limit:]
    return {"object": "list", "data": [message_json(m) for m in page],
            "next_before": page[0].id if more and page else None}


@router.post("", status_code=201)
async def add_message(session_id: int, body: MessageCreate, request: Request) -> dict:
    """Store a message in the session as it is (no answer is asked for: that is POST /api/sessions/conversation)."""
    caller = Caller(request)
    conversation = await caller.session(session_id)
    if conversation.deleted_at is not None:
        raise APIError(409, f"Session {conversation.id} is in the trash: restore it first.", code="trashed")
    with store_errors():
        message = await caller.astore.add_message(conversation.id, body.role, body.content)
    return message_json(message)


@router.delete("")
async def clear_messages(session_id: int, request: Request) -> dict:
    """Delete every message for good; the session stays."""
    caller = Caller(request)
    conversation = await caller.session(session_id)
    for message in await caller.astore.latest_messages(conversation.id, 5):
        _not_streaming(message)
    with store_errors():
        count = await caller.astore.clear_messages(conversation.id)
    return {"id": conversation.id, "object": "session", "deleted_messages": count}


@router.get("/{message_id}")
async def get_message(session_id: int, message_id: int, request: Request) -> dict:
    _, message = await Caller(request).message(session_id, message_id)
    return message_json(message)


@router.patch("/{message_id}")
async def edit_message(session_id: int, message_id: int, body: MessagePatch, request: Request) -> dict:
    caller = Caller(request)
    _, message = await caller.message(session_id, message_id)
    _not_streaming(message)
    with store_errors():
        message = await caller.astore.update_message(message.id, content=body.content, edited=True)
    return message_json(message)


@router.delete("/{message_id}")
async def delete_message(session_id: int, message_id: int, request: Request) -> dict:
    caller = Caller(request)
    _, message = await caller.message(session_id, message_id)
    _not_streaming(message)
    with store_errors():
        await caller.astore.delete_message(message.id)
    return {"id": message.id, "object": "message", "deleted": True}
