"""The context window: how full it is, and what the next request sends when it would not fit.

No Textual here: the app's header, its notice before sending, `agentterm ask` and run_turn all
ask these functions. Sizes come from the store as numbers (Store.context_size, turn_sizes):
the last answer's reported tokens when there is one, else characters / CHARS_PER_TOKEN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

# A rough, deliberately cautious token estimate for text with no reported count.
CHARS_PER_TOKEN = 4
# Share of the window at which the meter turns amber (docs/configuration.md says so).
NEAR_LIMIT = 0.8
# Room kept for the answer when the agent's max_tokens is not set (a quarter of a small window).
ANSWER_RESERVE = 1024
# Per-message overhead of the chat format (role markers), in tokens.
PER_MESSAGE = 4

Overflow = Literal["refuse", "drop", "compact"]

# Known windows (tokens), by model-name prefix; the longest prefix that matches wins. A
# `context_window` in the config (per provider, or per model under it) comes first.
KNOWN_WINDOWS: dict[str, int] = {
    "gpt-4o": 128_000,
    "gpt-4o-mini": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4-turbo": 128_000,
    "gpt-4": 8_192,
    "gpt-3.5-turbo": 16_385,
    "gpt-5": 400_000,
    "o1": 200_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "claude-3": 200_000,
    "claude-sonnet-4": 200_000,
    "claude-opus-4": 200_000,
    "llama3.1": 131_072,
    "llama3.2": 131_072,
    "llama3": 8_192,
    "mistral": 32_768,
    "qwen2.5": 32_768,
    "gemma2": 8_192,
    "deepseek-r1": 131_072,
}


def estimate_tokens(chars: int) -> int:
    return math.ceil(max(chars, 0) / CHARS_PER_TOKEN)


def model_info(settings: Any, provider: str | None, model: str | None) -> dict[str, Any]:
    """`context_window`, `input_price` and `output_price` for a model: the provider's [models]
    entry, else the provider's own keys; missing ones are absent."""
    info: dict[str, Any] = {}
    try:
        config = settings.provider(provider)
    except Exception:  # noqa: BLE001 - an unknown provider: no configured figures
        return info
    for key in ("context_window", "input_price", "output_price"):
        if getattr(config, key, None) is not None:
            info[key] = getattr(config, key)
    info.update((getattr(config, "models", None) or {}).get(model or "", {}))
    return info


def window_for(settings: Any, provider: str | None, model: str | None) -> int | None:
    """The model's context window in tokens: the config's, else the known table's, else None."""
    configured = model_info(settings, provider, model).get("context_window")
    if configured:
        return int(configured)
    name = (model or "").rsplit("/", 1)[-1].lower()  # "openai/gpt-4o" on OpenRouter
    matches = [prefix for prefix in KNOWN_WINDOWS if name.startswith(prefix)]
    return KNOWN_WINDOWS[max(matches, key=len)] if matches else None


@dataclass
class Meter:
    """The header's context meter: tokens the next request carries against the window."""

    used: int
    window: int | None
    estimated: bool
    """True when (part of) `used` is an estimate from characters, not the server's count."""

    @property
    def share(self) -> float | None:
        return self.used / self.window if self.window else None

    @property
    def level(self) -> str:
        """"ok", "near" (at NEAR_LIMIT of the window or more) or "over"."""
        share = self.share
        if share is None or share < NEAR_LIMIT:
            return "ok"
        return "over" if share >= 1 else "near"


def measure(size: Any, *, instructions: str | None, window: int | None) -> Meter:
    """The meter from a Store.context_size(): the report plus what came after it, estimated."""
    if size.reported is not None:
        # A report counts the instructions, the history and the answer it was for.
        used = size.reported + estimate_tokens(size.chars) + PER_MESSAGE
        return Meter(used, window, estimated=size.chars > 0)
    used = estimate_tokens(size.chars + len(instructions or "")) + PER_MESSAGE * (size.messages + 1)
    return Meter(used, window, estimated=True)


def cost(settings: Any, provider: str | None, model: str | None,
         prompt_tokens: int, completion_tokens: int) -> float | None:
    """What those tokens cost at the configured prices (per million tokens); None when unpriced."""
    info = model_info(settings, provider, model)
    if info.get("input_price") is None and info.get("output_price") is None:
        return None
    return (prompt_tokens * float(info.get("input_price") or 0)
            + completion_tokens * float(info.get("output_price") or 0)) / 1_000_000


@dataclass
class Fit:
    """Whether the next request fits the window, and what to leave out if it does not."""

    needed: int
    """Tokens the request would carry, with room for the answer."""
    window: int | None
    drop: int = 0
    """How many of the oldest turns to leave out (or summarise) so it fits."""
    keep_from: int | None = None
    """The first message id sent once those are left out."""
    possible: bool = True
    """False when even the newest turn and the prompt alone do not fit."""

    @property
    def fits(self) -> bool:
        return self.window is None or self.needed <= self.window


def plan_fit(meter: Meter, turns: list[Any], prompt: str | None, *, reserve: int) -> Fit:
    """The rule: the prompt and `reserve` tokens for the answer must fit with the history;
    otherwise the fewest oldest turns are left out that make it fit (the newest turn stays)."""
    extra = estimate_tokens(len(prompt or "")) + PER_MESSAGE + reserve
    fit = Fit(meter.used + extra, meter.window)
    if fit.fits:
        return fit
    over = fit.needed - (meter.window or 0)
    freed = 0
    for index, turn in enumerate(turns[:-1] if prompt is None else turns):
        freed += estimate_tokens(turn.chars) + PER_MESSAGE
        if freed >= over:
            fit.drop = index + 1
            later = turns[index + 1:]
            fit.keep_from = later[0].first_id if later else None
            return fit
    fit.possible = False
    return fit


def answer_reserve(agent: Any, window: int | None) -> int:
    """Room kept for the answer: the agent's max_tokens, else ANSWER_RESERVE (at most a quarter
    of a small window)."""
    max_tokens = getattr(agent, "max_tokens", None)
    if max_tokens:
        return int(max_tokens)
    return min(ANSWER_RESERVE, (window or ANSWER_RESERVE * 4) // 4)


def not_fitting_line(fit: Fit) -> str:
    """The one line said before sending (app notice, `ask`)."""
    head = (f"This request needs about {fit.needed:,} tokens with room for the answer, "
            f"more than the model's window of {fit.window:,}.")
    if not fit.possible:
        return head + " Even without the earlier turns it would not fit: send a shorter prompt."
    return (head + f" Drop the {fit.drop} oldest turn(s) from what is sent (they stay in the "
            "conversation), or summarise them into one message.")


SUMMARY_INSTRUCTIONS = (
    "Summarise the conversation below so that it can go on from the summary alone: keep the "
    "facts, decisions, names, numbers, code and open questions; leave out pleasantries. Write "
    "the summary only."
)
SUMMARY_HEADING = "Summary of the earlier conversation (its turns are no longer sent):"
