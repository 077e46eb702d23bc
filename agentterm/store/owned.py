"""The sessions API's reads and writes as one user sees them: a foreign id is None, like a missing one."""

from __future__ import annotations

from typing import Any

from agentterm.models import Agent, Conversation
from agentterm.store.connection import StoreConnection
from agentterm.store.conversations import _SIDEBAR_ORDER, _conversation, conversation_columns
from agentterm.store.users import _owned


class OwnedMixin(StoreConnection):
    """Owner checks for the REST API: which agents a user may see or change, their sessions."""

    def agent_access(self, owner: str, agent_id: int, local_user: str | None = None) -> str | None:
        """"own" when the agent is `owner`'s, "shared" when shared by someone else, else None."""
        mine, params = _owned("owner", owner, local_user)
        row = self._one(f"SELECT {mine} AS mine, shared FROM agents WHERE id = ?", [*params, agent_id])
        if row is None:
            return None
        if row["mine"]:
            return "own"
        return "shared" if row["shared"] else None

    def agent_marks(self, agent_ids: list[int]) -> dict[int, dict[str, Any]]:
        """{agent id: {"owner", "shared"}}; an owner of None is the local user."""
        if not agent_ids:
            return {}
        marks = ", ".join("?" for _ in agent_ids)
        rows = self._query(f"SELECT id, owner, shared FROM agents WHERE id IN ({marks})", agent_ids)
        return {r["id"]: {"owner": r["owner"], "shared": bool(r["shared"])} for r in rows}

    def create_owned_agent(self, owner: str, name: str, **fields: Any) -> Agent:
        with self._write():
            agent = self.create_agent(name, **fields)
            self._run("UPDATE agents SET owner = ? WHERE id = ?", [owner, agent.id])
        return agent

    def set_agent_shared(self, agent_id: int, shared: bool) -> None:
        with self._write():
            self._run("UPDATE agents SET shared = ? WHERE id = ?", [int(shared), agent_id])

    def delete_owned_agent(self, owner: str, agent_id: int, local_user: str | None = None,
                           keep_sessions: bool = True) -> None:
        """Delete an agent; without keep_sessions its owner's sessions go to the trash. Other
        users' sessions with a shared agent are never theirs to trash: they stay, unlinked."""
        with self._write():
            if not keep_sessions:
                mine, params = _owned("owner", owner, local_user)
                self._run(
                    f"UPDATE conversations SET deleted_at = coalesce(deleted_at, ?)"
                    f" WHERE agent_id = ? AND {mine}",
                    [self._now_iso(), agent_id, *params],
                )
            self.delete_agent(agent_id, keep_conversations=True)

    def owned_session(self, owner: str, cid: int, local_user: str | None = None) -> Conversation | None:
        """The conversation with this id if it is `owner`'s, trashed or not."""
        mine, params = _owned("c.owner", owner, local_user)
        row = self._one(f"SELECT {conversation_columns(self._dialect)} FROM conversations c WHERE c.id = ? AND {mine}",
                        [cid, *params])
        return _conversation(row) if row else None

    def session_marks(self, cids: list[int]) -> dict[int, dict[str, Any]]:
        """{conversation id: {"session_key", "owner", "origin"}} for the API's session objects."""
        if not cids:
            return {}
        marks = ", ".join("?" for _ in cids)
        rows = self._query(f"SELECT id, session_key, owner, origin FROM conversations WHERE id IN ({marks})",
                           cids)
        return {r["id"]: {k: r[k] for k in ("session_key", "owner", "origin")} for r in rows}

    def list_owned_sessions(self, owner: str, local_user: str | None = None, *, view: str = "all",
                            agent_id: int | None = None, tag: str | None = None, q: str | None = None,
                            after: tuple[int, str, int] | None = None, limit: int = 50) -> list[Conversation]:
        """A page of `owner`'s conversations in sidebar order, after the cursor
        (pinned, last_activity_at, id) of the last one of the page before.

        q: full text over titles and message text (see SearchMixin.matching_conversations)."""
        where, params = self._conversation_filter(view, agent_id, tag, None)
        mine, owned = _owned("c.owner", owner, local_user)
        terms, values = [where, mine], [*params, *owned]
        if q is not None and q.strip():
            ids = self.matching_conversations(q, " AND ".join(terms), values)
            if not ids:
                return []
            terms.append(f"c.id IN ({', '.join('?' for _ in ids)})")
            values += ids
        if after is not None:
            terms.append("(c.pinned, c.last_activity_at, c.id) < (?, ?, ?)")
            values += list(after)
        if q is not None and q.strip():
            # The matching ids sorted by their keys first, the page's columns (its tags) after:
            # the sorter would otherwise make every match's columns for a page of 50.
            page = self._query(
                f"SELECT c.id FROM conversations c WHERE {' AND '.join(terms)}"
                f" ORDER BY {_SIDEBAR_ORDER} LIMIT ?",
                [*values, limit],
            )
            terms, values = [f"c.id IN ({', '.join('?' for _ in page)})"], [r["id"] for r in page]
            if not page:
                return []
        rows = self._query(
            f"SELECT {conversation_columns(self._dialect)} FROM conversations c WHERE {' AND '.join(terms)}"
            f" ORDER BY {_SIDEBAR_ORDER} LIMIT ?",
            [*values, limit],
        )
        return [_conversation(row) for row in rows]
