"""GET /v1/models: the agents the token's user may talk to (their own and the shared), as models."""

from __future__ import annotations

from fastapi import APIRouter, Request

from agentterm.server.app import parts_of, user_of

router = APIRouter(prefix="/v1", tags=["openai"])


@router.get("/models")
async def list_models(request: Request) -> dict:
    parts = parts_of(request)
    agents = await parts.astore.visible_agents(user_of(request), parts.local_user)
    return {"object": "list", "data": [
        {"id": a.name, "object": "model", "created": int(a.created_at.timestamp()) if a.created_at else 0,
         "owned_by": "agentterm", "description": a.description or ""}
        for a in agents]}
