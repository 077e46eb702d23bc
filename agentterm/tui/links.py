"""Which links from an answer may be opened, and the host a browser would reach."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote, unquote_to_bytes, urlsplit

class LinkRefused(ValueError):
    """A link that is not opened; the message says why in one line."""


@dataclass(frozen=True)
class Link:
    url: str
    """Exactly what the browser is handed."""
    host: str
    """Where it goes, as the browser reads it (punycode for a non-ASCII name)."""


HIDING = ("Cc", "Cf", "Zl", "Zp")
"""Cc: C0/C1 controls (tab, CR, LF, NUL, ESC), which browsers drop or act on, so what is shown
would not be what is opened (issue 8.11); Cf: format characters (bidi overrides, zero-width
joiners) that make a URL read otherwise than it goes; line and paragraph separators."""


def _has_control(text: str, categories: tuple[str, ...] = HIDING) -> bool:
    return any(unicodedata.category(ch) in categories for ch in text)


def check_link(url: str) -> Link:
    """The link as it will be opened, or LinkRefused with the reason."""
    if _has_control(url, HIDING + ("Zs",)):
        raise LinkRefused("This link holds control characters or spaces, which would hide where it goes.")
    if _has_control(unquote(url, errors="replace")):
        raise LinkRefused("This link holds encoded control characters (such as %0A), which would "
                          "hide where it goes.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError as error:
        raise LinkRefused(f"This link is malformed: {error}.") from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = parts.scheme or "no scheme"
        raise LinkRefused(f"Only http and https links open from an answer; this one is {shown}.")
    if "@" in parts.netloc or "\\" in parts.netloc or "@" in unquote_to_bytes(parts.netloc).decode(
            "utf-8", "replace"):
        raise LinkRefused("This link carries a user name or password before its host "
                          "(user@host), a way to disguise where it goes.")
    host = parts.hostname or ""
    if not host:
        raise LinkRefused("This link names no host.")
    if "%" in host:
        raise LinkRefused("This link's host is percent-encoded, a way to disguise where it goes.")
    try:
        shown_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise LinkRefused("This link's host is not a valid name.") from None
    return Link(url, shown_host)
