"""Helpers for the LLM client tests: a stream's events and text, a port nothing listens on."""

from __future__ import annotations

import socket

from agentterm.llm import Delta, LLMClient, LLMError

HI = [{"role": "user", "content": "hi"}]


async def collect(client: LLMClient, messages=HI, **kwargs):
    """(events, error): everything the stream yielded, and the LLMError that ended it, if any."""
    events: list = []
    try:
        async for event in client.stream_chat(messages, **kwargs):
            events.append(event)
    except LLMError as error:
        return events, error
    return events, None


def text_of(events) -> str:
    return "".join(e.text for e in events if isinstance(e, Delta))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
