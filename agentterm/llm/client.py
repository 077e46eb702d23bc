"""LLMClient: streaming chat, titles and model lists over openai.AsyncOpenAI, every fault mapped to ours."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

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
    register_secret,
)
from agentterm.llm.titles import clean_title, fallback_title

if TYPE_CHECKING:
    from agentterm.config import ProviderConfig, Settings

log = logging.getLogger(__name__)

# Sent when no key is configured: local servers (Ollama, llama.cpp, LM Studio) accept any key,
# and sending a placeholder keeps openai from picking up $OPENAI_API_KEY for some other server.
NO_KEY = "no-key"
# Hosts known to need a key: with none configured we say so without a request.
_KEYED_HOSTS = ("api.openai.com",)
# Request fields the client owns; params cannot override them.
_RESERVED = frozenset({"model", "messages", "stream", "stream_options"})
_TITLE_INPUT_CHARS = 1500
TITLE_INSTRUCTIONS = (
    "You name conversations. Reply with a title of 3 to 6 words that says what the conversation "
    "is about, in the language of the conversation. Reply with the title only: no quotes, no "
    "Markdown, no final punctuation."
)


@dataclass
class Delta:
    """A piece of the answer's text."""

    text: str


@dataclass
class Usage:
    """Token counts, when the server reports them."""

    prompt_tokens: int | None
    completion_tokens: int | None


@dataclass
class Finished:
    """The end of an answer: why it stopped, and the model that wrote it."""

    finish_reason: str | None
    model: str | None


@dataclass
class _Connection:
    client: Any = field(repr=False)  # openai.AsyncOpenAI
    has_key: bool
    where: str  # host[:port], for messages
    loop: asyncio.AbstractEventLoop = field(repr=False)


class LLMClient:
    """Talks to the configured OpenAI-compatible providers.

    One ``openai.AsyncOpenAI`` is made per provider on first use (openai itself is imported
    then, not before) and reused while the event loop that made it runs. openai's own retries
    are off: an error reaches the user at once, with ``retryable`` saying whether a retry may
    help, instead of a silent wait of up to two minutes behind a Retry-After.
    """

    max_retries = 0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._connections: dict[str, _Connection] = {}
        self._refresh_key: set[str] = set()

    # --- public API ---------------------------------------------------------------------------

    def resolve_model(self, provider: str | None, model: str | None) -> str:
        """`model` when given, else the provider's default model; LLMError when neither is set."""
        if model:
            return model
        pc = self._provider(provider)
        if pc.model:
            return pc.model
        raise LLMError(
            f"No model is set for provider '{pc.name}'.",
            f"Set model under [providers.{pc.name}] in {self._config_name()}, or give the agent a model.",
        )

    async def stream_chat(
        self,
        messages: list[dict],
        *,
        provider: str | None = None,
        model: str | None = None,
        params: dict | None = None,
    ) -> AsyncIterator[Delta | Usage | Finished]:
        """Stream an answer: Delta for each piece of text, then Usage (if reported), then Finished.

        Every fault is raised as an LLMError subclass; an answer that ends without a
        finish_reason is StreamCut, after its Deltas. Closing the generator or cancelling the
        task consuming it closes the HTTP stream at once (use ``contextlib.aclosing`` when you
        may stop iterating early without cancelling).
        """
        events = self._stream_chat(messages, provider, model, params)
        failure: LLMError | None = None
        try:
            while True:
                try:
                    event = await events.__anext__()
                except StopAsyncIteration:
                    return
                except LLMError as error:
                    failure = error
                    break
                yield event
        finally:
            await events.aclose()
        raise _bare(failure)

    async def _stream_chat(self, messages: list[dict], provider: str | None, model: str | None,
                           params: dict | None) -> AsyncIterator[Delta | Usage | Finished]:
        pc = self._provider(provider)
        model = self.resolve_model(provider, model)
        conn = await self._connection(pc)
        request: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        extra = {k: v for k, v in (params or {}).items() if v is not None and k not in _RESERVED}
        if extra:
            request["extra_body"] = extra
        stream = await self._open_stream(conn, pc, model, request)

        started = False
        finish_reason: str | None = None
        answered_model: str | None = None
        usage: Usage | None = None
        try:
            content_type = stream.response.headers.get("content-type", "").lower()
            if "json" in content_type or "html" in content_type:
                # Not an event stream: a JSON completion from a server that ignored stream=True,
                # an error body with a 200, or a web page.
                async for event in self._non_stream_body(stream.response, conn, content_type):
                    yield event
                return
            async for chunk in stream:
                started = True
                answered_model = getattr(chunk, "model", None) or answered_model
                chunk_usage = getattr(chunk, "usage", None)
                if chunk_usage is not None:
                    usage = Usage(getattr(chunk_usage, "prompt_tokens", None),
                                  getattr(chunk_usage, "completion_tokens", None))
                for choice in getattr(chunk, "choices", None) or ():
                    if getattr(choice, "index", 0) not in (0, None):
                        continue
                    delta = getattr(choice, "delta", None)
                    text = getattr(delta, "content", None) if delta is not None else None
                    if text:
                        yield Delta(text)
                    finish_reason = getattr(choice, "finish_reason", None) or finish_reason
        except LLMError:
            raise
        except Exception as exc:  # noqa: BLE001 - every fault becomes one of ours
            raise self._map_error(exc, pc, conn, model, in_stream=True) from None
        finally:
            await stream.close()

        if finish_reason is None:
            if started:
                raise StreamCut(f"The answer from {conn.where} ended before it was finished.")
            raise StreamCut(f"{conn.where} closed the stream without sending an answer.")
        if usage is not None:
            yield usage
        yield Finished(finish_reason, answered_model or model)

    async def generate_title(
        self,
        prompt: str,
        answer: str,
        *,
        provider: str | None = None,
        model: str | None = None,
    ) -> str:
        """A 3-6 word title for a conversation, from the provider's title_model (else its model).

        The model's reply goes through `clean_title`, falling back to `fallback_title(prompt)`
        when it is empty or junk. Faults raise LLMError, like every request.
        """
        return await _bare_errors(self._generate_title(prompt, answer, provider, model))

    async def _generate_title(self, prompt: str, answer: str, provider: str | None,
                              model: str | None) -> str:
        pc = self._provider(provider)
        title_model = model or pc.title_model or self.resolve_model(provider, None)
        conn = await self._connection(pc)
        excerpt = (
            f"User: {_clip(prompt, _TITLE_INPUT_CHARS)}\n\n"
            f"Assistant: {_clip(answer, _TITLE_INPUT_CHARS)}"
        )
        messages = [
            {"role": "system", "content": TITLE_INSTRUCTIONS},
            {"role": "user", "content": f"{excerpt}\n\nTitle for this conversation:"},
        ]
        try:
            completion = await conn.client.chat.completions.create(model=title_model, messages=messages)
        except Exception as exc:  # noqa: BLE001 - every fault becomes one of ours
            raise self._map_error(exc, pc, conn, title_model) from None
        text = _completion_text(completion)
        if text is None:
            raise BadResponse(f"{conn.where} did not answer like an OpenAI-compatible API.")
        return clean_title(text, fallback_title(prompt))

    async def list_models(self, provider: str | None = None) -> list[str]:
        """The model ids the provider's server lists, sorted.

        A server without a model list (GET /models answers 404, as some llama.cpp and vLLM
        setups do) gives [] rather than an error; every other fault raises LLMError.
        """
        return await _bare_errors(self._list_models(provider))

    async def _list_models(self, provider: str | None) -> list[str]:
        pc = self._provider(provider)
        conn = await self._connection(pc)
        try:
            # The raw reply, parsed here: openai's typed page breaks on a body that is not a dict.
            raw = await conn.client.models.with_raw_response.list()
            content_type = raw.headers.get("content-type", "").lower()
            content = raw.content
        except Exception as exc:  # noqa: BLE001 - every fault becomes one of ours
            if getattr(exc, "status_code", None) == 404:
                return []
            raise self._map_error(exc, pc, conn, None) from None
        if "html" in content_type:
            raise BadResponse(f"{conn.where} sent a web page, not a model list.")
        try:
            body = json.loads(content)
        except (ValueError, UnicodeDecodeError):
            raise BadResponse(f"{conn.where} sent malformed JSON for the model list.") from None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise BadResponse(f"{conn.where} sent no model list in the OpenAI format.")
        ids = {m["id"] for m in data if isinstance(m, dict) and isinstance(m.get("id"), str) and m["id"]}
        return sorted(ids)

    async def aclose(self) -> None:
        """Close every connection this client opened on the running loop."""
        connections, self._connections = self._connections, {}
        loop = asyncio.get_running_loop()
        for conn in connections.values():
            if conn.loop is loop:
                try:
                    await conn.client.close()
                except Exception:  # noqa: BLE001 - closing is best effort
                    pass

    # --- connections and keys -----------------------------------------------------------------

    def _provider(self, name: str | None) -> ProviderConfig:
        from agentterm.config import ConfigError

        try:
            return self.settings.provider(name)
        except ConfigError as exc:
            message = str(exc)
        raise LLMError(message, "Pick a provider the config defines, or add it under [providers].")

    def _config_name(self) -> str:
        path = getattr(self.settings, "path", None)
        return str(path) if path else "the config file"

    async def _connection(self, pc: ProviderConfig) -> _Connection:
        loop = asyncio.get_running_loop()
        conn = self._connections.get(pc.name)
        if conn is not None and conn.loop is loop:
            return conn
        # A client made on another (finished) loop cannot be reused: its sockets belong there.
        refresh = pc.name in self._refresh_key
        key = await self._resolve_key(pc, refresh)
        register_secret(key)
        client, problem = _make_openai_client(pc, key, self.max_retries)
        has_key = key is not None
        del key  # no frame of a later traceback holds the key
        if client is None:
            raise Unreachable(
                f"Cannot use the base_url of provider '{pc.name}': {problem}.",
                f"Fix base_url under [providers.{pc.name}] in {self._config_name()}, "
                "e.g. http://localhost:11434/v1.",
                retryable=False,
            )
        where = _where(str(client.base_url))
        if not has_key and urlsplit(str(client.base_url)).hostname in _KEYED_HOSTS:
            raise NoAPIKey(f"Provider '{pc.name}' has no API key, and {where} needs one.",
                           self._key_hint(pc))
        self._refresh_key.discard(pc.name)
        conn = _Connection(client=client, has_key=has_key, where=where, loop=loop)
        self._connections[pc.name] = conn
        return conn

    async def _resolve_key(self, pc: ProviderConfig, refresh: bool) -> str | None:
        from agentterm.config import ConfigError

        def resolve() -> str | None:
            if refresh and pc.api_key_cmd:
                return pc.resolve_api_key(refresh=True)
            return pc.resolve_api_key()

        try:
            # A key command may take a while (a password manager): keep the event loop free.
            return await asyncio.to_thread(resolve)
        except ConfigError as exc:
            message = str(exc)  # names the program, never its output
        except Exception as exc:  # noqa: BLE001 - its text might hold the command's output
            message = f"the key lookup failed ({type(exc).__name__})"
        raise NoAPIKey(f"Could not get the API key for provider '{pc.name}': {message}", self._key_hint(pc))

    def _forget(self, pc: ProviderConfig) -> None:
        """Drop the provider's client so the next request resolves the key again."""
        self._connections.pop(pc.name, None)
        self._refresh_key.add(pc.name)

    def _key_hint(self, pc: ProviderConfig) -> str:
        where = f"[providers.{pc.name}] in {self._config_name()}"
        if pc.api_key_env and pc.api_key_cmd:
            return f"Set ${pc.api_key_env}, or check the api_key_cmd under {where}."
        if pc.api_key_env:
            return f"Set the environment variable {pc.api_key_env}, or set api_key_cmd under {where}."
        if pc.api_key_cmd:
            return f"Check the api_key_cmd under {where}: its output should be the key."
        return f"Set api_key_env (a variable holding the key) or api_key_cmd under {where}."

    # --- requests -----------------------------------------------------------------------------

    async def _open_stream(self, conn: _Connection, pc: ProviderConfig, model: str,
                           request: dict[str, Any]) -> Any:
        completions = conn.client.chat.completions
        try:
            return await completions.create(**request)
        except Exception as exc:  # noqa: BLE001 - every fault becomes one of ours
            if not _rejects_stream_options(exc):
                raise self._map_error(exc, pc, conn, model) from None
        # An older server that refuses stream_options: ask again without (and without usage).
        request = {k: v for k, v in request.items() if k != "stream_options"}
        try:
            return await completions.create(**request)
        except Exception as exc:  # noqa: BLE001 - every fault becomes one of ours
            raise self._map_error(exc, pc, conn, model) from None

    async def _non_stream_body(self, response: Any, conn: _Connection,
                               content_type: str) -> AsyncIterator[Delta | Usage | Finished]:
        where = conn.where
        if "html" in content_type:
            raise BadResponse(f"{where} sent a web page, not an answer.")
        try:
            body = json.loads(await response.aread())
        except (ValueError, UnicodeDecodeError):
            raise BadResponse(f"{where} sent something that is neither an event stream nor JSON.") from None
        if isinstance(body, dict) and isinstance(body.get("error"), (dict, str)):
            error = body["error"]
            detail = error.get("message") if isinstance(error, dict) else error
            raise StreamCut(f"{where} reported an error: {detail or 'no details'}.")
        text = _completion_text(body)
        if text is None:
            raise BadResponse(f"{where} did not answer like an OpenAI-compatible API.")
        if text:
            yield Delta(text)
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else None
        if usage:
            yield Usage(usage.get("prompt_tokens"), usage.get("completion_tokens"))
        choice = (body.get("choices") or [{}])[0]
        yield Finished(choice.get("finish_reason") or "stop", body.get("model"))

    # --- errors -------------------------------------------------------------------------------

    def _map_error(self, exc: BaseException, pc: ProviderConfig, conn: _Connection,
                   model: str | None, *, in_stream: bool = False) -> LLMError:
        """One of our errors for anything openai, httpx or the server threw at us."""
        error = self._classify(exc, pc, conn, model, in_stream=in_stream)
        if isinstance(error, (AuthFailed, NoAPIKey)):
            self._forget(pc)
        log.debug("request to %s failed: %s: %s", conn.where, type(error).__name__, error.message)
        return error

    def _classify(self, exc: BaseException, pc: ProviderConfig, conn: _Connection,
                  model: str | None, *, in_stream: bool) -> LLMError:
        import openai

        where = conn.where
        config_hint = f"[providers.{pc.name}] in {self._config_name()}"
        if isinstance(exc, LLMError):
            return exc
        if isinstance(exc, openai.APITimeoutError):
            if _caused_by(exc, "ConnectTimeout"):
                return RequestTimeout(f"Could not connect to {where} within {pc.timeout:g} s.",
                                      f"Check that the server is up, or raise timeout under {config_hint}.")
            if in_stream:
                return RequestTimeout(f"The answer stalled: nothing came from {where} for {pc.timeout:g} s.")
            return RequestTimeout(f"No answer from {where} within {pc.timeout:g} s.")
        if isinstance(exc, openai.APIConnectionError):
            reason = _cause_text(exc)
            if _caused_by(exc, "ConnectError", "UnsupportedProtocol", "InvalidURL"):
                return Unreachable(f"Cannot reach {where}" + (f" ({reason})." if reason else "."),
                                   f"Check that the server is running and base_url under {config_hint}.")
            if in_stream:
                return StreamCut(f"The connection to {where} dropped mid-answer.")
            return StreamCut(f"{where} closed the connection without answering.")
        if isinstance(exc, openai.APIStatusError):
            return self._status_error(exc, pc, conn, model)
        if isinstance(exc, openai.APIResponseValidationError):
            return BadResponse(f"{where} sent a reply that is not in the OpenAI format.")
        if isinstance(exc, openai.APIError):
            # An error event inside the stream: {"error": {...}} where a chunk should be.
            detail = _server_detail(getattr(exc, "body", None)) or getattr(exc, "message", "")
            return StreamCut(f"{where} reported an error mid-answer: {detail}")
        if isinstance(exc, json.JSONDecodeError):
            return BadResponse(f"{where} sent malformed JSON" + (" mid-answer." if in_stream else "."))
        if _caused_by_type(exc, "InvalidURL", "UnsupportedProtocol"):
            return Unreachable(f"The base_url of provider '{pc.name}' is not usable: {exc}",
                               f"Fix base_url under {config_hint}.", retryable=False)
        if _caused_by_type(exc, "TimeoutException"):
            return RequestTimeout(f"No answer from {where} within {pc.timeout:g} s.")
        if _caused_by_type(exc, "TransportError", "OSError"):
            return StreamCut(f"The connection to {where} failed: {exc}")
        return LLMError(f"Unexpected error talking to {where}: {type(exc).__name__}: {exc}",
                        "This looks like a bug in agentterm; please report it.")

    def _status_error(self, exc: Any, pc: ProviderConfig, conn: _Connection, model: str | None) -> LLMError:
        where = conn.where
        status = int(getattr(exc, "status_code", 0) or 0)
        body = getattr(exc, "body", None)
        detail = _server_detail(body)
        said = f": {detail}" if detail else ""
        config_hint = f"[providers.{pc.name}] in {self._config_name()}"
        if status == 401:
            if not conn.has_key:
                return NoAPIKey(f"{where} needs an API key, and provider '{pc.name}' has none.",
                                self._key_hint(pc))
            return AuthFailed(f"{where} refused the API key (401){said}.", self._key_hint(pc))
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


# --- helpers -----------------------------------------------------------------------------------


def _bare(error: LLMError | None) -> LLMError:
    """The error without the frames and the chained exception it was made from.

    Crash screens print every frame's locals; the frames inside the client hold server replies
    and openai internals, which may echo the key. Our message says all a user needs.
    """
    assert error is not None
    error.__context__ = None
    error.__cause__ = None
    return error.with_traceback(None)


async def _bare_errors(call: Any) -> Any:
    failure: LLMError | None = None
    try:
        return await call
    except LLMError as error:
        failure = error
    raise _bare(failure)


def _make_openai_client(pc: ProviderConfig, key: str | None, max_retries: int) -> tuple[Any, str]:
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


def _where(url: str) -> str:
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


def _server_detail(body: Any) -> str:
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
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, round(when.timestamp() - time.time(), 1))


def _rejects_stream_options(exc: BaseException) -> bool:
    return getattr(exc, "status_code", None) in (400, 422) and "stream_options" in str(
        getattr(exc, "message", "") or ""
    )


def _completion_text(completion: Any) -> str | None:
    """The first choice's message text of a completion (object or dict); None if it has none."""
    if isinstance(completion, dict):
        choices = completion.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return None
        message = choices[0].get("message") or {}
        content = message.get("content") if isinstance(message, dict) else None
        return content if isinstance(content, str) else ("" if content is None and message else None)
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list) or not choices:
        return None
    message = getattr(choices[0], "message", None)
    if message is None:
        return None
    content = getattr(message, "content", None)
    return content if isinstance(content, str) else ""


def _clip(text: str, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit] + " …"


__all__ = ["LLMClient", "Delta", "Usage", "Finished", "clean_title", "fallback_title", "NO_KEY"]
