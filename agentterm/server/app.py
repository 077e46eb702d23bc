"""create_app(): the FastAPI app, its doors and routers, and the parts every route shares."""

from __future__ import annotations

import math
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any


@dataclass
class Parts:
    """What the routes share: one AsyncStore, one model client, the tools, the local user."""

    astore: Any
    client: Any
    settings: Any
    tools: Any
    local_user: str
    limits: Any = None
    stopping: Any = None  # an asyncio.Event, set when the server stops: open answers end interrupted
    loop: Any = None

    def stop_answers(self) -> None:
        """Safe from a signal handler or another thread: every open answer stops now, rather than
        running on into uvicorn's graceful timeout (and then being cut without its last write)."""
        if self.loop is not None and self.stopping is not None:
            self.loop.call_soon_threadsafe(self.stopping.set)

    def scrub(self, text: str) -> str:
        from agentterm.redact import scrub

        for provider in self.settings.providers.values():
            try:
                key = provider.resolve_api_key()
            except Exception:  # noqa: BLE001 - a broken key command has nothing to scrub
                continue
            if key:
                text = text.replace(key, "[key hidden]")
        return scrub(text)


def create_app(store, settings, client, *, host: str = "127.0.0.1", tools: Any = None):
    from fastapi import FastAPI, Request
    from fastapi.encoders import jsonable_encoder
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    from agentterm.server import api_agents, api_messages, api_sessions, chat, models
    from agentterm.server.doors import BearerAuth, BodyLimit, HostCheck
    from agentterm.server.cleanup import sweep_forever
    from agentterm.server.errors import APIError, error_body
    from agentterm.server.limits import Limits, RequestRate
    from agentterm.store import AsyncStore

    serve = getattr(settings, "serve", {}) or {}
    limits = Limits(settings.serve_number("requests_per_minute"), settings.serve_number("streams_per_token"))
    parts = Parts(AsyncStore(store), client, settings, tools, settings.local_user(), limits)

    @asynccontextmanager
    async def lifespan(app):
        import asyncio

        parts.loop, parts.stopping = asyncio.get_running_loop(), asyncio.Event()
        sweeper = asyncio.create_task(sweep_forever(parts.astore, settings.serve_number("idle_timeout"),
                                                    settings.trash_days))
        try:
            yield
        finally:
            sweeper.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
            if tools is not None:
                await tools.aclose()

    app = FastAPI(title="agentterm", version="1", lifespan=lifespan,
                  description="Agents as OpenAI-compatible models, over the agentterm store.")
    app.state.parts = parts

    @app.exception_handler(APIError)
    async def api_error(request: Request, error: APIError):
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError):
        # FastAPI's own handler, but a non-finite input (1e400 reads as inf) is shown as text:
        # JSON has no inf, and the default answer failed to encode it (a bare 500).
        # Both shapes: FastAPI's `detail` list for the REST API, and OpenAI's `error` with one
        # line naming the field, which the official openai client shows (it showed only "422").
        detail = _finite(jsonable_encoder(error.errors()))
        return JSONResponse({**error_body(_first_problem(detail), "invalid_request_error",
                                          "invalid_value", _field(detail)), "detail": detail},
                            status_code=422)

    app.include_router(models.router)
    app.include_router(chat.router)
    app.include_router(api_agents.router)
    app.include_router(api_sessions.router)
    app.include_router(api_messages.router)
    # Added last = outermost: Host first, then CORS (preflights carry no token), body, token, rate.
    app.add_middleware(RequestRate, limits=limits)
    app.add_middleware(BearerAuth, astore=parts.astore)
    app.add_middleware(BodyLimit, limit=settings.serve_number("max_body_bytes"))
    if serve.get("cors_origins"):
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(serve["cors_origins"]),
                           allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "X-Session-ID"],
                           expose_headers=["X-Session-ID"])
    app.add_middleware(HostCheck, allowed={host, *serve.get("allowed_hosts", [])})
    return app


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _field(detail: list) -> str | None:
    """The first invalid field as a dotted path inside the body ("messages.0.content")."""
    loc = [str(part) for part in (detail[0].get("loc") or []) if part != "body"] if detail else []
    return ".".join(loc) or None


def _first_problem(detail: list) -> str:
    field = _field(detail)
    reason = str(detail[0].get("msg", "is not valid")).rstrip(".") if detail else "is not valid"
    more = f" (and {len(detail) - 1} more)" if len(detail) > 1 else ""
    where = f"The field '{field}'" if field else "The request body"
    return f"{where} is not valid: {reason}{more}. Correct it and send again."


def parts_of(request) -> Parts:
    return request.app.state.parts


def user_of(request) -> str:
    return request.scope["state"]["user"]
