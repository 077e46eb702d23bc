"""What a prompt may be: its size limit, valid text, and the prompt that asks a cut answer to go on."""

from __future__ import annotations

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


def prompt_not_text(prompt: str) -> str | None:
    """Why the prompt is not valid text (bytes that were not UTF-8, a lone surrogate), or None."""
    try:
        prompt.encode("utf-8")
    except UnicodeEncodeError as error:
        return (f"The prompt is not valid UTF-8 text (at character {error.start + 1:,}); "
                "nothing was stored or sent.")
    return None
