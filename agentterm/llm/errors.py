"""Our own LLM error types: one line a user can act on, a hint, and never the key."""

from __future__ import annotations

import re

from agentterm.redact import HIDDEN, register_secret, scrub
from agentterm.sanitize import strip_escapes

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]|\x1b\[[0-?]*[ -/]*[@-~]")
MAX_MESSAGE = 300


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """Scrubbed, free of control characters and escape sequences, on one line, capped."""
    # Whole escape sequences go (not just their ESC): no "[31m" litter from a server's words.
    text = _CONTROL.sub(" ", strip_escapes(scrub(str(text))))
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


class LLMError(Exception):
    """A failure talking to a model, told as a user can act on it.

    `message` is one line saying what went wrong, `hint` what to do about it, and `retryable`
    whether sending the same request again may work. Neither ever contains the API key.
    """

    retryable_default = False
    hint_default = ""

    def __init__(self, message: str, hint: str | None = None, *, retryable: bool | None = None) -> None:
        self.message = one_line(message)
        self.hint = one_line(self.hint_default if hint is None else hint)
        self.retryable = self.retryable_default if retryable is None else retryable
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    def to_dict(self) -> dict:
        """A JSON-ready form, for a message's `extra`."""
        return {"type": type(self).__name__, "message": self.message, "hint": self.hint,
                "retryable": self.retryable}


class NoAPIKey(LLMError):
    """The provider needs a key and none is configured (or the key command failed)."""

    hint_default = "Set the provider's api_key_env or api_key_cmd in the config."


class AuthFailed(LLMError):
    """The server refused the key (401) or the key may not do this (403)."""

    hint_default = "Check the API key the provider's api_key_env or api_key_cmd gives."


class Unreachable(LLMError):
    """No connection: refused, DNS failure, no route, an invalid base_url."""

    retryable_default = True
    hint_default = "Check that the server is running and the provider's base_url in the config."


class ModelNotFound(LLMError):
    """The server does not serve the model asked for (404)."""

    hint_default = "Pick a model the server lists (`agentterm doctor` shows them)."

    def __init__(self, message: str, hint: str | None = None, *, model: str | None = None,
                 retryable: bool | None = None) -> None:
        super().__init__(message, hint, retryable=retryable)
        self.model = model


class RateLimited(LLMError):
    """Too many requests or out of quota (429); `retry_after` in seconds when the server said."""

    retryable_default = True
    hint_default = "Wait a moment and retry."

    def __init__(self, message: str, hint: str | None = None, *, retry_after: float | None = None,
                 retryable: bool | None = None) -> None:
        super().__init__(message, hint, retryable=retryable)
        self.retry_after = retry_after

    def to_dict(self) -> dict:
        return {**super().to_dict(), "retry_after": self.retry_after}


class ServerError(LLMError):
    """The server failed (5xx)."""

    retryable_default = True
    hint_default = "The server had a problem; retry in a moment."


class RequestTimeout(LLMError):
    """No connection, or no data, within the provider's timeout (a stalled stream included)."""

    retryable_default = True
    hint_default = "Retry, or raise the provider's timeout in the config if the model is slow."


class StreamCut(LLMError):
    """The answer stopped mid-way: the connection dropped, the server sent an error, or it just ended."""

    retryable_default = True
    hint_default = "The partial answer is kept; retry or continue it."


class BadResponse(LLMError):
    """A reply that is not the OpenAI protocol: an HTML page, malformed JSON."""

    hint_default = "Check the provider's base_url: it should be the API root, usually ending in /v1."


__all__ = [
    "LLMError",
    "NoAPIKey",
    "AuthFailed",
    "Unreachable",
    "ModelNotFound",
    "RateLimited",
    "ServerError",
    "RequestTimeout",
    "StreamCut",
    "BadResponse",
    "register_secret",
    "scrub",
    "HIDDEN",
]
