"""Users, their API tokens (only sha256 hashes stored), and the owner-scoped reads the server does."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from agentterm.models import Agent, Conversation
from agentterm.store.connection import StoreConnection
from agentterm.store.errors import StoreError

TOKEN_PREFIX = "at_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _owned(column: str, owner: str, local_user: str | None) -> tuple[str, list[Any]]:
    """SQL matching rows of `owner`: the local user also owns the rows with no owner."""
    if local_user is not None and owner == local_user:
        return f"({column} = ? OR {column} IS NULL)", [owner]
    return f"{column} = ?", [owner]


class UsersMixin(StoreConnection):
    """Users and tokens; agents and conversations as one user sees them (a foreign id: None)."""

    def get_or_create_user(self, name: str) -> dict:
        name = name.strip()
        if not name or len(name) > 100 or not name.isprintable():
            raise StoreError("A user name must be 1 to 100 printable characters.")
        with self._write():
            row = self._one("SELECT * FROM users WHERE name = ?", [name])
            if row is None:
                self._run("INSERT INTO users (name, created_at) VALUES (?, ?)", [name, self._now_iso()])
                row = self._one("SELECT * FROM users WHERE name = ?", [name])
        return row

    create_user = get_or_create_user

    def create_token(self, user: str, name: str = "") -> tuple[str, dict]:
        """A new token for `user` (made if new): the token itself, shown once, and its row."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._write():
            owner = self.get_or_create_user(user)
            token_id = self._insert("tokens", {
                "user_id": owner["id"], "name": name.strip(), "token_hash": hash_token(token),
                "prefix": token[:8], "created_at": self._now_iso(),
            })  # fmt: skip
        return token, self._token_row(token_id)

    def _token_row(self, token_id: int) -> dict:
        return self._one(
            "SELECT t.id, t.name, t.prefix, u.name AS user, t.created_at, t.last_used_at,"
            " t.revoked_at FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?",
            [token_id],
        )

    def verify_token(self, token: str) -> str | None:
        """The user name a live token belongs to (its last use recorded), else None."""
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        row = self._one(
            "SELECT t.id, u.name, t.last_used_at FROM tokens t JOIN users u ON u.id = t.user_id"
            " WHERE t.token_hash = ? AND t.revoked_at IS NULL",
            [hash_token(token)],
        )
        if row is None:
            return None
        # Recorded to the minute: a write on every request would serialise a busy server's
        # requests on the store's one writer for a figure nobody reads closer than that.
        now = self._now_iso()
        if (row["last_used_at"] or "")[:16] != now[:16]:
            with self._write():
                self._run("UPDATE tokens SET last_used_at = ? WHERE id = ?", [now, row["id"]])
        return row["name"]

    def list_tokens(self) -> list[dict]:
        ids = [r["id"] for r in self._query("SELECT id FROM tokens ORDER BY id")]
        return [self._token_row(i) for i in ids]

    def revoke_token(self, id_or_prefix: str | int) -> dict:
        """Revoke a token by id or by its prefix (as `tokens list` shows it); its row after."""
        text = str(id_or_prefix).strip()
        rows = self._query(
            "SELECT id FROM tokens WHERE id = ? OR prefix = ?",
            [int(text) if text.isdigit() else -1, text],
        )
        if not rows:
            raise StoreError(f"There is no token {text!r}: see `agentterm tokens list`.")
        if len(rows) > 1:
            raise StoreError(f"{text!r} matches several tokens: revoke by id.")
        with self._write():
            self._run(
                "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
                [self._now_iso(), rows[0]["id"]],
            )
        return self._token_row(rows[0]["id"])

    # --- ownership -----------------------------------------------------------------------

    def set_agent_owner(self, agent_id: int, owner: str | None, shared: bool = False) -> None:
        with self._write():
            self._run(
                "UPDATE agents SET owner = ?, shared = ? WHERE id = ?",
                [owner, int(shared), agent_id],
            )

    def visible_agents(self, owner: str, local_user: str | None = None,
                       statuses: tuple[str, ...] = ("active",)) -> list[Agent]:
        """The agents `owner` may use: their own and the shared ones."""
        if not statuses:
            return []  # `IN ()` is SQLite's alone
        mine, params = _owned("owner", owner, local_user)
        marks = ", ".join("?" for _ in statuses)
        rows = self._query(
            f"SELECT id FROM agents WHERE ({mine} OR shared = 1) AND status IN ({marks})"
            " ORDER BY name",
            [*params, *statuses],
        )
        return [self.get_agent(row["id"]) for row in rows]

    def visible_agent(self, owner: str, name: str, local_user: str | None = None) -> Agent | None:
        """The agent named `name` (or with that id) if `owner` may use it, whatever its status."""
        mine, params = _owned("owner", owner, local_user)
        row = self._one(
            f"SELECT id FROM agents WHERE ({mine} OR shared = 1)"
            " AND (name = ? COLLATE NOCASE OR CAST(id AS TEXT) = ?)",
            [*params, name, name],
        )
        return self.get_agent(row["id"]) if row else None

    def owned_conversation(self, owner: str, session_key: str,
                           local_user: str | None = None) -> Conversation | None:
        """The conversation of `owner` with this session key, or with this id (the REST API's),
        not trashed. A key that is also another conversation's id names the key's."""
        mine, params = _owned("owner", owner, local_user)
        row = self._one(
            f"SELECT id FROM conversations WHERE {mine} AND deleted_at IS NULL"
            " AND (session_key = ? OR CAST(id AS TEXT) = ?)"
            " ORDER BY CASE WHEN session_key = ? THEN 0 ELSE 1 END LIMIT 1",
            [*params, session_key, session_key, session_key],
        )
        return self.get_conversation(row["id"]) if row else None

    def create_owned_conversation(self, agent_id: int, owner: str, session_key: str | None,
                                  *, origin: str = "api", ephemeral: bool = False) -> Conversation:
        with self._write():
            conversation = self.create_conversation(agent_id)
            self._run(
                "UPDATE conversations SET owner = ?, session_key = ?, origin = ?, ephemeral = ?"
                " WHERE id = ?",
                [owner, session_key, origin, int(ephemeral), conversation.id],
            )
        return conversation

    def conversation_session_key(self, cid: int) -> str | None:
        row = self._one("SELECT session_key FROM conversations WHERE id = ?", [cid])
        return row["session_key"] if row else None

    def session_taken(self, session_key: str) -> bool:
        """Whether any conversation, of any owner, answers to this session key."""
        return self._one(
            "SELECT 1 AS x FROM conversations WHERE session_key = ?", [session_key]
        ) is not None
