"""The reply flow, shared by the command line and the app: nothing typed or streamed is lost."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentterm.models import Agent, Conversation, Message

if TYPE_CHECKING:
    from agentterm.llm import LLMClient, LLMError
    from agentterm.store import Store

FLUSH_INTERVAL = 0.5
YIELD_EVERY = 32
# About 250,000 tokens: more than any model's context window, and still quick to edit, store and
# send. A longer prompt is refused whole, before anything is stored or sent (docs/reliability.md).
MAX_PROMPT_CHARS = 1_000_000
CONTINUE_PROMPT = "Continue exactly where your previous answer stopped. Do not repeat anything."


def prompt_too_long(prompt: str) -> str | None:
    """Why the prompt cannot be sent (too long), or None when it can."""
    if len(prompt) <= MAX_PROMPT_CHARS:
        return None
    return (f"The prompt has {len(prompt):,} characters; the most agentterm sends is "
            f"{MAX_PROMPT_CHARS:,}.")


class ReplyRefused(Exception):
    """Sending was refused before any request: the message says why and what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass
class PromptStored:
    message: Message


@dataclass
class AnswerStarted:
    message: Message


@dataclass
class AnswerDelta:
    message_id: int
    text: str


@dataclass
class AnswerFinished:
    message: Message


@dataclass
class AnswerFailed:
    message: Message | None
    error: Exception


ReplyEvent = PromptStored | AnswerStarted | AnswerDelta | AnswerFinished | AnswerFailed


def request_messages(agent: Agent | None, history: list[Message]) -> list[dict[str, Any]]:
    """The chat request's messages: the agent's instructions, then the history a model should see."""
    messages: list[dict[str, Any]] = []
    if agent is not None and agent.instructions.strip():
        messages.append({"role": "system", "content": agent.instructions})
    for message in history:
        if message.role == "assistant" and (message.status == "error" or not message.content):
            continue
        entry: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.role == "tool" and message.tool_call_id:
            entry["tool_call_id"] = message.tool_call_id
        messages.append(entry)
    return messages


class _Answer:
    """The assistant row being streamed: created at the first token, flushed on a timer."""

    def __init__(self, store: Store, conversation: Conversation, model: str, agent: Agent | None,
                 flush_interval: float, existing: Message | None = None) -> None:
        self.store = store
        self.conversation = conversation
        self.model = model
        self.agent = agent
        self.flush_interval = flush_interval
        self.message = existing
        self.prefix = existing.content if existing else ""
        self.parts: list[str] = []
        self.dirty = False
        self.last_flush = time.monotonic()
        self.flusher: asyncio.Task[None] | None = None

    @property
    def text(self) -> str:
        return self.prefix + "".join(self.parts)

    def add(self, delta: str) -> bool:
        """Record a delta; True when this delta created the row."""
        self.parts.append(delta)
        self.dirty = True
        if self.message is None:
            self.message = self.store.add_message(
                self.conversation.id, "assistant", self.text, status="streaming",
                model=self.model, agent_version=self.agent.version if self.agent else None,
            )
            self.dirty = False
            self.last_flush = time.monotonic()
            self.flusher = asyncio.create_task(self._flush_periodically())
            return True
        if self.message.status != "streaming":
            self.message = self.store.update_message(self.message.id, status="streaming")
        if time.monotonic() - self.last_flush >= self.flush_interval:
            self.flush()
        return False

    def flush(self) -> None:
        if self.message is not None and self.dirty:
            self.store.update_message(self.message.id, content=self.text)
            self.dirty = False
        self.last_flush = time.monotonic()

    async def _flush_periodically(self) -> None:
        # Deltas can stop arriving (a stall): the timer still gets the text on disk.
        while True:
            await asyncio.sleep(self.flush_interval)
            self.flush()

    def abandon(self) -> None:
        """A fault outside the model (the store itself failing): stop flushing, keep what we can."""
        if self.flusher is not None:
            self.flusher.cancel()
        if self.message is None:
            return
        # Should this fail too, the row stays "streaming" and the next start recovers it.
        with contextlib.suppress(Exception):
            self.message = self.store.update_message(self.message.id, content=self.text,
                                                     status="interrupted")

    def finish(self, status: str, *, usage: Any = None, model: str | None = None,
               extra: dict[str, Any] | None = None) -> Message | None:
        if self.flusher is not None:
            self.flusher.cancel()
        if self.message is None:
            if status != "error":
                return None
            self.message = self.store.add_message(
                self.conversation.id, "assistant", "", status="error", model=self.model,
                agent_version=self.agent.version if self.agent else None,
            )
        merged = dict(self.message.extra)
        merged.pop("error", None)
        merged.pop("hint", None)
        merged.update(extra or {})
        self.message = self.store.update_message(
            self.message.id,
            content=self.text,
            status=status,
            extra=merged,
            model=model or self.model,
            prompt_tokens=getattr(usage, "prompt_tokens", None),
            completion_tokens=getattr(usage, "completion_tokens", None),
        )
        return self.message


def _emit_nothing(event: ReplyEvent) -> None:
    return None


def _check_agent(agent: Agent | None) -> None:
    if agent is not None and agent.status == "paused":
        raise ReplyRefused(
            f"The agent {agent.name!r} is paused, so this conversation cannot send.",
            "Resume the agent to send again.",
        )


async def send(
    store: Store,
    client: LLMClient,
    conversation_id: int,
    prompt: str | None,
    *,
    model: str | None = None,
    on_event: Callable[[ReplyEvent], None] = _emit_nothing,
    flush_interval: float = FLUSH_INTERVAL,
    continue_answer: bool = False,
) -> Message:
    """Send `prompt` (None: answer the last prompt again) and stream the answer into the store.

    With `continue_answer`, the last, cut-off answer is extended in place instead.
    Raises ReplyRefused before any request, LLMError after the failed answer is stored,
    and CancelledError after the partial answer is stored as interrupted.
    """
    from agentterm.llm import Delta, Finished, LLMError, Usage

    conversation = store.get_conversation(conversation_id)
    if conversation is None:
        raise ReplyRefused(f"There is no conversation {conversation_id}.", "List them with `agentterm chats list`.")
    if conversation.deleted_at is not None:
        raise ReplyRefused("This conversation is in the trash, so it cannot send.",
                           "Restore it first (u in the sidebar's Trash, or `agentterm chats restore ID`).")
    agent = store.get_agent(conversation.agent_id) if conversation.agent_id else None
    _check_agent(agent)
    if prompt is not None and (why := prompt_too_long(prompt)):
        raise ReplyRefused(why, "Send a shorter prompt, or the long text as several.")

    existing: Message | None = None
    if prompt is not None:
        on_event(PromptStored(store.add_message(conversation_id, "user", prompt)))
    # Read once, after the prompt is stored: a long conversation's history is the costly read.
    history = store.all_messages(conversation_id)
    if prompt is None:
        last = history[-1] if history else None
        if last is not None and last.role == "assistant" and last.status in ("interrupted", "error"):
            if continue_answer and last.content:
                existing = last
            else:
                store.delete_message(last.id)
                history = history[:-1]
        if existing is None and (not history or history[-1].role != "user"):
            raise ReplyRefused("There is no prompt to answer.", "Type a prompt and send it.")

    messages = request_messages(agent, history)
    if existing is not None:
        messages.append({"role": "user", "content": CONTINUE_PROMPT})

    provider = agent.provider if agent else None
    resolved_model = client.resolve_model(provider, model or (agent.model if agent else None))
    params = agent.params() if agent else {}

    answer = _Answer(store, conversation, resolved_model, agent, flush_interval, existing)
    usage: Usage | None = None
    finished: Finished | None = None
    try:
        # aclosing: a fault in this loop (the store failing) closes the HTTP stream at once.
        async with aclosing(client.stream_chat(messages, provider=provider, model=resolved_model,
                                               params=params)) as events:
            deltas = 0
            async for event in events:
                if isinstance(event, Delta):
                    if not event.text:
                        continue
                    if answer.add(event.text):
                        on_event(AnswerStarted(answer.message))
                    on_event(AnswerDelta(answer.message.id, event.text))
                    deltas += 1
                    if deltas % YIELD_EVERY == 0:
                        # Chunks already received are read without waiting: catching up, this
                        # loop would hold the event loop (no key, no frame) until it is through.
                        await asyncio.sleep(0)
                elif isinstance(event, Usage):
                    usage = event
                elif isinstance(event, Finished):
                    finished = event
    except asyncio.CancelledError:
        stored = answer.finish("interrupted", usage=usage, extra={"stopped": True})
        on_event(AnswerFailed(stored, asyncio.CancelledError()))
        raise
    except LLMError as error:
        stored = answer.finish("error", usage=usage, extra={"error": error.message, "hint": error.hint})
        on_event(AnswerFailed(stored, error))
        raise
    except BaseException:
        answer.abandon()
        raise
    extra: dict[str, Any] = {}
    if finished is not None and finished.finish_reason:
        extra["finish_reason"] = finished.finish_reason
    stored = answer.finish(
        "complete", usage=usage, model=finished.model if finished else None, extra=extra
    )
    if stored is None:
        # A server that closes a 200 stream without a word: keep a marker the user can retry.
        stored = answer.finish("error", extra={"error": "The server sent an empty answer.",
                                               "hint": "Retry, or check the model name."})
    on_event(AnswerFinished(stored))
    return stored


async def auto_title(store: Store, client: LLMClient, conversation_id: int) -> str | None:
    """Give a conversation a generated title after its first answer; never replaces a user's title."""
    from agentterm.llm import LLMError, fallback_title

    conversation = store.get_conversation(conversation_id)
    if conversation is None or conversation.title_source == "user" or conversation.title:
        return None
    history = store.latest_messages(conversation_id, 4)
    prompt = next((m.content for m in history if m.role == "user"), "")
    answer = next((m.content for m in history if m.role == "assistant" and m.content), "")
    if not prompt:
        return None
    agent = store.get_agent(conversation.agent_id) if conversation.agent_id else None
    try:
        title = await client.generate_title(prompt, answer, provider=agent.provider if agent else None)
    except LLMError:
        title = fallback_title(prompt)
    if store.set_auto_title(conversation_id, title):
        return title
    return None
