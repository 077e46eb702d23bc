"""Reading a file to import (agentterm JSON, ChatGPT's conversations.json): for the command
line and the app alike, with one clear line for anything that is not readable."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

_INT64 = 2**63


class ImportFileError(Exception):
    """Why the file could not be read, as one line, with what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def load_json(source: str, what: str, *, files_only: bool = False) -> Any:
    """The JSON in a file (or stdin for -). `files_only` (the app) refuses a pipe or a device:
    a FIFO with no writer blocks the read for ever (it ran on the store's thread, so the app
    froze, ctrl+q too), and /dev/zero never ends. The CLI reads them: `import <(...)` is a pipe."""
    hint = f"Import {what}."
    try:
        if source == "-":
            raw = sys.stdin.buffer.read()
        else:
            path = Path(source).expanduser()
            if path.is_dir():
                raise ImportFileError(f"{source} is a directory.", "Give the path of a file.")
            if files_only and path.exists() and not path.is_file():
                raise ImportFileError(f"{source} is not a regular file (a pipe or a device).",
                                      "Save the export to a file and import that.")
            raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as error:
        raise ImportFileError(f"cannot read {source}: {(error.strerror or str(error)).lower()}.",
                              "Check the path.") from None
    except UnicodeDecodeError:
        raise ImportFileError(f"{source} is not UTF-8 text.", hint) from None
    try:
        return json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as error:
        raise ImportFileError(f"{source}, line {error.lineno}, column {error.colno}: not valid JSON "
                              f"({error.msg}).", hint) from None
    except RecursionError:
        raise ImportFileError(f"{source} is nested too deeply to read; nothing was imported.",
                              hint) from None


def load_conversations(source: str, *, files_only: bool = False) -> list[Any]:
    """The conversations in an agentterm or ChatGPT JSON export (one object, or a list)."""
    data = load_json(source, "an agentterm or ChatGPT JSON export", files_only=files_only)
    items = data if isinstance(data, list) else [data]
    if not items:
        raise ImportFileError(f"{source} holds no conversations.",
                              "Import an agentterm or ChatGPT JSON export.")
    return items


def _bounded_int(digits: str) -> int | float:
    # Beyond 64 bits no field of ours means anything; Python would refuse past 4,300 digits.
    if len(digits.lstrip("-")) > 19:
        return float("inf")
    value = int(digits)
    return value if -_INT64 <= value < _INT64 else float("inf")
