"""One openai.AsyncOpenAI per provider: made without a traceback that could hold the key."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agentterm.llm.errors import one_line

if TYPE_CHECKING:
    from agentterm.config import ProviderConfig

# Sent when no key is configured: local servers (Ollama, llama.cpp, LM Studio) accept any key,
# and sending a placeholder keeps openai from picking up $OPENAI_API_KEY for some other server.
NO_KEY = "no-key"


@dataclass
class Connection:
    """A provider's AsyncOpenAI, bound to the event loop that made it."""

    client: Any = field(repr=False)  # openai.AsyncOpenAI
    has_key: bool
    where: str  # host[:port], for messages
    loop: asyncio.AbstractEventLoop = field(repr=False)


def make_openai_client(pc: ProviderConfig, key: str | None, max_retries: int) -> tuple[Any, str]:
    """(AsyncOpenAI, "") or (None, why not). Never raises: a traceback here would hold the key."""
    import openai

    base_url = pc.base_url
    if base_url is not None:
        base_url = base_url.strip()
        try:
            parts = urlsplit(base_url)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            valid = False
        if not valid:
            return None, f"{one_line(base_url, 120)!r} is not an http(s) URL"
    try:
        client = openai.AsyncOpenAI(
            api_key=key or NO_KEY,
            base_url=base_url,
            timeout=openai.Timeout(pc.timeout),
            max_retries=max_retries,
        )
    except Exception as exc:  # noqa: BLE001 - wrapped so no traceback carries the key
        return None, one_line(f"{type(exc).__name__}: {exc}", 160)
    return client, ""


def where_of(url: str) -> str:
    """host[:port] of a URL, without any user:password part."""
    parts = urlsplit(url)
    host = parts.hostname or "the server"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host
