"""The server's doors, as ASGI middleware: the Host check (DNS rebinding), body size, bearer tokens."""

from __future__ import annotations

from agentterm.server.errors import send_error
from agentterm.store.users import hash_token

# Documents only: the schema and the interactive docs carry no data, and a browser cannot send a token.
OPEN_PATHS = ("/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc")
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def host_name(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


class HostCheck:
    """Refuse a Host that is not ours: a web page's DNS-rebound name must not reach the API."""

    def __init__(self, app, allowed: set[str]) -> None:
        self.app = app
        self.allowed = {h.lower() for h in allowed} | LOOPBACK

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and host_name(_header(scope, b"host")) not in self.allowed:
            await send_error(send, 421, "This server does not answer for that Host: add the name to"
                             " [serve] allowed_hosts in the config to allow it.",
                             "invalid_request_error", "host_not_allowed")
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse a body over `limit` bytes (413), by Content-Length or while it arrives."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = _header(scope, b"content-length")
        if length.isdigit() and int(length) > self.limit:
            return await self._refuse(send)
        # Read it whole (bounded) before the app runs, then hand it over as one piece.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return await self._refuse(send)
            more = message.get("more_body", False)
        body, handed = b"".join(chunks), False

        async def replay():
            nonlocal handed
            if not handed:
                handed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send):
        await send_error(send, 413, f"The request body is larger than {self.limit} bytes:"
                         " send less, or raise [serve] max_body_bytes.",
                         "invalid_request_error", "body_too_large")


class BearerAuth:
    """Every route but the documents needs `Authorization: Bearer <token>` of a live token."""

    def __init__(self, app, astore) -> None:
        self.app = app
        self.astore = astore

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        scheme, _, token = _header(scope, b"authorization").partition(" ")
        user = None
        if scheme.lower() == "bearer" and token.strip():
            user = await self.astore.verify_token(token.strip())
        if user is None:
            await send_error(send, 401, "A valid API token is required: send Authorization: Bearer"
                             " <token> (make one with `agentterm tokens create`).",
                             "invalid_request_error", "invalid_api_key",
                             headers=[(b"www-authenticate", b"Bearer")])
            return
        state = scope.setdefault("state", {})
        # The hash, not the token: the per-token limits key on it, and no secret is kept around.
        state["user"], state["token"] = user, hash_token(token.strip())
        await self.app(scope, receive, send)
