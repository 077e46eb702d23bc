"""The model client's one transport: requests over httpx2 (what openai 3.x itself sends with).

The client used to go through openai's AsyncOpenAI for the transport alone (it already read the
event stream itself): importing openai was most of `agentterm ask`'s CPU time (docs/performance.md).
What openai did around httpx is kept, so faults map as they did (llm/mapping.py): a failure
before the reply's headers is ConnectionFailed (TimedOut for a timeout) with the transport's
exception as its cause, like openai's APIConnectionError and APITimeoutError; a status of 400 or
more is StatusError with the body openai would have parsed. Reading a body is the caller's job,
and its faults are httpx2's own.

httpx2 is imported by the first request, never with this package.
"""

from __future__ import annotations

import json
import os
import platform
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx2

    from agentterm.config import ProviderConfig

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# openai's own limits: one client per provider serves every conversation's requests at once.
MAX_CONNECTIONS = 1000
MAX_KEEPALIVE = 100


class ConnectionFailed(Exception):
    """No reply: the request failed before a status came (the cause says how)."""


class TimedOut(ConnectionFailed):
    """No reply within the timeout (the cause is httpx2's ConnectTimeout, ReadTimeout, ...)."""


class StatusError(Exception):
    """A reply with a status of 400 or more.

    `body` is what openai's APIStatusError.body was: the JSON's "error" member (or the whole JSON
    when it has none), else the text; `message` is openai's "Error code: N - {...}".
    """

    def __init__(self, status_code: int, body: Any, message: str, response: Any) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        self.message = message
        self.response = response


def base_url_of(pc: ProviderConfig) -> str:
    """The provider's base_url, else $OPENAI_BASE_URL, else OpenAI's (as openai chose)."""
    url = pc.base_url.strip() if pc.base_url is not None else None
    return url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL


def make_client(base_url: str, key: str, timeout: float) -> httpx2.AsyncClient:
    """An AsyncClient for one provider: its base_url, the key as a bearer token, the timeout
    for connecting and between chunks, redirects followed, proxies and certificates from the
    environment (HTTPS_PROXY, NO_PROXY, SSL_CERT_FILE), as openai's client was made."""
    import httpx2

    from agentterm import __version__

    headers = {
        "Authorization": f"Bearer {key}",
        "Accept": "application/json",
        "User-Agent": f"agentterm/{__version__} (Python {platform.python_version()})",
    }
    # openai sent these from the environment too: a key scoped to an organisation or a project.
    for header, variable in (("OpenAI-Organization", "OPENAI_ORG_ID"), ("OpenAI-Project", "OPENAI_PROJECT_ID")):
        value = os.environ.get(variable)
        if value:
            headers[header] = value
    if not base_url.endswith("/"):
        base_url += "/"  # "chat/completions" is joined under the path, as openai joins it
    return httpx2.AsyncClient(
        base_url=base_url,
        headers=headers,
        timeout=httpx2.Timeout(timeout),
        follow_redirects=True,
        limits=httpx2.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE),
    )


async def send(client: httpx2.AsyncClient, method: str, path: str, *, body: dict | None = None,
               timeout: float | None = None) -> httpx2.Response:
    """The reply to one request, its body not read yet (close it: `await response.aclose()`).

    Raises TimedOut or ConnectionFailed before a reply, StatusError for a status >= 400 (its
    body read and the reply closed).
    """
    import httpx2

    kwargs: dict[str, Any] = {}
    if body is not None:
        kwargs["content"] = _json_bytes(body)
        kwargs["headers"] = {"Content-Type": "application/json"}
    if timeout is not None:
        kwargs["timeout"] = httpx2.Timeout(timeout)
    try:
        request = client.build_request(method, _url(client, path), **kwargs)
        response = await client.send(request, stream=True)
    except httpx2.TimeoutException as exc:
        raise TimedOut("Request timed out.") from exc
    except Exception as exc:  # noqa: BLE001 - as openai did: anything before the reply is "no connection"
        raise ConnectionFailed("Connection error.") from exc
    if response.status_code < 400:
        return response
    try:
        await response.aread()
        text = response.text
    except Exception:  # noqa: BLE001 - the status says enough
        text = ""
    finally:
        await response.aclose()
    raise status_error(response, text)


# The client's base_url joined with each path once: httpx2 parses and joins a relative URL on
# every request (a tenth of a millisecond of CPU each, `agentterm serve`'s profile).
_URLS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _url(client: httpx2.AsyncClient, path: str) -> Any:
    joined = _URLS.setdefault(client, {})
    url = joined.get(path)
    if url is None:
        url = joined[path] = client.build_request("GET", path).url
    return url


def _json_bytes(body: dict) -> bytes:
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:  # a lone surrogate in some text: escaped, the server decodes it the same
        return json.dumps(body, separators=(",", ":")).encode()


def status_error(response: Any, text: str) -> StatusError:
    """openai's reading of an error reply (`_make_status_error_from_response`)."""
    status = response.status_code
    text = text.strip()
    body: Any = text
    try:
        body = json.loads(text)
        message = f"Error code: {status} - {body}"
    except (ValueError, RecursionError):
        message = text or f"Error code: {status}"
    data = body.get("error", body) if isinstance(body, dict) else body
    return StatusError(status, data, message, response)
