"""open_store: the one way in, from a SQLite file's path or a postgresql:// URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentterm.redact import register_secret
from agentterm.store.errors import StoreError
from agentterm.store.target import Target, is_postgres, mask, parse_target

if TYPE_CHECKING:
    from agentterm.store.store import Store


def open_store(target: Target, *, password: str | None = None) -> Store:
    """The store at `target`: opened, migrated and recovered, as the SQLite Store always was.

    `password` is for PostgreSQL only, from the config's password_cmd; None leaves it to
    libpq's own sources ($PGPASSWORD, ~/.pgpass, a service file). It is never kept in the
    URL, so nothing that shows the target can show it.
    """
    if isinstance(target, str) and target != ":memory:":
        target = parse_target(target)
    if not is_postgres(target):
        from agentterm.store.store import Store

        return Store(target)
    if password:
        register_secret(password)
    from agentterm.store.store import Store

    try:
        return Store(target, password=password)
    except ModuleNotFoundError as error:
        if (error.name or "").startswith("psycopg"):
            raise StoreError(
                f"The store {mask(target)} is on PostgreSQL, which needs psycopg: "
                'pip install "agentterm[postgres]".'
            ) from None
        raise
