"""Agent, Conversation, Message and ToolCall: the plain records the store returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

AgentStatus = Literal["active", "paused", "inactive"]
AGENT_STATUSES: tuple[AgentStatus, ...] = ("active", "paused", "inactive")

Role = Literal["system", "user", "assistant", "tool"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant", "tool")

MessageStatus = Literal["complete", "streaming", "interrupted", "error"]
MESSAGE_STATUSES: tuple[MessageStatus, ...] = ("complete", "streaming", "interrupted", "error")

TitleSource = Literal["auto", "user"]

ToolCallStatus = Literal[
    "pending", "approval", "running", "done", "denied", "failed", "interrupted", "cancelled"
]
TOOL_CALL_STATUSES: tuple[ToolCallStatus, ...] = (
    "pending", "approval", "running", "done", "denied", "failed", "interrupted", "cancelled"
)
# A call in one of these is still under way; a crash leaves it so until recovery.
TOOL_CALL_OPEN: tuple[ToolCallStatus, ...] = ("pending", "approval", "running")

ToolApproval = Literal["ask", "auto"]
TOOL_APPROVALS: tuple[ToolApproval, ...] = ("ask", "auto")

# A streaming answer whose writer has not refreshed its heartbeat for this long is dead: the
# writer beats at least every 0.5 s, even while a tool runs or an approval is awaited.
STALE_AFTER = timedelta(seconds=10)

AGENT_NAME_MAX = 80

# The fields a user sets on an agent, in the order files and forms show them.
AGENT_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "status",
    "provider",
    "model",
    "instructions",
    "temperature",
    "top_p",
    "max_tokens",
    "extra",
    "mcp_servers",
    "allowed_tools",
    "tool_approval",
)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the only clock the store uses)."""
    return datetime.now(UTC)


def to_iso(moment: datetime | None) -> str | None:
    """The store's text form of a time: ISO 8601 in UTC to the millisecond, so it sorts as text."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def from_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class Agent:
    """A reusable, named configuration; every save makes a new version."""

    id: int
    name: str
    description: str = ""
    status: AgentStatus = "active"
    provider: str | None = None
    model: str | None = None
    instructions: str = ""
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # The MCP servers (config names) it may call; [] for none.
    mcp_servers: list[str] = field(default_factory=list)
    # "server.tool" names offered to the model; None offers every tool of those servers.
    allowed_tools: list[str] | None = None
    # "ask": each call waits for approval (unless always allowed); "auto": calls run at once.
    tool_approval: ToolApproval = "ask"
    version: int = 1
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)

    def params(self) -> dict[str, Any]:
        """The request parameters this agent sets, extra parameters last so they can override."""
        params: dict[str, Any] = {}
        if self.temperature is not None:
            params["temperature"] = self.temperature
        if self.top_p is not None:
            params["top_p"] = self.top_p
        if self.max_tokens is not None:
            params["max_tokens"] = self.max_tokens
        params.update(self.extra)
        return params


@dataclass
class AgentVersion:
    """One saved state of an agent, as it was after a save."""

    agent_id: int
    version: int
    data: dict[str, Any]
    created_at: datetime


@dataclass
class AgentUsage:
    agent_id: int
    conversations: int = 0
    messages: int = 0
    tokens: int = 0
    last_used_at: datetime | None = None


@dataclass
class Conversation:
    """A titled history of messages, linked to an agent or to none."""

    id: int
    title: str = ""
    title_source: TitleSource | None = None
    agent_id: int | None = None
    agent_name: str | None = None
    tags: list[str] = field(default_factory=list)
    pinned: bool = False
    archived_at: datetime | None = None
    deleted_at: datetime | None = None
    created_at: datetime = field(default_factory=utcnow)
    last_activity_at: datetime = field(default_factory=utcnow)
    message_count: int = 0
    tokens: int = 0
    # Text typed in its prompt and not sent yet.
    draft: str = ""
    # A fork: the conversation it branched from (None once that one is purged), and the
    # message it branched at (the last one copied).
    parent_id: int | None = None
    forked_from_message_id: int | None = None
    # Overrides for the next answers, over the agent's: None uses the agent's.
    model: str | None = None
    provider: str | None = None
    instructions_override: str | None = None
    # The first message sent to the model (None: all); older turns were dropped or summarised,
    # and are kept and shown. context_cut_at: the newest message when that was decided.
    context_from: int | None = None
    context_cut_at: int | None = None

    @property
    def display_title(self) -> str:
        return self.title or "New conversation"

    def badge(self, now: datetime | None = None, streaming: bool = False) -> str:
        """Active (streaming, or within the hour), Recent (within 7 days) or Inactive."""
        age = (now or utcnow()) - self.last_activity_at
        if streaming or age <= timedelta(hours=1):
            return "Active"
        if age <= timedelta(days=7):
            return "Recent"
        return "Inactive"


@dataclass
class ToolCall:
    """A call the model asked for in an assistant message, with its arguments and outcome."""

    id: int
    message_id: int
    call_id: str
    index: int
    name: str  # the function name the model was given
    server: str = ""
    tool: str = ""
    arguments: str = ""  # as the model sent it, JSON text (possibly invalid)
    status: ToolCallStatus = "pending"
    result: str | None = None
    error: str | None = None
    reason: str | None = None  # why the user denied it
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.server}.{self.tool}"


@dataclass
class Message:
    id: int
    conversation_id: int
    role: Role
    content: str = ""
    status: MessageStatus = "complete"
    tool_call_id: str | None = None
    tool_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    agent_version: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    edited_at: datetime | None = None
    thinking: str = ""
    # While streaming: the writer's last sign of life (see STALE_AFTER).
    heartbeat_at: datetime | None = None
    # Answers (assistant and tool rows) name the user message they answer and which try they
    # are; the superseded tries are kept but are not the context.
    reply_to: int | None = None
    variant: int = 1
    superseded: bool = False
    tool_calls: list[ToolCall] = field(default_factory=list)

    @property
    def is_stale(self) -> bool:
        """Streaming, but its writer has gone quiet for longer than STALE_AFTER: it is dead."""
        if self.status != "streaming":
            return False
        return self.heartbeat_at is None or utcnow() - self.heartbeat_at > STALE_AFTER


@dataclass
class SearchHit:
    """A full-text match: the message (or the title, when message_id is None) and a snippet."""

    conversation_id: int
    conversation_title: str
    message_id: int | None
    role: Role | None
    snippet: str
    created_at: datetime | None = None
