"""Agents to and from TOML files, with errors that name the file, the line and the field."""

from __future__ import annotations

import json
import math
import re
import tomllib
import unicodedata
from typing import Any

import tomli_w

from agentterm.models import AGENT_FIELDS, AGENT_NAME_MAX, AGENT_STATUSES, Agent

TOOL_APPROVALS = ("ask", "auto")
# Deeper than any real agent needs; the parsers recurse, and a file must not crash them.
MAX_DEPTH = 32

FORMAT = "agentterm.agent"
FORMAT_VERSION = 1

# The order the fields are written in, and the only ones an agent file may set.
FIELDS = AGENT_FIELDS
DEFAULTS: dict[str, Any] = {
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
_MARKER_KEYS = ("format", "format_version", "extra_json")


class AgentFileError(ValueError):
    """An agent file that cannot be read; the message names the file, line and field."""

    def __init__(self, source: str, message: str, *, line: int | None = None, field: str | None = None,
                 errors: dict[str, str] | None = None):
        self.source = source
        self.line = line
        self.field = field
        self.errors = errors if errors is not None else ({field: message} if field else {})
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}: {message}")


def _number(value: Any) -> float | None:
    """The value as a finite number, or None: booleans and NaN are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return float(value)


def validate_fields(fields: dict[str, Any]) -> dict[str, str]:
    """Field -> why it is invalid ("must be a number"), for the fields present; {} when valid.

    The store's rules and wording, except uniqueness of the name, which needs the store.
    """
    errors: dict[str, str] = {}
    if "name" in fields:
        name = fields["name"]
        if not isinstance(name, str):
            errors["name"] = "must be text"
        elif not name.strip():
            errors["name"] = "is required"
        elif len(name.strip()) > AGENT_NAME_MAX:
            errors["name"] = f"must be at most {AGENT_NAME_MAX} characters (it has {len(name.strip())})"
        elif any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
            errors["name"] = "must not contain control characters or line breaks"
    for key in ("description", "instructions"):
        if fields.get(key) is not None and not isinstance(fields[key], str):
            errors[key] = "must be text"
    for key in ("provider", "model"):
        if fields.get(key) is not None and not isinstance(fields[key], str):
            errors[key] = "must be text"
    if fields.get("status") == "retired":
        fields["status"] = "inactive"  # the word users read for the stored one
    if "status" in fields and fields["status"] not in AGENT_STATUSES:
        errors["status"] = "must be one of active, paused, retired"
    for key, high in (("temperature", 2.0), ("top_p", 1.0)):
        if fields.get(key) is None:
            continue
        number = _number(fields[key])
        if number is None:
            errors[key] = "must be a number"
        elif not 0.0 <= number <= high:
            errors[key] = f"must be between 0 and {high:g}"
    value = fields.get("max_tokens")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        errors["max_tokens"] = "must be a positive whole number"
    if "extra" in fields and not isinstance(fields["extra"], dict):
        errors["extra"] = 'must be a JSON object, like {"seed": 7}'
    if "mcp_servers" in fields and (why := _names_fault(fields["mcp_servers"], 'server names, like ["time", "docs"]')):
        errors["mcp_servers"] = why
    if fields.get("allowed_tools") is not None:
        why = _names_fault(fields["allowed_tools"], 'server.tool names, like ["time.get_current_time"]')
        if why is None and not all(_is_qualified(name) for name in fields["allowed_tools"]):
            why = 'must name tools as server.tool, like "time.get_current_time"'
        if why:
            errors["allowed_tools"] = why
    if "tool_approval" in fields and fields["tool_approval"] not in TOOL_APPROVALS:
        errors["tool_approval"] = "must be one of " + ", ".join(TOOL_APPROVALS)
    return errors


def _names_fault(value: Any, what: str) -> str | None:
    """Why a list of names is not one, or None."""
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        return f"must be a list of {what}"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for item in value for ch in item):
        return "must not contain control characters or line breaks"
    return None


def _is_qualified(name: str) -> bool:
    server, dot, tool = name.strip().partition(".")
    return bool(dot and server and tool)


def _depth(value: Any) -> int:
    """How deeply arrays and tables nest in a value, counted without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


def _has_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_null(v) for v in value)
    return False


def agent_to_toml(agent: Agent) -> str:
    """The agent as an agent file: a format marker, then its fields (unset ones left out)."""
    doc: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION}
    for key in FIELDS:
        value = getattr(agent, key)
        if value is None or key == "extra":
            continue
        doc[key] = value
    extra = agent.extra or {}
    if extra:
        # TOML has no null: an extra object holding one is kept whole as JSON instead.
        if _has_null(extra):
            doc["extra_json"] = json.dumps(extra, ensure_ascii=False)
        else:
            doc["extra"] = extra
    header = "# agentterm agent: import with `agentterm agents import FILE`\n"
    return header + tomli_w.dumps(doc, multiline_strings=True)


def _line_of(text: str, key: str) -> int | None:
    """The line where a top-level key is set, for pointing at it in an error."""
    pattern = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*=|^\s*\[{re.escape(key)}[\].]")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _decode_error_line(error: tomllib.TOMLDecodeError) -> tuple[str, int | None]:
    message = str(error)
    match = re.search(r"\s*\(at line (\d+), column \d+\)$", message)
    if match:
        return message[: match.start()], int(match.group(1))
    match = re.search(r"\s*\(at end of document\)$", message)
    if match:
        return message[: match.start()] + " at the end of the file", None
    return message, None


def agent_from_toml(text: str, source: str = "file") -> dict[str, Any]:
    """The agent fields an agent file sets, every field present (defaults filled in).

    Raises AgentFileError for malformed TOML, another file format, unknown or invalid fields.
    """
    too_deep = f"is nested too deeply (arrays or tables more than {MAX_DEPTH} levels deep); an agent needs a few"
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message, line = _decode_error_line(error)
        raise AgentFileError(source, f"not valid TOML: {message}", line=line) from None
    except RecursionError:
        raise AgentFileError(source, f"this file {too_deep}") from None

    def fail(key: str, why: str) -> AgentFileError:
        return AgentFileError(source, f"{key} {why}", line=_line_of(text, key), field=key)

    for key, value in doc.items():
        if _depth(value) > MAX_DEPTH:
            raise fail(key, too_deep)

    marker = doc.get("format")
    if marker is not None and marker != FORMAT:
        raise fail("format", f"is {marker!r}, not {FORMAT!r}: this is not an agent file")
    version = doc.get("format_version", FORMAT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int):
        raise fail("format_version", "must be a whole number")
    if version > FORMAT_VERSION:
        raise fail("format_version", f"version {version} is newer than this agentterm reads ({FORMAT_VERSION})")

    unknown = [key for key in doc if key not in FIELDS and key not in _MARKER_KEYS]
    if unknown:
        raise fail(unknown[0], "is not an agent field (the fields are " + ", ".join(FIELDS) + ")")
    if "name" not in doc:
        raise AgentFileError(source, "name is required", field="name")

    fields: dict[str, Any] = {key: value for key, value in DEFAULTS.items() if key in FIELDS}
    fields.update({key: doc[key] for key in FIELDS if key in doc})
    if "extra_json" in doc:
        if "extra" in doc:
            raise fail("extra_json", "cannot be set together with extra")
        raw = doc["extra_json"]
        try:
            fields["extra"] = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError as error:
            raise fail("extra_json", f"is not valid JSON: {error.msg}") from None
        except RecursionError:
            raise fail("extra_json", too_deep) from None
        if _depth(fields["extra"]) > MAX_DEPTH:
            raise fail("extra_json", too_deep)
        if not isinstance(fields["extra"], dict):
            raise fail("extra_json", 'must hold a JSON object, like {"seed": 7}')

    # An integer is a number too; a whole-number float is not a token count.
    for key in ("temperature", "top_p"):
        value = fields[key]
        if isinstance(value, int) and not isinstance(value, bool):
            fields[key] = float(value)
    errors = validate_fields(fields)
    keys = [k for k in FIELDS if k in errors]
    if len(keys) == 1:
        raise fail(keys[0], errors[keys[0]])
    if keys:
        # Every bad field at once, so one round of edits fixes the file.
        parts = [(f"line {line}: " if (line := _line_of(text, k)) else "") + f"{k} {errors[k]}" for k in keys]
        raise AgentFileError(source, f"{len(keys)} fields are invalid: " + "; ".join(parts),
                             field=keys[0], errors={k: errors[k] for k in keys})
    return fields
