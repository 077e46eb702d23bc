"""The real `agentterm serve` app on uvicorn, on a free loopback port in a thread, for the tests."""

from __future__ import annotations

import threading
import time

import pytest


class LiveServer:
    def __init__(self, store, settings, client, host: str = "127.0.0.1") -> None:
        import uvicorn

        from agentterm.server.app import create_app

        self.app = create_app(store, settings, client, host=host)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host=host, port=0, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def openai(self, token: str):
        from openai import OpenAI

        return OpenAI(base_url=self.base_url, api_key=token, max_retries=0, timeout=30)


@pytest.fixture
def live(store, settings, client):
    # Shared, so any token's user may talk to it; the isolation test takes it back.
    store.set_agent_owner(store.default_agent().id, None, shared=True)
    with LiveServer(store, settings, client) as srv:
        yield srv
