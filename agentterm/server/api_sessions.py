"""/api/sessions: a user's conversations listed by cursor, made, changed, archived, trashed,
titled, exported, and the conversation endpoint (messages in, the agent's answer out)."""

from __future__ import annotations

import secrets
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from agentterm.models import to_iso
from agentterm.server.api_common import Caller, decode_cursor, encode_cursor, store_errors
from agentterm.server.chat import SESSION_KEY_RULE, header_safe
from agentterm.server.errors import APIError
from agentterm.store.validation import MAX_TITLE

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str | None = Field(default=None, description="The agent's name or id; none: no agent.")
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    tags: list[str] | None = None
    session_uuid: str | None = Field(default=None, min_length=1, max_length=200,
                                     description="The /v1 session_id to give it; none: a new sess_... id.")

    @field_validator("session_uuid")
    @classmethod
    def _not_an_id(cls, value: str | None) -> str | None:
        # /v1 reads a number as a session's id: a key of digits would hide the session with that id.
        if value is not None and (value.strip().isdigit() or not header_safe(value)):
            raise ValueError(f"{SESSION_KEY_RULE}, not all digits (a number is a session's id)")
        return value


class SessionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=MAX_TITLE)
    tags: list[str] | None = None
    pinned: bool | None = None
    agent: str | None = Field(default=None, description="Move it to this agent (name or id); \"\" for none.")
    instructions_override: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: Any = ""


class ConversationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: list[ChatMessage] = Field(min_length=1)
    session_id: int | str | None = Field(default=None, description="A session's id or session_uuid; none: new.")
    session_name: str | None = Field(default=None, max_length=MAX_TITLE)
    agent_name: str | None = None
    agent_instructions: str | None = None


@router.get("")
async def list_sessions(
        request: Request,
        agent: str | None = Query(default=None, description="An agent's name or id."),
        archived: bool | None = Query(default=None, description="true: only archived; false: only active."),
        trash: bool = Query(default=False, description="true: the trash instead."),
        tag: str | None = Query(default=None, description="Sessions with this tag (any case)."),
        q: str | None = Query(default=None, description="Full text over titles and messages."),
        limit: int = Query(default=50, ge=1, le=200),
        cursor: str | None = Query(default=None, description="next_cursor of the page before.")) -> dict:
    """Pinned first, then by last activity; `next_cursor` fetches the next page (null at the end)."""
    caller = Caller(request)
    view = "trash" if trash else {None: "all", True: "archive", False: "inbox"}[archived]
    agent_id = (await caller.named_agent(agent)).id if agent else None
    after = None
    if cursor:
        pinned, last, cid = decode_cursor(cursor, (int, str, int))
        after = (pinned, last, cid)
    page = await caller.astore.list_owned_sessions(caller.user, caller.local, view=view, agent_id=agent_id,
                                                   tag=tag, q=q, after=after, limit=limit + 1)
    more, page = len(page) > limit, page[:limit]
    last = page[-1] if page else None
    return {"object": "list", "data": await caller.sessions_json(page),
            "next_cursor": encode_cursor([int(last.pinned), to_iso(last.last_activity_at), last.id])
            if more and last else None}


@router.post("", status_code=201)
async def create_session(body: SessionCreate, request: Request) -> dict:
    caller = Caller(request)
    agent = await caller.named_agent(body.agent) if body.agent else None
    key = body.session_uuid or "sess_" + secrets.token_hex(12)
    if await caller.astore.session_taken(key):
        raise APIError(409, f"There is already a session {key!r}.", code="session_exists", param="session_uuid")
    with store_errors():
        conversation = await caller.astore.create_owned_conversation(agent.id if agent else None, caller.user, key)
        if body.title:
            await caller.astore.rename_conversation(conversation.id, body.title)
        if body.tags:
            await caller.astore.set_tags(conversation.id, body.tags)
    return await caller.session_json(conversation)


@router.post("/conversation")
async def conversation(body: ConversationRequest, request: Request) -> dict:
    """Send messages to a session (or a new one) and get the agent's answer, as /v1/chat/completions
    does: of the messages, the user messages after the last assistant one are the new turn."""
    from agentterm.server.turns import until_gone

    # A client gone cancels the turn: its answer is stored interrupted, as in /v1.
    return await until_gone(request, _conversation(body, Caller(request)))


async def _conversation(body: ConversationRequest, caller: Caller) -> dict:
    from agentterm.server.turns import answer_text, split_turn, start_run, store_history, usable

    history, prompt = split_turn([m.model_dump() for m in body.messages])
    astore, new = caller.astore, body.session_id in (None, "")
    if not new:
        found = await astore.owned_conversation(caller.user, str(body.session_id), caller.local)
        if found is None:
            raise APIError(404, f"There is no session {body.session_id}.", code="session_not_found",
                           param="session_id")
        if body.agent_name and found.agent_id != (await caller.named_agent(body.agent_name)).id:
            raise APIError(400, f"Session {found.id} talks to agent {found.agent_name!r}, not"
                           f" {body.agent_name!r}.", code="agent_mismatch", param="agent_name")
        if found.agent_id is None:
            raise APIError(409, f"Session {found.id} has no agent to answer: PATCH it with one first.",
                           code="no_agent", param="session_id")
        # Still one this user may use: an agent no longer shared answers its owner only.
        agent = usable(await astore.visible_agent(caller.user, str(found.agent_id), caller.local),
                       found.agent_name or "")
        conversation = found
    else:
        name = body.agent_name or (await astore.default_agent()).name
        agent = usable(await astore.visible_agent(caller.user, name, caller.local), name)
        key = "sess_" + secrets.token_hex(12)
        conversation = await astore.create_owned_conversation(agent.id, caller.user, key)
        await store_history(astore, conversation.id, history)
    with store_errors():
        if body.session_name and body.session_name != conversation.title:
            await astore.rename_conversation(conversation.id, body.session_name)
        if body.agent_instructions is not None:
            await astore.override_conversation(conversation.id, instructions_override=body.agent_instructions)
    text = await answer_text(start_run(caller.parts, conversation.id, prompt, agent.name, new))
    session = await caller.session_json(conversation)
    return {"session_id": session["id"], "session_uuid": session["session_uuid"], "response": text,
            "messages_count": session["message_count"], "session_active": session["active"]}


@router.get("/{session_id}")
async def get_session(session_id: int, request: Request) -> dict:
    caller = Caller(request)
    return await caller.session_json(await caller.session(session_id))


@router.patch("/{session_id}")
async def update_session(session_id: int, body: SessionPatch, request: Request) -> dict:
    """Rename (a title of yours, kept over generated ones), tag, pin, move to another agent."""
    caller = Caller(request)
    conversation, astore = await caller.session(session_id), caller.astore
    fields = body.model_dump(exclude_unset=True)
    agent = None
    if fields.get("agent"):
        agent = await caller.named_agent(fields["agent"])
    with store_errors():
        if "title" in fields:
            await astore.rename_conversation(conversation.id, fields["title"] or "")
        if "tags" in fields:
            await astore.set_tags(conversation.id, fields["tags"] or [])
        if fields.get("pinned") is not None:
            await astore.set_pinned(conversation.id, fields["pinned"])
        if "agent" in fields:
            await astore.relink_conversation(conversation.id, agent.id if agent else None)
        if "instructions_override" in fields:
            await astore.override_conversation(conversation.id,
                                               instructions_override=fields["instructions_override"])
    return await caller.session_json(conversation)


@router.delete("/{session_id}")
async def delete_session(session_id: int, request: Request, purge: bool = Query(default=False)) -> dict:
    """To the trash (restorable); purge=true deletes it for good, with its messages."""
    caller = Caller(request)
    conversation = await caller.session(session_id)
    with store_errors():
        if purge:
            await caller.astore.purge(conversation.id)
            return {"id": conversation.id, "object": "session", "deleted": True}
        await caller.astore.trash(conversation.id)
    return await caller.session_json(conversation)


async def _mark(request: Request, session_id: int, method: str) -> dict:
    caller = Caller(request)
    conversation = await caller.session(session_id)
    with store_errors():
        await getattr(caller.astore, method)(conversation.id)
    return await caller.session_json(conversation)


@router.post("/{session_id}/restore")
async def restore_session(session_id: int, request: Request) -> dict:
    """Out of the trash."""
    return await _mark(request, session_id, "restore")


@router.put("/{session_id}/activate")
async def activate_session(session_id: int, request: Request) -> dict:
    """Out of the archive: active again."""
    return await _mark(request, session_id, "unarchive")


@router.put("/{session_id}/deactivate")
async def deactivate_session(session_id: int, request: Request) -> dict:
    """Into the archive."""
    return await _mark(request, session_id, "archive")


@router.post("/{session_id}/generate-title")
async def generate_title(session_id: int, request: Request) -> dict:
    """A title made by the model from the first prompt and answer, over any title it had."""
    from agentterm.engine.titles import regenerate_title
    from agentterm.server.errors import turn_error

    caller = Caller(request)
    conversation = await caller.session(session_id)
    try:
        title = await regenerate_title(caller.astore, caller.parts.client, conversation.id)
    except Exception as error:  # noqa: BLE001 - the model's faults, told in OpenAI's shape
        from agentterm.llm import LLMError

        if not isinstance(error, LLMError):
            raise
        raise turn_error(error, caller.parts.scrub) from None
    if title is None:
        raise APIError(409, f"Session {conversation.id} has no prompt yet: nothing to make a title of.",
                       code="nothing_to_title")
    return await caller.session_json(conversation)


@router.get("/{session_id}/export")
async def export_session(session_id: int, request: Request, format: Literal["md", "json"] = Query(default="md"),
                         with_thinking: bool = Query(default=False)):
    """The session as `agentterm chats export` writes it: Markdown with front matter, or JSON."""
    from agentterm.export import render

    caller = Caller(request)
    conversation = await caller.session(session_id)
    data = await caller.astore.export_conversation(conversation.id)
    text = render(data, format, with_thinking=with_thinking)
    media = "application/json" if format == "json" else "text/markdown; charset=utf-8"
    return PlainTextResponse(text, media_type=media)
