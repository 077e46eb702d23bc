"""The typed events a turn yields: what the CLI prints, the app shows and a server would stream."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from agentterm.models import Message

Decision = Literal["once", "always", "deny"]


@dataclass
class Approval:
    """The consumer's answer to ApprovalAsked: run once, always allow this tool, or deny (with why)."""

    decision: Decision
    reason: str | None = None


@dataclass
class PromptStored:
    """The prompt is in the store: the app may clear its box now."""

    message: Message


@dataclass
class AnswerStarted:
    """An assistant message has its first piece and a row (a turn with tools has several)."""

    message: Message


@dataclass
class TextDelta:
    message_id: int
    text: str


@dataclass
class ThinkingDelta:
    message_id: int
    text: str


@dataclass
class ToolCallStarted:
    """The model began a call: its name is known, its arguments are still coming."""

    call: Any  # models.ToolCall


@dataclass
class ToolCallArguments:
    """More of a call's arguments; call_id is the model's id for the call (always set)."""

    call_id: str
    text: str


@dataclass
class ToolCallReady:
    """A call is complete and stored, about to be checked, approved and run."""

    call: Any  # models.ToolCall


@dataclass
class ApprovalAsked:
    """Resolve `future` with an Approval; the turn waits (its row kept alive) until then."""

    call: Any  # models.ToolCall
    future: asyncio.Future[Approval]


@dataclass
class ToolCallRunning:
    """A call was allowed and runs now (its row is `running` with its start time)."""

    call: Any  # models.ToolCall


@dataclass
class ToolResult:
    """A call ended (done, failed, denied, cancelled); its result is stored before the next request."""

    call: Any  # models.ToolCall


@dataclass
class ToolsUnavailable:
    """A server the agent names could not give its tools this turn; the turn goes on without them."""

    server: str
    reason: str  # one line, e.g. 'the server exited at once: ...'


@dataclass
class UsageReported:
    usage: Any  # llm.Usage


@dataclass
class StoreAway:
    """The store's server went away while the answer streams (a restart, a network cut), or came
    back (`error` None). Meanwhile the answer goes on in memory; the flush that gets through
    writes all of it. After the answer ended (`unsaved`), its final state waits in memory
    (engine.retry_pending) until the server takes it."""

    message_id: int
    error: str | None
    unsaved: bool = False


@dataclass
class AnswerFinished:
    """An assistant message is complete; the turn's last event when it carries no tool calls."""

    message: Message


@dataclass
class AnswerFailed:
    """The turn ended without a final answer; `message` is the answer as shown (None when there was none)."""

    message: Message | None
    error: Exception


Event = (PromptStored | AnswerStarted | TextDelta | ThinkingDelta | ToolCallStarted | ToolCallArguments
         | ToolCallReady | ApprovalAsked | ToolCallRunning | ToolResult | ToolsUnavailable | UsageReported | StoreAway | AnswerFinished | AnswerFailed)
