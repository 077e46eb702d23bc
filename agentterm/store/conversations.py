"""The store's conversations: the sidebar's pages and views, titles, tags, the trash, stats."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from typing import Any

from agentterm.models import Conversation, from_iso, to_iso
from agentterm.store.agents import agents_seen_by
from agentterm.store.connection import StoreConnection
from agentterm.store.errors import GoneError, StoreError
from agentterm.store.port import Dialect
from agentterm.store.validation import checked_title, clean_title

VIEWS = ("inbox", "archive", "trash", "all")
# Each matches its partial index in migration 1 term for term, so SQLite picks that index.
_VIEW_WHERE = {
    "inbox": "c.archived_at IS NULL AND c.deleted_at IS NULL",
    "archive": "c.archived_at IS NOT NULL AND c.deleted_at IS NULL",
    "all": "c.deleted_at IS NULL",
    "trash": "c.deleted_at IS NOT NULL",
}
_SIDEBAR_ORDER = "c.pinned DESC, c.last_activity_at DESC, c.id DESC"


def seen_by(owner: str | None, alias: str = "c") -> tuple[str, list[Any]]:
    """SQL for the conversations the local user `owner` sees (the app and the CLI): theirs and
    those with no owner (m006: NULL is the local user); other users' (made through
    `agentterm serve`) are left out. None: every conversation (a filter that filters nothing)."""
    if owner is None:
        return "1 = 1", []
    return f"({alias}.owner IS NULL OR {alias}.owner = ?)", [owner]


@cache
def conversation_columns(dialect: Dialect) -> str:
    """Every conversation column but none from messages: the sidebar never reads a message body."""
    return f"""
    c.id, c.title, c.title_source, c.agent_id, c.agent_name, c.pinned, c.archived_at,
    c.deleted_at, c.created_at, c.last_activity_at, c.message_count, c.tokens, c.draft,
    c.parent_id, c.forked_from_message_id, c.model, c.provider, c.instructions_override,
    c.context_from, c.context_cut_at,
    (SELECT {dialect.array("tag")}
       FROM (SELECT tag FROM tags WHERE conversation_id = c.id ORDER BY tag) t) AS tags
"""


class ConversationsMixin(StoreConnection):
    """Conversations: created, listed in sidebar order, renamed, tagged, archived, trashed."""

    def create_conversation(self, agent_id: int | None = None, title: str = "") -> Conversation:
        """A new conversation; a title given here counts as automatic, so a generated one may
        replace it (only a rename by the user is kept over a generated title). Not length-checked:
        a title given by a person comes through rename_conversation, which is."""
        title = clean_title(title)
        now = self._now_iso()
        with self._write():
            agent_name = self._require_agent(agent_id).name if agent_id is not None else None
            cid = self._insert("conversations", {
                "title": title, "title_source": "auto" if title else None,
                "agent_id": agent_id, "agent_name": agent_name,
                "created_at": now, "last_activity_at": now,
            })  # fmt: skip
        return self._require_conversation(cid)

    def get_conversation(self, cid: int) -> Conversation | None:
        row = self._one(
            f"SELECT {conversation_columns(self._dialect)} FROM conversations c WHERE c.id = ?",
            [cid],
        )
        return _conversation(row) if row else None

    def _require_conversation(self, cid: int) -> Conversation:
        conversation = self.get_conversation(cid)
        if conversation is None:
            raise StoreError(f"There is no conversation with id {cid}.")
        return conversation

    def list_conversations(
        self,
        *,
        view: str = "inbox",
        agent_id: int | None = None,
        tag: str | Sequence[str] | None = None,
        query: str | None = None,
        limit: int = 200,
        offset: int = 0,
        owner: str | None = None,
    ) -> list[Conversation]:
        """A page of conversations in sidebar order: pinned first, then by last activity.

        view: "inbox" (neither archived nor trashed), "archive", "trash", or "all" (everything
        but the trash). query filters titles (case-insensitive substring). tag: a tag, or
        several that must all be there; each ignores case. owner: only what that local user
        sees (seen_by); None: everyone's.
        """
        where, params = self._conversation_filter(view, agent_id, tag, query, owner)
        rows = self._query(
            f"SELECT {conversation_columns(self._dialect)} FROM conversations c WHERE {where}"
            f" ORDER BY {_SIDEBAR_ORDER} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_conversation(row) for row in rows]

    def _conversation_filter(
        self, view: str, agent_id: int | None, tag: str | Sequence[str] | None, query: str | None,
        owner: str | None = None,
    ) -> tuple[str, list[Any]]:
        if view not in _VIEW_WHERE:
            raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
        terms, params = [_VIEW_WHERE[view]], []
        if owner is not None:
            mine, params = seen_by(owner)
            terms.append(mine)
        if agent_id is not None:
            terms.append("c.agent_id = ?")
            params.append(agent_id)
        for one in [tag] if isinstance(tag, str) else tag or ():
            if not one.strip():
                continue
            # Ignoring case (--tag Python finds "python"), through tags_tag_nocase.
            terms.append(
                "c.id IN (SELECT conversation_id FROM tags WHERE tag = ? COLLATE NOCASE)"
            )
            params.append(one.strip())
        if query and query.strip():
            # lower() on both sides: SQLite's LIKE ignores (ASCII) case, PostgreSQL's does not.
            terms.append("lower(c.title) LIKE lower(?) ESCAPE '\\'")
            escaped = query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{escaped}%")
        return " AND ".join(terms), params

    def count_conversations(self, view: str = "inbox", owner: str | None = None) -> int:
        where, params = self._conversation_filter(view, None, None, None, owner)
        return self._one(f"SELECT count(*) AS n FROM conversations c WHERE {where}", params)["n"]

    def rename_conversation(self, cid: int, title: str, source: str = "user") -> Conversation:
        """Set the title; an empty title clears it, so an automatic one may come again."""
        if source not in ("auto", "user"):
            raise ValueError(f"source must be 'auto' or 'user', not {source!r}")
        title = checked_title(title)
        self._update_conversation(
            cid, "title = ?, title_source = ?", [title, source if title else None]
        )
        return self._require_conversation(cid)

    def set_auto_title(self, cid: int, title: str) -> bool:
        """Set a generated title, unless the user has named the conversation (then False)."""
        title = clean_title(title)
        if not title:
            return False
        with self._write():
            changed = self._run(
                "UPDATE conversations SET title = ?, title_source = 'auto'"
                " WHERE id = ? AND (title_source IS NULL OR title_source = 'auto')",
                [title, cid],
            )
        return changed > 0

    def _update_conversation(self, cid: int, assignments: str, params: list[Any]) -> None:
        with self._write():
            changed = self._run(
                f"UPDATE conversations SET {assignments} WHERE id = ?", [*params, cid]
            )
            if changed == 0:
                raise GoneError(
                    f"There is no conversation with id {cid} (it may have been deleted "
                    "elsewhere).",
                    conversation_id=cid,
                )

    def set_draft(self, cid: int, text: str) -> None:
        """Keep what is typed in the conversation's prompt and not sent ('' clears it).

        Not activity: a draft does not move the conversation up the sidebar.
        """
        if not isinstance(text, str):
            raise ValueError("draft must be text")
        self._update_conversation(cid, "draft = ?", [text])

    def override_conversation(self, cid: int, **overrides: str | None) -> Conversation:
        """Set the conversation's own `model`, `provider` or `instructions_override` for the
        next answers, over its agent's; None (or blank) goes back to the agent's. Fields not
        named are left as they are; each answer keeps the model that wrote it."""
        unknown = set(overrides) - {"model", "provider", "instructions_override"}
        if unknown:
            raise ValueError(f"cannot override {', '.join(sorted(unknown))}")
        values = {}
        for key, value in overrides.items():
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{key} must be text")
            if key != "instructions_override" and value is not None:
                value = value.strip()
            values[key] = value or None
        if values:
            assignments = ", ".join(f"{key} = ?" for key in values)
            self._update_conversation(cid, assignments, list(values.values()))
        return self._require_conversation(cid)

    def set_pinned(self, cid: int, pinned: bool) -> None:
        self._update_conversation(cid, "pinned = ?", [int(bool(pinned))])

    def set_tags(self, cid: int, tags: list[str]) -> None:
        """Replace the tags: trimmed, blanks dropped, each once (the first spelling kept).
        Control and format characters are dropped: a NUL or an escape made an invisible tag
        (shown as a bare '#' in the sidebar) that no #tag filter could name."""
        unique: dict[str, str] = {}
        for tag in tags:
            tag = " ".join("".join(ch for ch in str(tag) if ch.isprintable() or ch.isspace()).split())
            if tag and tag.casefold() not in unique:
                unique[tag.casefold()] = tag
        with self._write():
            self._require_conversation(cid)
            self._run("DELETE FROM tags WHERE conversation_id = ?", [cid])
            self._run_many(
                "INSERT INTO tags (conversation_id, tag) VALUES (?, ?)",
                [(cid, tag) for tag in unique.values()],
            )

    def archive(self, cid: int) -> None:
        self._update_conversation(cid, "archived_at = coalesce(archived_at, ?)", [self._now_iso()])

    def unarchive(self, cid: int) -> None:
        self._update_conversation(cid, "archived_at = NULL", [])

    def trash(self, cid: int) -> None:
        self._update_conversation(cid, "deleted_at = coalesce(deleted_at, ?)", [self._now_iso()])

    def restore(self, cid: int) -> None:
        self._update_conversation(cid, "deleted_at = NULL", [])

    def purge(self, cid: int) -> None:
        """Delete the conversation for good, with its messages and tags."""
        with self._write():
            if self._run("DELETE FROM conversations WHERE id = ?", [cid]) == 0:
                raise StoreError(f"There is no conversation with id {cid}.")

    def purge_trash(self, older_than_days: float) -> int:
        """Delete for good what has been in the trash at least that many days (0: all of it)."""
        if older_than_days < 0:
            raise ValueError("older_than_days must not be negative")
        cutoff = to_iso(self._now() - timedelta(days=older_than_days))
        with self._write():
            return self._run(
                "DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at <= ?",
                [cutoff],
            )

    def trash_idle_ephemeral(self, idle_seconds: float) -> int:
        """Move to the trash the conversations the API made without a session id (ephemeral)
        that saw nothing for `idle_seconds`, unless an answer is streaming in one; how many."""
        cutoff = to_iso(self._now() - timedelta(seconds=idle_seconds))
        with self._write():
            return self._run(
                "UPDATE conversations SET deleted_at = ? WHERE ephemeral = 1 AND deleted_at IS NULL"
                " AND last_activity_at < ? AND NOT EXISTS (SELECT 1 FROM messages m"
                " WHERE m.conversation_id = conversations.id AND m.status = 'streaming')",
                [self._now_iso(), cutoff],
            )

    def clear_messages(self, cid: int) -> int:
        """Delete every message, keeping the conversation; the number deleted."""
        with self._write():
            self._require_conversation(cid)
            return self._run("DELETE FROM messages WHERE conversation_id = ?", [cid])

    def relink_conversation(self, cid: int, agent_id: int | None) -> None:
        """Link to another agent (or to none), recording that agent's name."""
        with self._write():
            agent_name = self._require_agent(agent_id).name if agent_id is not None else None
            self._update_conversation(cid, "agent_id = ?, agent_name = ?", [agent_id, agent_name])

    def stats(self, owner: str | None = None) -> dict[str, Any]:
        """Counts for the dashboard. Conversations, messages and tokens leave out the trash.
        owner: what that local user sees (their own, unowned and shared agents); None: all.

        {"agents": {"active": n, "paused": n, "inactive": n}, "conversations": n,
         "archived": n, "trashed": n, "messages": n, "tokens": n}
        """
        agents = {status: 0 for status in ("active", "paused", "inactive")}
        usable, agent_params = agents_seen_by(owner, "agents")
        mine, params = seen_by(owner, "conversations")
        for row in self._query(f"SELECT status, count(*) AS n FROM agents WHERE {usable} GROUP BY status",
                               agent_params):
            agents[row["status"]] = row["n"]
        row = self._one(
            """SELECT count(*) FILTER (WHERE deleted_at IS NULL) AS conversations,
                      count(*) FILTER (WHERE deleted_at IS NULL AND archived_at IS NOT NULL)
                          AS archived,
                      count(*) FILTER (WHERE deleted_at IS NOT NULL) AS trashed,
                      coalesce(sum(message_count) FILTER (WHERE deleted_at IS NULL), 0)
                          AS messages,
                      coalesce(sum(tokens) FILTER (WHERE deleted_at IS NULL), 0) AS tokens
                 FROM conversations WHERE """ + mine,
            params,
        )
        return {"agents": agents, **row}


def _conversation(row: dict) -> Conversation:
    return Conversation(
        id=row["id"],
        title=row["title"],
        title_source=row["title_source"],
        agent_id=row["agent_id"],
        agent_name=row["agent_name"],
        tags=json.loads(row["tags"] or "[]"),
        pinned=bool(row["pinned"]),
        archived_at=from_iso(row["archived_at"]),
        deleted_at=from_iso(row["deleted_at"]),
        created_at=from_iso(row["created_at"]),
        last_activity_at=from_iso(row["last_activity_at"]),
        message_count=row["message_count"],
        tokens=row["tokens"],
        draft=row["draft"],
        parent_id=row["parent_id"],
        forked_from_message_id=row["forked_from_message_id"],
        model=row["model"],
        provider=row["provider"],
        instructions_override=row["instructions_override"],
        context_from=row["context_from"],
        context_cut_at=row["context_cut_at"],
    )
