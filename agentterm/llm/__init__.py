"""The LLM client: streaming answers, titles and model lists, with errors a user can act on.

Importing this package does not import httpx2 (the transport); the first request does. openai is never imported.
"""

from agentterm.llm.client import LLMClient
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
)
from agentterm.llm.replies import Delta, Event, Finished, TextDelta, ThinkingDelta, ToolCallDelta, Usage
from agentterm.llm.titles import clean_title, fallback_title
from agentterm.redact import scrub

__all__ = [
    "LLMClient",
    "Delta",
    "TextDelta",
    "ThinkingDelta",
    "ToolCallDelta",
    "Event",
    "Usage",
    "Finished",
    "clean_title",
    "fallback_title",
    "scrub",
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
]
