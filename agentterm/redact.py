"""The process's secrets (keys, api_key_cmd values and outputs) and `scrub`, which hides them in any text."""

from __future__ import annotations

import re
import shutil
import threading

# Every secret seen in this process. Any text bound for a screen, a log, an error or the store
# can be scrubbed of them all, however it was built: a server may echo a key back.
_secrets: set[str] = set()
_lock = threading.Lock()
# Key-shaped tokens (sk-..., including the partly masked forms servers echo) are hidden too.
_KEY_SHAPED = re.compile(r"\b(?:sk|rk|pk)-[A-Za-z0-9_\-*.]{6,}")
HIDDEN = "[key hidden]"
_MIN_SECRET = 4  # shorter strings are too common to hide everywhere
_MIN_ARGUMENT = 8  # an api_key_cmd argument this long may be a key passed to `echo`


def register_secret(secret: str | None) -> None:
    """Remember a secret so that `scrub` hides it from now on."""
    if secret and len(secret) >= _MIN_SECRET:
        with _lock:
            _secrets.add(secret)
            stripped = secret.strip()
            if len(stripped) >= _MIN_SECRET:
                _secrets.add(stripped)


def register_command(value: list[str] | str | None, argv: list[str]) -> None:
    """api_key_cmd's value is a secret too: a key is pasted there by mistake, or passed as an argument.

    The whole command line, each long argument, and the program itself when it looks like a
    key rather than a program (a long token with digits, no path, not found on PATH).
    """
    if not value:
        return
    register_secret(value if isinstance(value, str) else " ".join(value))
    for part in argv[1:]:
        if len(part) >= _MIN_ARGUMENT:
            register_secret(part)
    if argv and looks_like_key(argv[0]):
        register_secret(argv[0])


def looks_like_key(word: str) -> bool:
    """A long token with letters and digits, no path, not a program on PATH: a key pasted there."""
    return (len(word) >= 16 and "/" not in word and "\\" not in word
            and any(c.isdigit() for c in word) and any(c.isalpha() for c in word)
            and shutil.which(word) is None)


def scrub(text: str) -> str:
    """`text` with every registered secret and key-shaped token replaced by "[key hidden]"."""
    if not isinstance(text, str):
        text = str(text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, HIDDEN)
    return _KEY_SHAPED.sub(HIDDEN, text)


def is_secret(text: str) -> bool:
    """Whether `text` holds a registered secret."""
    return scrub(text) != text


class ScrubFilter:
    """`scrub` for a stream: a key split across chunks is hidden too.

    Keys hold no whitespace, so the last word of what came is held back until the next
    whitespace (or the end) shows it whole.
    """

    MAX_HOLD = 256

    def __init__(self) -> None:
        self._held = ""

    def feed(self, chunk: str) -> str:
        text = self._held + chunk
        cut = max(text.rfind(" "), text.rfind("\n"), text.rfind("\t")) + 1
        if len(text) - cut > self.MAX_HOLD:
            cut = len(text)
        self._held = text[cut:]
        return scrub(text[:cut])

    def flush(self) -> str:
        held, self._held = self._held, ""
        return scrub(held)
