"""Agent fields and titles checked and put in stored form, with a reason when they cannot be."""

from __future__ import annotations

import json
import math
import unicodedata
from typing import Any

from agentterm.models import AGENT_FIELDS, AGENT_NAME_MAX, AGENT_STATUSES, TOOL_APPROVALS

AGENT_DEFAULTS: dict[str, Any] = {
    "description": "",
    "status": "active",
    "provider": None,
    "model": None,
    "instructions": "",
    "temperature": None,
    "top_p": None,
    "max_tokens": None,
    "extra": {},
    "mcp_servers": [],
    "allowed_tools": None,
    "tool_approval": "ask",
}
# Fields stored as JSON text.
JSON_FIELDS = frozenset({"extra", "mcp_servers", "allowed_tools"})


class _Invalid(Exception):
    pass


def normalise_agent_fields(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields in stored form, and {field: reason} for those that cannot be stored.

    Values may come straight from a form: numbers as text, empty text meaning "not set", extra
    as JSON text. NaN, infinities and booleans are not numbers.
    """
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, value in fields.items():
        check = _CHECKS.get(key)
        if check is None:
            errors[key] = "is not an agent field"
            continue
        try:
            clean[key] = check(value)
        except _Invalid as invalid:
            errors[key] = str(invalid)
    return clean, errors


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("must be text")
    name = value.strip()
    if not name:
        raise _Invalid("is required")
    if len(name) > AGENT_NAME_MAX:
        raise _Invalid(f"must be at most {AGENT_NAME_MAX} characters (it has {len(name)})")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise _Invalid("must not contain control characters or line breaks")
    return name


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Invalid("must be text")
    return value


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid("must be text")
    return value.strip() or None


def _status(value: Any) -> str:
    # "retired" is the word users read for the stored "inactive" (a TOML file may say either).
    if value == "retired":
        return "inactive"
    if value not in AGENT_STATUSES:
        raise _Invalid("must be one of active, paused, retired")
    return value


def _number(low: float, high: float):
    def check(value: Any) -> float | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            raise _Invalid("must be a number")
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise _Invalid("must be a number") from None
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _Invalid("must be a number")
        if not low <= value <= high:
            raise _Invalid(f"must be between {low:g} and {high:g}")
        return float(value)

    return check


def _max_tokens(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    reason = "must be a positive whole number"
    if isinstance(value, bool):
        raise _Invalid(reason)
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise _Invalid(reason) from None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value <= 0:
        raise _Invalid(reason)
    return value


def _extra(value: Any) -> dict[str, Any]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    reason = 'must be a JSON object, like {"seed": 7}'
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _Invalid(reason) from None
    if not isinstance(value, dict):
        raise _Invalid(reason)
    try:
        # Round-trip so what is stored is exactly what a request will send.
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        raise _Invalid(reason) from None


def _names(value: Any) -> list[str]:
    """A list of names: each trimmed, non-empty, once (first spelling kept, order kept).

    Text (from a form) is split at commas and whitespace.
    """
    if value is None:
        return []
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, (list, tuple)):
        raise _Invalid("must be a list of names")
    names: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise _Invalid("must be a list of names, none of them empty")
        name = item.strip()
        if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
            raise _Invalid("must not contain control characters or line breaks")
        if name not in names:
            names.append(name)
    return names


def _optional_names(value: Any) -> list[str] | None:
    """None (every tool of the agent's servers) or a list of names as _names reads them."""
    return None if value is None else _names(value)


def _tool_approval(value: Any) -> str:
    if value not in TOOL_APPROVALS:
        raise _Invalid(f"must be one of {', '.join(TOOL_APPROVALS)}")
    return value


_CHECKS = {
    "name": _name,
    "description": _text,
    "status": _status,
    "provider": _optional_text,
    "model": _optional_text,
    "instructions": _text,
    "temperature": _number(0, 2),
    "top_p": _number(0, 1),
    "max_tokens": _max_tokens,
    "extra": _extra,
    "mcp_servers": _names,
    "allowed_tools": _optional_names,
    "tool_approval": _tool_approval,
}


MAX_TITLE = 500  # characters: a sidebar row shows about 30; anything this long is not a title


def checked_title(title: str) -> str:
    """A title someone gives (a rename, a new conversation): cleaned, and refused when too long."""
    from agentterm.store.errors import ValueRefused

    text = clean_title(title)
    if len(text) > MAX_TITLE:
        raise ValueRefused(f"A title is at most {MAX_TITLE} characters, and this one has "
                           f"{len(text)}: give a shorter one.")
    return text


def clean_title(title: str) -> str:
    """One line, no control characters, spaces collapsed."""
    text = " ".join(str(title).split())
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
