"""Errors in OpenAI's shape ({"error": {message, type, param, code}}), for every door of the server."""

from __future__ import annotations

import json


class APIError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param
        self.headers = headers or {}

    def body(self) -> dict:
        return error_body(self.message, self.type, self.code, self.param)


def error_body(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


async def send_error(send, status: int, message: str, type_: str, code: str | None = None,
                     headers: list[tuple[bytes, bytes]] = ()) -> None:
    """Answer straight from an ASGI middleware, before the app runs."""
    body = json.dumps(error_body(message, type_, code)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


# Upstream faults (agentterm.llm errors) -> (HTTP status, type, code). The upstream's own 401
# is a 502 here: our client's token was fine, the server's key to the model was not.
_UPSTREAM = {
    "RateLimited": (429, "rate_limit_error", "upstream_rate_limited"),
    "RequestTimeout": (504, "upstream_error", "upstream_timeout"),
    "AuthFailed": (502, "upstream_error", "upstream_auth_failed"),
    "NoAPIKey": (502, "upstream_error", "upstream_no_key"),
    "ModelNotFound": (502, "upstream_error", "upstream_model_not_found"),
    "Unreachable": (502, "upstream_error", "upstream_unreachable"),
    "ServerError": (502, "upstream_error", "upstream_server_error"),
    "StreamCut": (502, "upstream_error", "upstream_stream_cut"),
    "BadResponse": (502, "upstream_error", "upstream_bad_response"),
}
_REFUSED = {
    "agent_paused": (409, "invalid_request_error"),
    "agent_inactive": (404, "invalid_request_error"),
    "no_conversation": (404, "invalid_request_error"),
    "trashed": (404, "invalid_request_error"),
    "still_streaming": (409, "invalid_request_error"),
    "prompt_too_long": (400, "invalid_request_error"),
    "prompt_invalid": (400, "invalid_request_error"),
}


def turn_error(error: Exception, scrub) -> APIError:
    """An AnswerFailed's error as an OpenAI-shaped one; its text scrubbed of every key."""
    message = scrub(getattr(error, "message", None) or str(error) or type(error).__name__)
    code = getattr(error, "code", None)
    if isinstance(code, str) and code in _REFUSED:
        status, type_ = _REFUSED[code]
        return APIError(status, message, type_, code)
    for klass in type(error).__mro__:
        if klass.__name__ in _UPSTREAM:
            status, type_, code = _UPSTREAM[klass.__name__]
            return APIError(status, message, type_, code)
    return APIError(500, message, "server_error", code if isinstance(code, str) else "turn_failed")
