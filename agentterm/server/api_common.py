"""What the /api routers share: owner-checked lookups (a foreign id is the same 404 as a missing
one), the JSON forms of agents, sessions and messages, cursors, and store errors as HTTP ones."""

from __future__ import annotations

import base64
import json
from contextlib import contextmanager
from typing import Any

from agentterm.models import Agent, Conversation, Message, to_iso
from agentterm.server.app import Parts, parts_of, user_of
from agentterm.server.errors import APIError


def invalid(where: str, field: str, message: str, value: Any = None) -> Exception:
    """A 422 in FastAPI's own shape ({"detail": [...]}), naming the field, as pydantic's are."""
    from fastapi.exceptions import RequestValidationError

    return RequestValidationError([{"type": "value_error", "loc": [where, field], "msg": message,
                                    "input": value}])


@contextmanager
def store_errors():
    """The store's refusals as HTTP errors: bad agent fields 422, gone 404, others 400."""
    from agentterm.store.errors import GoneError, StoreError, ValidationError

    try:
        yield
    except ValidationError as error:
        from fastapi.exceptions import RequestValidationError

        raise RequestValidationError([{"type": "value_error", "loc": ["body", field], "msg": why,
                                       "input": None} for field, why in error.errors.items()]) from None
    except GoneError as error:
        raise APIError(404, str(error), code="not_found") from None
    except (StoreError, ValueError) as error:
        raise APIError(400, str(error), code="refused") from None


class Caller:
    """The request's user and the parts, with the lookups every route makes."""

    def __init__(self, request) -> None:
        self.parts: Parts = parts_of(request)
        self.user: str = user_of(request)
        self.astore = self.parts.astore
        self.local = self.parts.local_user

    async def agent(self, agent_id: int, *, change: bool = False) -> Agent:
        """The agent if this user may see it (their own, or shared); to change it, their own:
        a shared agent of someone else is a 403, any other agent a 404."""
        access = await self.astore.agent_access(self.user, agent_id, self.local)
        agent = await self.astore.get_agent(agent_id) if access else None
        if agent is None:
            raise APIError(404, f"There is no agent {agent_id}.", code="agent_not_found")
        if change and access != "own":
            raise APIError(403, f"The agent {agent.name!r} is shared with you: only its owner can change it.",
                           code="agent_not_yours")
        return agent

    async def named_agent(self, name: str) -> Agent:
        """An agent this user may use, by name or id (as /v1's `model`)."""
        agent = await self.astore.visible_agent(self.user, name, self.local)
        if agent is None:
            raise APIError(404, f"There is no agent {name!r}: GET /api/agents lists them.",
                           code="agent_not_found", param="agent")
        return agent

    async def session(self, cid: int) -> Conversation:
        """The user's conversation with this id (trashed too); anyone else's is a 404."""
        conversation = await self.astore.owned_session(self.user, cid, self.local)
        if conversation is None:
            raise APIError(404, f"There is no session {cid}.", code="session_not_found")
        return conversation

    async def message(self, cid: int, mid: int) -> tuple[Conversation, Message]:
        conversation = await self.session(cid)
        message = await self.astore.get_message(mid)
        if message is None or message.conversation_id != conversation.id:
            raise APIError(404, f"Session {cid} has no message {mid}.", code="message_not_found")
        return conversation, message

    async def agents_json(self, agents: list[Agent]) -> list[dict]:
        marks = await self.astore.agent_marks([a.id for a in agents])
        return [agent_json(a, marks.get(a.id, {}), self.user, self.local) for a in agents]

    async def sessions_json(self, conversations: list[Conversation]) -> list[dict]:
        marks = await self.astore.session_marks([c.id for c in conversations])
        return [session_json(c, marks.get(c.id, {})) for c in conversations]

    async def session_json(self, conversation: Conversation) -> dict:
        fresh = await self.astore.get_conversation(conversation.id) or conversation
        return (await self.sessions_json([fresh]))[0]


def agent_json(agent: Agent, marks: dict, user: str, local: str) -> dict:
    owner = marks.get("owner") or local
    return {
        "id": agent.id, "object": "agent", "name": agent.name, "description": agent.description,
        "status": agent.status, "provider": agent.provider, "model": agent.model,
        "instructions": agent.instructions, "temperature": agent.temperature, "top_p": agent.top_p,
        "max_tokens": agent.max_tokens, "extra": agent.extra, "mcp_servers": agent.mcp_servers,
        "allowed_tools": agent.allowed_tools, "tool_approval": agent.tool_approval,
        "version": agent.version, "owner": owner, "shared": bool(marks.get("shared")),
        "yours": owner == user, "created_at": to_iso(agent.created_at), "updated_at": to_iso(agent.updated_at),
    }


def session_json(c: Conversation, marks: dict) -> dict:
    return {
        "id": c.id, "object": "session", "session_uuid": marks.get("session_key"), "title": c.title,
        "title_source": c.title_source, "agent_id": c.agent_id, "agent_name": c.agent_name,
        "tags": c.tags, "pinned": c.pinned, "active": c.archived_at is None and c.deleted_at is None,
        "archived_at": to_iso(c.archived_at), "deleted_at": to_iso(c.deleted_at),
        "created_at": to_iso(c.created_at), "last_activity_at": to_iso(c.last_activity_at),
        "message_count": c.message_count, "tokens": c.tokens, "model": c.model,
        "instructions_override": c.instructions_override, "origin": marks.get("origin"),
    }


def message_json(m: Message) -> dict:
    return {
        "id": m.id, "object": "message", "session_id": m.conversation_id, "role": m.role,
        "content": m.content, "status": m.status, "model": m.model, "thinking": m.thinking,
        "tool_call_id": m.tool_call_id, "tool_name": m.tool_name,
        "prompt_tokens": m.prompt_tokens, "completion_tokens": m.completion_tokens,
        "created_at": to_iso(m.created_at), "edited_at": to_iso(m.edited_at),
        "tool_calls": [{"call_id": t.call_id, "name": t.name, "arguments": t.arguments, "status": t.status,
                        "result": t.result, "error": t.error} for t in m.tool_calls],
    }


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, shape: tuple[type, ...]) -> list:
    """The values a cursor carries, checked against `shape`; a 422 naming `cursor` otherwise."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(values, list) and len(values) == len(shape) and all(
                isinstance(v, t) and not isinstance(v, bool) for v, t in zip(values, shape)):
            return values
    except (ValueError, UnicodeDecodeError):
        pass
    raise invalid("query", "cursor", "is not a cursor this server gave: pass next_cursor as it came", cursor)
