"""A user of the REST API (/api/...) of a live `agentterm serve`, through httpx with their token."""

from __future__ import annotations

import httpx2 as httpx


class Api:
    def __init__(self, live, token: str) -> None:
        self.root = live.base_url.removesuffix("/v1")
        self.token = token
        self.http = httpx.Client(base_url=self.root, headers={"Authorization": f"Bearer {token}"}, timeout=60)

    def __getattr__(self, method: str):
        # api.get("/api/agents"), api.post(..., json=...): httpx's own methods, on this user's client.
        return getattr(self.http, method)

    def ok(self, method: str, path: str, status: int = 200, **kwargs) -> dict:
        """The JSON of an answer that must have this status (the body shown when it has not)."""
        answer = self.http.request(method.upper(), path, **kwargs)
        assert answer.status_code == status, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()
