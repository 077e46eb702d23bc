"""/api/agents: a user's agents (and the shared ones) listed, made, changed, paused, versioned."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from agentterm.server.api_common import Caller, store_errors
from agentterm.server.errors import APIError

router = APIRouter(prefix="/api/agents", tags=["agents"])

# The tool fields name MCP servers of the server's own config: tools run on this machine, so only
# its local user may give an agent tools or let them run unasked.
TOOL_FIELDS = ("mcp_servers", "allowed_tools", "tool_approval")


class AgentFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    provider: str | None = None
    model: str | None = None
    instructions: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    extra: dict[str, Any] | None = None
    mcp_servers: list[str] | None = None
    allowed_tools: list[str] | None = None
    tool_approval: Literal["ask", "auto"] | None = None
    shared: bool | None = Field(default=None, description="Every user sees and uses it; only you change it.")


class AgentCreate(AgentFields):
    name: str = Field(min_length=1, max_length=80)


class AgentPatch(AgentFields):
    name: str | None = Field(default=None, min_length=1, max_length=80)


def _changes(caller: Caller, body: AgentFields) -> tuple[dict, bool | None]:
    fields = body.model_dump(exclude_unset=True)
    shared = fields.pop("shared", None)
    tools = [f for f in TOOL_FIELDS if f in fields and fields[f] not in (None, [], "ask")]
    if tools and caller.user != caller.local:
        raise APIError(403, f"Only the server's local user can set {', '.join(tools)}: an agent's tools run"
                       " on the server's machine.", code="tools_local_only", param=tools[0])
    return fields, shared


async def _one(caller: Caller, agent_id: int) -> dict:
    return (await caller.agents_json([await caller.agent(agent_id)]))[0]


@router.get("")
async def list_agents(request: Request,
                      status: Literal["active", "paused", "inactive"] | None = Query(default=None)) -> dict:
    """Your agents and the shared ones, by name; `status` keeps one status only."""
    caller = Caller(request)
    statuses = (status,) if status else ("active", "paused", "inactive")
    agents = await caller.astore.visible_agents(caller.user, caller.local, statuses)
    return {"object": "list", "data": await caller.agents_json(agents)}


@router.post("", status_code=201)
async def create_agent(body: AgentCreate, request: Request) -> dict:
    caller = Caller(request)
    fields, shared = _changes(caller, body)
    name = fields.pop("name")
    with store_errors():
        agent = await caller.astore.create_owned_agent(caller.user, name, **{
            k: v for k, v in fields.items() if v is not None})
        if shared:
            await caller.astore.set_agent_shared(agent.id, True)
    return await _one(caller, agent.id)


@router.get("/{agent_id}")
async def get_agent(agent_id: int, request: Request) -> dict:
    return await _one(Caller(request), agent_id)


@router.patch("/{agent_id}")
async def update_agent(agent_id: int, body: AgentPatch, request: Request) -> dict:
    """Change fields (each save a new version); `shared` marks it shared or takes that back."""
    caller = Caller(request)
    agent = await caller.agent(agent_id, change=True)
    fields, shared = _changes(caller, body)
    if fields.get("name") is None:
        fields.pop("name", None)
    with store_errors():
        if fields:
            await caller.astore.update_agent(agent.id, **fields)
        if shared is not None:
            await caller.astore.set_agent_shared(agent.id, shared)
    return await _one(caller, agent.id)


@router.delete("/{agent_id}")
async def delete_agent(agent_id: int, request: Request, keep_sessions: bool = Query(default=True)) -> dict:
    """Delete the agent and its versions. keep_sessions=true: your sessions with it stay, unlinked;
    false: they go to the trash. Other users' sessions with it (it was shared) always stay."""
    caller = Caller(request)
    agent = await caller.agent(agent_id, change=True)
    with store_errors():
        await caller.astore.delete_owned_agent(caller.user, agent.id, caller.local, keep_sessions)
    return {"id": agent.id, "object": "agent", "deleted": True}


async def _status(request: Request, agent_id: int, status: str) -> dict:
    caller = Caller(request)
    agent = await caller.agent(agent_id, change=True)
    with store_errors():
        await caller.astore.set_agent_status(agent.id, status)
    return await _one(caller, agent.id)


@router.post("/{agent_id}/pause")
async def pause_agent(agent_id: int, request: Request) -> dict:
    """Paused: it keeps its sessions but answers none (409) until resumed."""
    return await _status(request, agent_id, "paused")


@router.post("/{agent_id}/resume")
async def resume_agent(agent_id: int, request: Request) -> dict:
    return await _status(request, agent_id, "active")


@router.post("/{agent_id}/retire")
async def retire_agent(agent_id: int, request: Request) -> dict:
    """Retired (status inactive): gone from /v1/models; resume brings it back."""
    return await _status(request, agent_id, "inactive")


@router.get("/{agent_id}/versions")
async def agent_versions(agent_id: int, request: Request) -> dict:
    """Every saved version, newest first, with the fields as they were."""
    caller = Caller(request)
    agent = await caller.agent(agent_id)
    versions = await caller.astore.agent_versions(agent.id)
    return {"object": "list", "data": [
        {"object": "agent.version", "agent_id": v.agent_id, "version": v.version, "data": v.data,
         "created_at": v.created_at.isoformat(timespec="milliseconds") if v.created_at else None}
        for v in versions]}


@router.post("/{agent_id}/versions/{version}/restore")
async def restore_version(agent_id: int, version: int, request: Request) -> dict:
    """Save that version's fields as the newest version (history is never rewritten)."""
    caller = Caller(request)
    agent = await caller.agent(agent_id, change=True)
    if version not in {v.version for v in await caller.astore.agent_versions(agent.id)}:
        raise APIError(404, f"The agent {agent.name!r} has no version {version}.", code="version_not_found")
    with store_errors():
        await caller.astore.restore_agent_version(agent.id, version)
    return await _one(caller, agent.id)
