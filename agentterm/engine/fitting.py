"""Before a request goes out: does it fit the window, and if not, drop or summarise the oldest turns.

run_turn calls these with its `overflow` choice: "refuse" (the default: a TurnRefused saying
what would fit, before anything is stored), "drop" (the oldest turns are left out of what is
sent: kept and shown, never deleted), or "compact" (the model summarises them into one message,
stored and shown, sent at the head of the context from then on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentterm.engine import errors
from agentterm.engine.context import (
    SUMMARY_HEADING,
    SUMMARY_INSTRUCTIONS,
    Fit,
    answer_reserve,
    measure,
    not_fitting_line,
    plan_fit,
    window_for,
)
from agentterm.engine.errors import TurnRefused
from agentterm.engine.model import delta_kind
from agentterm.models import Conversation, Message


@dataclass
class ContextCut:
    """The oldest turns are no longer sent: `dropped` of them, summarised in `summary` if compacted."""

    conversation_id: int
    dropped: int
    summary: Message | None = None


def is_summary(message: Message) -> bool:
    return message.role == "system" and isinstance(message.extra, dict) and "summary" in message.extra


async def fit_for(astore: Any, client: Any, conversation: Conversation, agent: Any, *,
                  provider: str | None, model: str | None, prompt: str | None) -> Fit:
    """The fit of the next request, from numbers the store sums (no message body is read)."""
    window = window_for(getattr(client, "settings", None), provider, model)
    size = await astore.context_size(conversation.id)
    fit = first_fit(size, conversation, agent, window=window, prompt=prompt)
    if fit.fits:
        return fit
    return plan_fit(_meter(size, conversation, agent, window), await astore.turn_sizes(conversation.id), prompt,
                    reserve=answer_reserve(agent, window))


def first_fit(size: Any, conversation: Conversation, agent: Any, *, window: int | None,
              prompt: str | None) -> Fit:
    """The fit from the store's context_size alone (no turn sizes): when it does not fit,
    fit_for reads the turns to say how many to leave out. No store call, so a caller on the
    store's thread can check and write the prompt in one go (run_turn does)."""
    meter = _meter(size, conversation, agent, window)
    if window is None:
        return Fit(meter.used, None)
    return plan_fit(meter, [], prompt, reserve=answer_reserve(agent, window))


def _meter(size: Any, conversation: Conversation, agent: Any, window: int | None) -> Any:
    instructions = conversation.instructions_override
    if instructions is None and agent is not None:
        instructions = agent.instructions
    return measure(size, instructions=instructions, window=window)


async def make_room(astore: Any, client: Any, conversation: Conversation, fit: Fit, how: str, *,
                    provider: str | None, model: str | None) -> ContextCut:
    """Leave the oldest `fit.drop` turns out of what is sent; with "compact", summarise them first."""
    if fit.fits and not fit.drop:
        return ContextCut(conversation.id, 0)
    if not fit.possible or fit.keep_from is None:
        raise TurnRefused(errors.CONTEXT_FULL, not_fitting_line(fit), "Send a shorter prompt.")
    summary = None
    if how == "compact":
        summary = await summarise(astore, client, conversation, fit, provider=provider, model=model)
    await astore.cut_context(conversation.id, fit.keep_from)
    return ContextCut(conversation.id, fit.drop, summary)


async def make_room_now(astore: Any, client: Any, conversation: Conversation, how: str, *,
                         provider: str | None, model: str | None) -> ContextCut:
    """On request, not for a send: every turn but the newest left out (how "drop") or summarised."""
    turns = await astore.turn_sizes(conversation.id)
    if len(turns) < 2:
        raise TurnRefused(errors.NOTHING_TO_ANSWER, "There is nothing older than the newest turn to leave out.",
                          "It is sent whole already.")
    fit = Fit(needed=0, window=None, drop=len(turns) - 1, keep_from=turns[-1].first_id)
    return await make_room(astore, client, conversation, fit, how, provider=provider, model=model)


async def summarise(astore: Any, client: Any, conversation: Conversation, fit: Fit, *,
                    provider: str | None, model: str | None) -> Message:
    """The model's summary of the turns before fit.keep_from, stored as a system message."""
    history = [m for m in await astore.all_messages(conversation.id)
               if (conversation.context_from or 0) <= m.id < (fit.keep_from or 0)]
    lines = []
    for message in history:
        if is_summary(message):
            lines.append(f"(earlier summary) {message.content}")
        elif message.content and message.role in ("user", "assistant", "tool"):
            lines.append(f"{message.role}: {message.content}")
    request = [{"role": "system", "content": SUMMARY_INSTRUCTIONS},
               {"role": "user", "content": "\n\n".join(lines)}]
    parts: list[str] = []
    try:
        async for delta in client.stream_chat(request, provider=provider, model=model, params={}):
            if delta_kind(delta) == "text" and delta.text:
                parts.append(delta.text)
    except Exception as error:  # noqa: BLE001 - the model's errors: nothing was cut
        raise TurnRefused(errors.COMPACT_FAILED,
                          f"The summary could not be made: {getattr(error, 'message', error)}",
                          "Nothing was left out; try again, or drop the oldest turns instead.") from None
    text = "".join(parts).strip()
    if not text:
        raise TurnRefused(errors.COMPACT_FAILED, "The model sent an empty summary.",
                          "Nothing was left out; try again, or drop the oldest turns instead.")
    return await astore.add_message(
        conversation.id, "system", text, model=model,
        extra={"summary": {"turns": fit.drop, "from": history[0].id if history else None,
                           "to": (fit.keep_from or 1) - 1}})


def sent_history(conversation: Conversation, history: list[Message]) -> tuple[list[Message], str | None]:
    """The rows sent, and the summary to put at the head: the context from `context_from` on,
    summaries taken out of their place (the newest one heads the request when turns are cut)."""
    start = conversation.context_from or 0
    summaries = [m for m in history if is_summary(m) and m.id >= start]
    rows = [m for m in history if m.id >= start and not is_summary(m)]
    summary = summaries[-1].content if summaries and start else None
    return rows, summary


def with_summary(instructions: str | None, summary: str | None) -> str | None:
    if not summary:
        return instructions
    head = f"{instructions.rstrip()}\n\n" if instructions and instructions.strip() else ""
    return f"{head}{SUMMARY_HEADING}\n{summary}"
