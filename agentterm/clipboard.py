"""Copying to the system clipboard with a native tool (the app adds the terminal's OSC 52)."""

from __future__ import annotations

import os
import shutil
import subprocess

# Each tool with the environment variable that says its display is there (None: always usable).
TOOLS: list[tuple[list[str], str | None]] = [
    (["wl-copy"], "WAYLAND_DISPLAY"),
    (["xclip", "-selection", "clipboard"], "DISPLAY"),
    (["xsel", "--clipboard", "--input"], "DISPLAY"),
    (["pbcopy"], None),
]


def native_copy(text: str) -> str | None:
    """Copy with the first clipboard tool that works here; its name, or None when none did."""
    for command, display_var in TOOLS:
        if display_var is not None and not os.environ.get(display_var):
            continue
        if shutil.which(command[0]) is None:
            continue
        try:
            # The tools fork a child that keeps serving the selection: never wait on its output.
            subprocess.run(command, input=text.encode("utf-8"), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=3, check=True)
        except (OSError, subprocess.SubprocessError):
            continue
        return command[0]
    return None


def copy_report(what: str, tool: str | None, osc52: bool) -> tuple[str, str]:
    """What to tell the user, and the notification severity, after a copy."""
    if tool and osc52:
        return f"Copied {what} (with {tool}, and through the terminal).", "information"
    if tool:
        return f"Copied {what} with {tool}.", "information"
    if osc52:
        return (f"Sent {what} to the terminal's clipboard (OSC 52). No clipboard tool was found "
                "(wl-copy, xclip, xsel, pbcopy): if nothing was copied, your terminal blocks OSC 52; "
                "install one of those tools.", "warning")
    return (f"Could not copy {what}: this terminal cannot take it and no clipboard tool "
            "(wl-copy, xclip, xsel, pbcopy) was found. Export the conversation instead.", "error")
