"""The turn engine: run_turn() and its events, shared by the command line and the app."""

from agentterm.engine.errors import EngineError, TurnRefused
from agentterm.engine.events import (
    AnswerFailed,
    AnswerFinished,
    AnswerStarted,
    Approval,
    ApprovalAsked,
    Event,
    PromptStored,
    StoreAway,
    TextDelta,
    ThinkingDelta,
    ToolCallArguments,
    ToolCallReady,
    ToolCallRunning,
    ToolCallStarted,
    ToolResult,
    ToolsUnavailable,
    UsageReported,
)
from agentterm.engine.fitting import ContextCut
from agentterm.engine.model import ModelClient
from agentterm.engine.prompt import CONTINUE_PROMPT, MAX_PROMPT_CHARS, prompt_not_text, prompt_too_long
from agentterm.engine.request import request_messages
from agentterm.engine.titles import auto_title, cancel_title, start_title
from agentterm.engine.turn import FLUSH_INTERVAL, MAX_STEPS, refuse_agent, run_turn
from agentterm.engine.writes import has_pending, retry_pending

__all__ = [
    "AnswerFailed", "AnswerFinished", "ContextCut", "AnswerStarted", "Approval", "ApprovalAsked", "CONTINUE_PROMPT",
    "EngineError", "Event", "FLUSH_INTERVAL", "MAX_PROMPT_CHARS", "MAX_STEPS", "ModelClient",
    "PromptStored", "StoreAway", "TextDelta", "ThinkingDelta", "ToolCallArguments", "ToolCallReady", "ToolCallRunning",
    "ToolCallStarted", "ToolResult", "ToolsUnavailable", "TurnRefused", "UsageReported", "auto_title", "cancel_title", "has_pending",
    "prompt_not_text", "prompt_too_long", "refuse_agent", "request_messages", "retry_pending", "run_turn", "start_title",
]
