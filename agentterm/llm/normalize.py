"""What a server sends, made into what its type promises: text as str, counts as ints, or refused."""

from __future__ import annotations

import json
import re
from typing import Any

from agentterm.llm.errors import BadResponse

# A lone surrogate cannot be encoded as UTF-8: SQLite, the terminal and every file refuse it.
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"
# SQLite's INTEGER is 64-bit signed; a count past this is a server fault, not a count.
MAX_COUNT = 2**63 - 1
_MAX_LABEL = 64


def clean_text(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(REPLACEMENT, text)


def content_text(value: Any, where: str, what: str = "answer") -> str:
    """A delta's `content` as text: a string, or a list of parts joined; anything else refused.

    Parts that are not text (an image, say) are skipped; a number, a bool or an object where
    text should be is BadResponse, one line naming the server.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        pieces: list[str] = []
        for part in value:
            if isinstance(part, str):
                pieces.append(part)
            elif isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    pieces.append(text)
                elif text is not None:
                    raise _not_text(where, what, text)
            elif part is not None:
                raise _not_text(where, what, part)
        return clean_text("".join(pieces))
    raise _not_text(where, what, value)


def _not_text(where: str, what: str, value: Any) -> BadResponse:
    return BadResponse(f"{where} sent a piece of the {what} that is not text ({kind_of(value)}).")


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def optional_text(value: Any) -> str:
    """A string field that may be missing; anything that is not a string counts as missing."""
    return clean_text(value) if isinstance(value, str) else ""


def count(value: Any) -> int | None:
    """A token count: a non-negative int SQLite can hold, else None."""
    if type(value) is int and 0 <= value <= MAX_COUNT:
        return value
    return None


def label(value: Any) -> str | None:
    """A short name the server gave (model, finish_reason): a non-empty str, capped, else None."""
    if not isinstance(value, str) or not value:
        return None
    return clean_text(value[:_MAX_LABEL]) if len(value) > _MAX_LABEL else clean_text(value)


def finish_of(value: Any) -> str | None:
    """The finish_reason: None while the answer goes on ("" counts as none), else a str."""
    if value is None or value == "":
        return None
    return label(value) or "unknown"


def arguments_text(value: Any) -> str:
    """A tool call's arguments piece: servers send a string, a few an object already parsed."""
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value)
    try:
        return clean_text(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError):
        return ""
