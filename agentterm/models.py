"""Agent, Conversation and Message: the plain records the store returns."""

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


@dataclass
class SearchHit:
    """A full-text match: the message (or the title, when message_id is None) and a snippet."""

    conversation_id: int
    conversation_title: str
    message_id: int | None
    role: Role | None
    snippet: str
    created_at: datetime | None = None
