"""Conversation titles after the first answer: made in a task a new send cancels, never over a user's title."""

from __future__ import annotations

import asyncio
from typing import Any

from agentterm.engine.stores import as_async

_tasks: dict[int, asyncio.Task[str | None]] = {}


async def auto_title(store: Any, client: Any, conversation_id: int) -> str | None:
    """Give a conversation a generated title; the fallback title (its first line) when the model fails."""
    # Whichever task runs this (start_title's, or an app's own worker) a new send cancels.
    task = asyncio.current_task()
    if task is not None:
        _tasks.setdefault(conversation_id, task)
    try:
        return await _title(store, client, conversation_id)
    finally:
        if _tasks.get(conversation_id) is task:
            del _tasks[conversation_id]


async def _title(store: Any, client: Any, conversation_id: int) -> str | None:
    from agentterm.llm import LLMError, fallback_title

    astore = as_async(store)
    conversation = await astore.get_conversation(conversation_id)
    if conversation is None or conversation.title_source == "user" or conversation.title:
        return None
    prompt, answer, provider = await _material(astore, conversation)
    if not prompt:
        return None
    try:
        title = await client.generate_title(prompt, answer, provider=provider)
    except LLMError:
        title = fallback_title(prompt)
    title = _scrubbed(title)
    if await astore.set_auto_title(conversation_id, title):
        return title
    return None


async def regenerate_title(store: Any, client: Any, conversation_id: int) -> str | None:
    """A generated title on request (the server's generate-title), over any title, the user's
    too; None when there is no prompt to make it of. The model's faults (LLMError) are raised:
    asked for a title, the caller is told why there is none rather than given the fallback."""
    cancel_title(conversation_id)
    astore = as_async(store)
    conversation = await astore.get_conversation(conversation_id)
    if conversation is None:
        return None
    prompt, answer, provider = await _material(astore, conversation)
    if not prompt:
        return None
    title = _scrubbed(await client.generate_title(prompt, answer, provider=provider))
    await astore.rename_conversation(conversation_id, title, source="auto")
    return title


async def _material(astore: Any, conversation: Any) -> tuple[str, str, str | None]:
    """(the first prompt, the answer's words, the agent's provider) a title is made of."""
    history = await astore.latest_messages(conversation.id, 8)
    prompt = next((m.content for m in history if m.role == "user"), "")
    # The words of the answer, never its thinking; with tools, the last message that has words.
    answer = next((m.content for m in reversed(history) if m.role == "assistant" and m.content), "")
    agent = await astore.get_agent(conversation.agent_id) if conversation.agent_id else None
    return prompt, answer, agent.provider if agent else None


def _scrubbed(title: str) -> str:
    from agentterm.engine.answer import _scrub

    return _scrub(title)


def start_title(store: Any, client: Any, conversation_id: int) -> asyncio.Task[str | None]:
    """auto_title in a task of its own; a new send in the conversation cancels it (cancel_title)."""
    cancel_title(conversation_id)
    task = asyncio.ensure_future(auto_title(store, client, conversation_id))
    _tasks[conversation_id] = task

    def done(finished: asyncio.Task[str | None]) -> None:
        if not finished.cancelled():
            finished.exception()  # a title is never worth an "exception was never retrieved"

    task.add_done_callback(done)
    return task


def cancel_title(conversation_id: int) -> bool:
    """Stop a title still being made for this conversation; True when one was."""
    task = _tasks.pop(conversation_id, None)
    if task is None or task.done():
        return False
    task.cancel()
    return True
