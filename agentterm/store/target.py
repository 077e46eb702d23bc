"""Which store: a SQLite file's path or a PostgreSQL URL, and how to show one (password masked)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from agentterm.redact import register_secret
from agentterm.store.errors import StoreError

PG_SCHEMES = ("postgresql", "postgres")
MASK = "***"
# Anything that reads as scheme:// is a URL, never a file name (a file named "mysql://x" is not
# worth the confusion of creating one).
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# libpq's conninfo parameters that carry a password; never shown.
_SECRET_PARAMS = ("password", "sslpassword")

Target = Path | str
"""A SQLite file's Path, ":memory:", or a postgresql:// URL (a str)."""


def is_postgres(target: object) -> bool:
    return isinstance(target, str) and target.split("://", 1)[0].lower() in PG_SCHEMES and "://" in target


def parse_target(text: str | os.PathLike[str], base: Path | None = None) -> Target:
    """--db, $AGENTTERM_DB or the config's `store`: a postgresql URL as it is, else a file's Path.

    A relative path is taken from `base` (the config file's directory) when given. A URL of
    another scheme is refused in one line; the password of a postgresql URL is registered as a
    secret at once, so no error or log can show it afterwards.
    """
    raw = os.fspath(text)
    if raw == ":memory:":
        return raw
    if _URL.match(raw):
        scheme = raw.split("://", 1)[0].lower()
        if scheme not in PG_SCHEMES:
            raise StoreError(
                f"{mask(raw)} is not a store agentterm can open: give a SQLite file's path or a "
                "postgresql://user@host:port/dbname URL."
            )
        _register_password(raw)
        return raw
    path = Path(raw).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    return path


def mask(target: object) -> str:
    """The target as it may be shown: a URL's password (in the userinfo or the query) as ***."""
    text = os.fspath(target) if isinstance(target, os.PathLike) else str(target)
    if not _URL.match(text):
        return text
    try:
        parts = urlsplit(text)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            if ":" in userinfo:
                netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(key.lower() in _SECRET_PARAMS for key, _ in pairs):
                query = urlencode([(k, MASK if k.lower() in _SECRET_PARAMS else v) for k, v in pairs],
                                  safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        # Too malformed to take apart: show only the scheme, never a part that may be a password.
        return text.split("://", 1)[0] + "://" + MASK


def password_in(url: str) -> str | None:
    """The password written in the URL itself, if any (libpq's own sources are not read here)."""
    try:
        parts = urlsplit(url)
        if parts.password:
            return unquote(parts.password)
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key.lower() == "password" and value:
                return value
    except ValueError:
        return None
    return None


def with_user(url: str, user: str) -> str:
    """The URL with its user replaced (tests and `store copy` use it for a role of their own)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{quote(user, safe='')}@{host}", parts.path, parts.query, parts.fragment))


def _register_password(url: str) -> None:
    password = password_in(url)
    if password:
        register_secret(password)
        register_secret(quote(password, safe=""))
