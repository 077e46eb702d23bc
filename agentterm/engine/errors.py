"""The engine's errors: a code each edge can word its own hint for, and a line a user can act on."""

from __future__ import annotations


class EngineError(Exception):
    """A turn that could not run or could not finish; `code` names the case for the edges."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class TurnRefused(EngineError):
    """Sending was refused before anything was stored or sent."""


# The codes, for the edges: refused before anything was sent ...
NO_CONVERSATION = "no_conversation"
TRASHED = "trashed"
AGENT_PAUSED = "agent_paused"
AGENT_INACTIVE = "agent_inactive"
PROMPT_TOO_LONG = "prompt_too_long"
PROMPT_INVALID = "prompt_invalid"
NO_IMAGES = "no_images"
NOTHING_TO_ANSWER = "nothing_to_answer"
STILL_STREAMING = "still_streaming"
CONTEXT_FULL = "context_full"
COMPACT_FAILED = "compact_failed"
# ... and ended after the prompt was stored.
STORE_FAILED = "store_failed"
CONVERSATION_GONE = "conversation_gone"
MAX_STEPS = "max_steps"
NO_ANSWER = "no_answer"
NO_TOOLS = "no_tools"
FAILED = "failed"
