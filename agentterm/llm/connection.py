"""One HTTP client per provider, from a key that can be sent, with no traceback holding it."""

from __future__ import annotations

import asyncio
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agentterm.llm.errors import NoAPIKey, one_line

if TYPE_CHECKING:
    from agentterm.config import ProviderConfig

# Sent when no key is configured: local servers (Ollama, llama.cpp, LM Studio) accept any key,
# and a placeholder says plainly that none was configured ($OPENAI_API_KEY is never sent to
# some other server: openai's client used to pick it up when given no key).
NO_KEY = "no-key"


@dataclass
class Connection:
    """A provider's HTTP client, bound to the event loop that made it."""

    client: Any = field(repr=False)  # httpx2.AsyncClient (agentterm.llm.transport)
    has_key: bool
    where: str  # host[:port], for messages
    loop: asyncio.AbstractEventLoop = field(repr=False)


def make_http_client(pc: ProviderConfig, key: str | None) -> tuple[Any, str]:
    """(httpx2.AsyncClient, "") or (None, why not). Never raises: a traceback here would hold the key."""
    from agentterm.llm.transport import base_url_of, make_client

    base_url = base_url_of(pc)
    try:
        parts = urlsplit(base_url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        valid = False
    if not valid:
        return None, f"{one_line(base_url, 120)!r} is not an http(s) URL"
    try:
        client = make_client(base_url, key or NO_KEY, pc.timeout)
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


def check_key(pc: ProviderConfig, key: str, config_name: str) -> None:
    """NoAPIKey naming the first character an HTTP header cannot carry, and where the key came from.

    Without this, the request fails deep inside httpx2 ("'ascii' codec can't encode") on a zero-width
    space or a line break pasted along with the key. Never shows the key.
    """
    for position, char in enumerate(key, 1):
        if " " <= char < "\x7f":
            continue
        source = pc.key_source()
        from_variable = source.startswith("$")
        origin = f"the variable {source}" if from_variable else "api_key_cmd"
        check = "check the variable" if from_variable else "check the command's output"
        raise NoAPIKey(
            f"The API key from {origin} has a character that cannot be sent: "
            f"{_describe(char)} at position {position}; {check}.",
            "Set the key again without it (a paste can bring a zero-width space or a line break "
            f"along); see [providers.{pc.name}] in {config_name}.")


def _describe(char: str) -> str:
    if char in "\r\n":
        return "a line break"
    if char < " " or char == "\x7f":
        return f"a control character (U+{ord(char):04X})"
    return f"U+{ord(char):04X} ({unicodedata.name(char, 'unnamed').lower()})"
