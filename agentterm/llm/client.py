"""LLMClient: streaming chat, titles and model lists over httpx2 (llm/transport.py), every fault mapped to ours."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agentterm.llm.connection import NO_KEY, Connection, check_key, make_http_client, where_of
from agentterm.llm.errors import (
    AuthFailed,
    BadResponse,
    LLMError,
    NoAPIKey,
    RequestTimeout,
    Unreachable,
    register_secret,
    scrub,
)
from agentterm.llm.mapping import classify, rejects_stream_options
from agentterm.llm.replies import (
    Delta,
    Event,
    Finished,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
    non_stream_body,
)
from agentterm.llm.stream import CUT, DONE, ChunkReader, SSEDecoder
from agentterm.llm.titles import clean_title, fallback_title

DEFAULT_TITLE_TIMEOUT = 10.0

if TYPE_CHECKING:
    from agentterm.config import ProviderConfig, Settings

log = logging.getLogger(__name__)

# Hosts known to need a key: with none configured we say so without a request.
_KEYED_HOSTS = ("api.openai.com",)
# Request fields the client owns; params cannot override them.
_RESERVED = frozenset({"model", "messages", "stream", "stream_options"})
_TITLE_INPUT_CHARS = 1500
# A title is 3-6 words; a cap keeps a small model that rambles from holding a one-slot server.
TITLE_MAX_TOKENS = 30
TITLE_INSTRUCTIONS = (
    "You name conversations. Reply with a title of 3 to 6 words that says what the conversation "
    "is about, in the language of the conversation. Reply with the title only: no quotes, no "
    "Markdown, no final punctuation."
)


class LLMClient:
    """Talks to the configured OpenAI-compatible providers.

    One ``httpx2.AsyncClient`` is made per provider on first use (httpx2 itself is imported
    then, not before) and reused while the event loop that made it runs. Nothing is retried:
    an error reaches the user at once, with ``retryable`` saying whether a retry may help,
    instead of a silent wait behind a Retry-After. openai is not imported (its import was most
    of `agentterm ask`'s time); the event stream is read by llm/stream.py.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._connections: dict[str, Connection] = {}

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
        tools: list[dict] | None = None,
    ) -> AsyncIterator[Event]:
        """Stream an answer: TextDelta, ThinkingDelta and ToolCallDelta pieces as they come, then
        Usage (if reported), then Finished.

        `tools` (OpenAI function tools) are sent when given; finish_reason "tool_calls" is a
        normal end. Every fault is raised as an LLMError subclass: an answer that ends without a
        finish_reason is StreamCut (after its pieces), one with neither text nor a tool call is
        BadResponse. Closing the generator or cancelling the task consuming it closes the HTTP
        stream at once (use ``contextlib.aclosing`` when you may stop iterating early without
        cancelling).
        """
        events = self._stream_chat(messages, provider, model, params, tools)
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
                           params: dict | None, tools: list[dict] | None) -> AsyncIterator[Event]:
        pc = self._provider(provider)
        model = self.resolve_model(provider, model)
        conn = await self._connection(pc)
        request: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:
            request["tools"] = tools
        extra = {k: v for k, v in (params or {}).items() if v is not None and k not in _RESERVED}
        if extra:
            request.update(extra)
        http = await self._open_stream(conn, pc, model, request)
        reader = ChunkReader(conn.where)
        cut = False
        try:
            content_type = http.headers.get("content-type", "").lower()
            if "json" in content_type or "html" in content_type:
                # Not an event stream: a JSON completion from a server that ignored stream=True,
                # an error body with a 200, or a web page.
                async for event in non_stream_body(http, conn, content_type):
                    yield event
                return
            decoder = SSEDecoder(conn.where)
            # Raw bytes when nothing is compressed: one layer less for each of thousands of chunks.
            encoded = http.headers.get("content-encoding", "identity").lower() not in ("", "identity")
            ended = False
            async for piece in http.aiter_bytes() if encoded else http.aiter_raw():
                for chunk in decoder.feed(piece):
                    if chunk is DONE:
                        ended = True
                        break
                    for event in reader.feed(chunk):
                        yield event
                if ended:
                    break
            else:
                for chunk in decoder.end():
                    if chunk is CUT:
                        cut = True
                        break
                    for event in reader.feed(chunk):
                        yield event
            for event in reader.end():
                yield event
        except LLMError:
            raise
        except Exception as exc:  # noqa: BLE001 - every fault becomes one of ours
            raise self._map_error(exc, pc, conn, model, in_stream=True) from None
        finally:
            await http.aclose()

        for event in reader.finish(model, cut=cut):
            yield event

    async def generate_title(
        self,
        prompt: str,
        answer: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """A 3-6 word title for a conversation, from the provider's title_model (else its model).

        The request asks for at most TITLE_MAX_TOKENS tokens, is never retried, and gives up
        after `timeout` seconds in all (default: the provider's title_timeout) with
        RequestTimeout: on a one-slot local server a title must not hold the next question.
        Cancelling the awaiting task closes the request at once. The model's reply (thinking
        left out) goes through `clean_title` and `scrub`, falling back to `fallback_title(prompt)`
        when it is empty or junk. Faults raise LLMError, like every request.
        """
        return await _bare_errors(self._generate_title(prompt, answer, provider, model, timeout))

    async def _generate_title(self, prompt: str, answer: str, provider: str | None,
                              model: str | None, timeout: float | None) -> str:
        pc = self._provider(provider)
        title_model = model or pc.title_model or self.resolve_model(provider, None)
        limit = timeout if timeout is not None else getattr(pc, "title_timeout", DEFAULT_TITLE_TIMEOUT)
        conn = await self._connection(pc)
        excerpt = (
            f"User: {_clip(prompt, _TITLE_INPUT_CHARS)}\n\n"
            f"Assistant: {_clip(answer, _TITLE_INPUT_CHARS)}"
        )
        messages = [
            {"role": "system", "content": TITLE_INSTRUCTIONS},
            {"role": "user", "content": f"{excerpt}\n\nTitle for this conversation:"},
        ]
        text: list[str] = []
        try:
            async with asyncio.timeout(limit):
                text = await self._title_text(conn, title_model, messages, limit)
        except TimeoutError:
            raise RequestTimeout(f"No title from {conn.where} within {limit:g} s.") from None
        except LLMError:
            raise
        except Exception as exc:  # noqa: BLE001 - every fault becomes one of ours
            raise self._map_error(exc, pc, conn, title_model) from None
        fallback = fallback_title(prompt)
        return scrub(clean_title("".join(text), fallback))

    async def _title_text(self, conn: Connection, model: str, messages: list[dict],
                          limit: float) -> list[str]:
        from agentterm.llm.transport import send

        body = {"model": model, "messages": messages, "max_tokens": TITLE_MAX_TOKENS}
        http = await send(conn.client, "POST", "chat/completions", body=body, timeout=limit)
        # The raw body, read by the same rules as an answer: parts joined, odd types refused.
        try:
            content_type = http.headers.get("content-type", "").lower()
            if "json" not in content_type and "html" not in content_type:
                content_type = "application/json"  # a server that does not say: try it as JSON
            return [event.text async for event in non_stream_body(http, conn, content_type, allow_empty=True)
                    if isinstance(event, TextDelta)]
        finally:
            await http.aclose()

    async def list_models(self, provider: str | None = None) -> list[str]:
        """The model ids the provider's server lists, sorted.

        A server without a model list (GET /models answers 404, as some llama.cpp and vLLM
        setups do) gives [] rather than an error; every other fault raises LLMError.
        """
        return await _bare_errors(self._list_models(provider))

    async def _list_models(self, provider: str | None) -> list[str]:
        pc = self._provider(provider)
        conn = await self._connection(pc)
        from agentterm.llm.transport import send

        try:
            http = await send(conn.client, "GET", "models")
            try:
                await http.aread()
            finally:
                await http.aclose()
            content_type = http.headers.get("content-type", "").lower()
            content = http.content
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
                    await conn.client.aclose()
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

    async def _connection(self, pc: ProviderConfig) -> Connection:
        loop = asyncio.get_running_loop()
        conn = self._connections.get(pc.name)
        if conn is not None and conn.loop is loop:
            return conn
        # A client made on another (finished) loop cannot be reused: its sockets belong there.
        key = await self._resolve_key(pc)
        client, problem = make_http_client(pc, key)
        has_key = key is not None
        del key  # no frame of a later traceback holds the key
        if client is None:
            raise Unreachable(
                f"Cannot use the base_url of provider '{pc.name}': {problem}.",
                f"Fix base_url under [providers.{pc.name}] in {self._config_name()}, "
                "e.g. http://localhost:11434/v1.",
                retryable=False,
            )
        where = where_of(str(client.base_url))
        if not has_key and urlsplit(str(client.base_url)).hostname in _KEYED_HOSTS:
            raise NoAPIKey(f"Provider '{pc.name}' has no API key, and {where} needs one.",
                           self._key_hint(pc))
        conn = Connection(client=client, has_key=has_key, where=where, loop=loop)
        self._connections[pc.name] = conn
        return conn

    async def _resolve_key(self, pc: ProviderConfig) -> str | None:
        from agentterm.config import ConfigError

        try:
            # A key command may take a while (a password manager): keep the event loop free.
            # It runs once per process; a refused key is not fixed by asking the command again.
            key = await asyncio.to_thread(pc.resolve_api_key)
        except ConfigError as exc:
            message = str(exc)  # names the program, never its output
        except Exception as exc:  # noqa: BLE001 - its text might hold the command's output
            message = f"the key lookup failed ({type(exc).__name__})"
        else:
            if key is not None:
                register_secret(key)
                check_key(pc, key, self._config_name())
            return key
        raise NoAPIKey(f"Could not get the API key for provider '{pc.name}': {message}", self._key_hint(pc))

    def _forget(self, pc: ProviderConfig) -> None:
        """Drop the provider's client so the next request reads the key again (a variable set since)."""
        self._connections.pop(pc.name, None)

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

    async def _open_stream(self, conn: Connection, pc: ProviderConfig, model: str,
                           request: dict[str, Any]) -> Any:
        # The reply with its body unread: read as bytes by SSEDecoder, no typed object per chunk.
        from agentterm.llm.transport import send

        try:
            return await send(conn.client, "POST", "chat/completions", body=request)
        except Exception as exc:  # noqa: BLE001 - every fault becomes one of ours
            if not rejects_stream_options(exc):
                raise self._map_error(exc, pc, conn, model) from None
        # An older server that refuses stream_options: ask again without (and without usage).
        request = {k: v for k, v in request.items() if k != "stream_options"}
        try:
            return await send(conn.client, "POST", "chat/completions", body=request)
        except Exception as exc:  # noqa: BLE001 - every fault becomes one of ours
            raise self._map_error(exc, pc, conn, model) from None

    # --- errors -------------------------------------------------------------------------------

    def _map_error(self, exc: BaseException, pc: ProviderConfig, conn: Connection,
                   model: str | None, *, in_stream: bool = False) -> LLMError:
        """One of our errors for anything the transport or the server threw at us."""
        error = classify(exc, pc, conn, model, in_stream=in_stream,
                         config_name=self._config_name(), key_hint=self._key_hint(pc))
        if isinstance(error, (AuthFailed, NoAPIKey)):
            self._forget(pc)
        log.debug("request to %s failed: %s: %s", conn.where, type(error).__name__, error.message)
        return error


# --- helpers -----------------------------------------------------------------------------------


def _bare(error: LLMError | None) -> LLMError:
    """The error without the frames and the chained exception it was made from.

    Crash screens print every frame's locals; the frames inside the client hold server replies
    and the transport's internals, which may echo the key. Our message says all a user needs.
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


def _clip(text: str, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit] + " …"


__all__ = ["LLMClient", "Delta", "TextDelta", "ThinkingDelta", "ToolCallDelta", "Usage", "Finished",
           "clean_title", "fallback_title", "NO_KEY"]
