"""Mapping what the transport (llm/transport.py, httpx2) or a server threw at us to one of our own LLMError types."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from agentterm.llm.errors import (
    AuthFailed,
    BadResponse,
    LLMError,
    ModelNotFound,
    NoAPIKey,
    RateLimited,
    RequestTimeout,
    ServerError,
    StreamCut,
    Unreachable,
    one_line,
)

if TYPE_CHECKING:
    from agentterm.config import ProviderConfig
    from agentterm.llm.connection import Connection


def classify(exc: BaseException, pc: ProviderConfig, conn: Connection, model: str | None, *,
             in_stream: bool, config_name: str, key_hint: str) -> LLMError:
    """One of our errors for `exc`; `config_name` and `key_hint` go into the hints.

    The transport's exceptions stand where openai's stood (TimedOut for APITimeoutError,
    ConnectionFailed for APIConnectionError, StatusError for APIStatusError), so each fault
    reads as it did when openai carried the requests.
    """
    from agentterm.llm.transport import ConnectionFailed, StatusError, TimedOut

    where = conn.where
    config_hint = f"[providers.{pc.name}] in {config_name}"
    if isinstance(exc, LLMError):
        return exc
    if isinstance(exc, TimedOut):
        if _caused_by(exc, "ConnectTimeout"):
            return RequestTimeout(f"Could not connect to {where} within {pc.timeout:g} s.",
                                  f"Check that the server is up, or raise timeout under {config_hint}.")
        if in_stream:
            return RequestTimeout(f"The answer stalled: nothing came from {where} for {pc.timeout:g} s.")
        return RequestTimeout(f"No answer from {where} within {pc.timeout:g} s.")
    if _caused_by(exc, "TooManyRedirects") or _caused_by_type(exc, "TooManyRedirects"):
        return Unreachable(f"{where} redirects in a loop: the request was redirected too many times.",
                           f"Check base_url under {config_hint}: it should be the API's own address, "
                           "usually ending in /v1.", retryable=False)
    if isinstance(exc, ConnectionFailed):
        reason = _cause_text(exc)
        if _caused_by(exc, "ConnectError", "UnsupportedProtocol", "InvalidURL"):
            return Unreachable(f"Cannot reach {where}" + (f" ({reason})." if reason else "."),
                               f"Check that the server is running and base_url under {config_hint}.")
        if in_stream:
            return StreamCut(f"The connection to {where} dropped mid-answer.")
        return StreamCut(f"{where} closed the connection without answering.")
    if isinstance(exc, StatusError):
        return _status_error(exc, pc, conn, model, config_name, key_hint)
    if isinstance(exc, json.JSONDecodeError):
        return BadResponse(f"{where} sent malformed JSON" + (" mid-answer." if in_stream else "."))
    if _caused_by_type(exc, "InvalidURL", "UnsupportedProtocol"):
        return Unreachable(f"The base_url of provider '{pc.name}' is not usable: {exc}",
                           f"Fix base_url under {config_hint}.", retryable=False)
    if _caused_by_type(exc, "TimeoutException"):
        if in_stream:
            return RequestTimeout(f"The answer stalled: nothing came from {where} for {pc.timeout:g} s.")
        return RequestTimeout(f"No answer from {where} within {pc.timeout:g} s.")
    if in_stream and _caused_by_type(exc, "TransportError"):
        # The body read raw (no typed stream wrapping it): a dropped connection shows up here.
        return StreamCut(f"The connection to {where} dropped mid-answer.")
    if _caused_by_type(exc, "TransportError", "OSError"):
        return StreamCut(f"The connection to {where} failed: {exc}")
    # Something nobody foresaw: still one line saying where, never a traceback.
    return LLMError(f"The request to {where} failed: {type(exc).__name__}: {exc}",
                    f"Retry; if it keeps failing, check the provider under {config_hint}.")

def _status_error(exc: Any, pc: ProviderConfig, conn: Connection, model: str | None,
                  config_name: str, key_hint: str) -> LLMError:
    where = conn.where
    status = int(getattr(exc, "status_code", 0) or 0)
    body = getattr(exc, "body", None)
    detail = server_detail(body)
    said = f": {detail}" if detail else ""
    config_hint = f"[providers.{pc.name}] in {config_name}"
    if status == 401:
        if not conn.has_key:
            return NoAPIKey(f"{where} needs an API key, and provider '{pc.name}' has none.",
                            key_hint)
        return AuthFailed(f"{where} refused the API key (401){said}.", key_hint)
    if status == 403:
        return AuthFailed(f"{where} refused access (403){said}.",
                          "The key may lack access to this model, or the account may need attention.")
    if status == 404:
        openai_shaped = isinstance(body, dict)
        hint = (f"Pick a model {where} serves (`agentterm doctor` lists them), or set model "
                f"under {config_hint}.")
        if not openai_shaped:
            hint += " If the model is right, check base_url: it usually ends in /v1."
        name = f"'{model}'" if model else "The model"
        return ModelNotFound(f"Model {name} was not found on {where}{said}.", hint, model=model)
    if status == 429:
        retry_after = _retry_after(getattr(exc, "response", None))
        code = body.get("code") if isinstance(body, dict) else None
        if code == "insufficient_quota":
            return RateLimited(f"{where} says the account is out of quota{said}.",
                               "Check the account's plan and billing.", retry_after=retry_after,
                               retryable=False)
        when = f" Retry in {retry_after:g} s." if retry_after is not None else ""
        return RateLimited(f"Rate limited by {where}{said}.{when}",
                           "Wait a moment and retry.", retry_after=retry_after)
    if status == 408:
        return RequestTimeout(f"{where} timed out answering (408){said}.")
    if status >= 500:
        return ServerError(f"{where} failed with error {status}{said}.")
    if status in (400, 413, 422):
        return LLMError(f"{where} refused the request ({status}){said}.",
                        "Check the agent's model and parameters; a long conversation may exceed "
                        "the model's context.")
    return LLMError(f"{where} answered with error {status}{said}.",
                    f"Check the provider settings under {config_hint}.")


def _caused_by(exc: BaseException, *names: str) -> bool:
    """Whether exc's cause (or its cause's cause) is an instance of a class named in `names`."""
    seen = 0
    cause = exc.__cause__ or exc.__context__
    while cause is not None and seen < 5:
        if _caused_by_type(cause, *names):
            return True
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return False


def _caused_by_type(exc: BaseException, *names: str) -> bool:
    return any(cls.__name__ in names for cls in type(exc).__mro__)


def _cause_text(exc: BaseException) -> str:
    cause = exc.__cause__
    if cause is None:
        return ""
    text = str(cause)
    lowered = text.lower()
    if "refused" in lowered or "all connection attempts failed" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "getaddrinfo" in lowered:
        return "the host name does not resolve"
    return one_line(text, 120)


def server_detail(body: Any) -> str:
    """The server's own words about an error, when they are short and readable."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        return one_line(message, 200) if isinstance(message, str) else ""
    if isinstance(body, (str, bytes)):
        text = body.decode(errors="replace") if isinstance(body, bytes) else body
        if "<" in text[:200] and ">" in text[:400]:
            return ""  # an HTML page: nothing a user wants to read in one line
        return one_line(text, 200)
    return ""


def _retry_after(response: Any) -> float | None:
    """Seconds from Retry-After (seconds or an HTTP date) or retry-after-ms; None when absent."""
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # an HTTP date here is rare: the email package (ten modules) not at start

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, round(when.timestamp() - time.time(), 1))


def rejects_stream_options(exc: BaseException) -> bool:
    return getattr(exc, "status_code", None) in (400, 422) and "stream_options" in str(
        getattr(exc, "message", "") or ""
    )
