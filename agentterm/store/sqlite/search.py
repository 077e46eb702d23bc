"""Full-text search on SQLite: FTS5 over message text and titles, bad syntax as plain words."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from agentterm.store import search as shared

if TYPE_CHECKING:
    from agentterm.store.sqlite.database import SqliteDatabase


def search_rows(
    db: SqliteDatabase, query: str, limit: int, mine: tuple[str, list] = ("1 = 1", [])
) -> list[dict]:
    """FTS5 syntax works ("exact phrase", prefix*, OR, NOT); text that is not valid syntax
    (an unbalanced quote, a bare AND) is searched as plain words instead of failing.

    `mine`: SQL over the conversation `c` and its parameters (conversations.seen_by)."""
    try:
        return _search(db, query, limit, mine)
    except sqlite3.OperationalError:
        plain = _plain_words(query)
        if not plain:
            return []
        try:
            return _search(db, plain, limit, mine)
        except sqlite3.Error as error:
            raise db.error(error) from error


def _search(db: SqliteDatabase, match: str, limit: int, mine: tuple[str, list]) -> list[dict]:
    marks = [shared.SNIPPET_OPEN, shared.SNIPPET_CLOSE]
    owned, owned_params = mine
    # Ranking scores every match: a word in nearly every message costs 240 ms over 200,000
    # messages. Past SEARCH_RANKED matches only the newest that many are ranked (13 ms); the
    # rowid bound is an early-stopping walk of the FTS index, newest first.
    bound = db.fetch(
        "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?"
        " ORDER BY rowid DESC LIMIT 1 OFFSET ?",
        [match, shared.SEARCH_RANKED - 1],
    )
    # ORDER BY rank inside each FTS query lets FTS5 sort and stop early, so snippets are
    # made for the rows returned only, not for every match.
    messages = db.fetch(
        """SELECT m.conversation_id, c.title AS conversation_title, m.id AS message_id,
                  m.role, snippet(messages_fts, 0, ?, ?, '…', 16) AS snippet,
                  m.created_at, messages_fts.rank AS rank
             FROM messages_fts
             JOIN messages m ON m.id = messages_fts.rowid
             JOIN conversations c ON c.id = m.conversation_id
            WHERE messages_fts MATCH ? AND messages_fts.rowid >= ? AND c.deleted_at IS NULL
              AND m.superseded = 0 AND """ + owned + """
            ORDER BY messages_fts.rank LIMIT ?""",
        [*marks, match, bound[0]["rowid"] if bound else 0, *owned_params, limit],
    )
    titles = db.fetch(
        """SELECT c.id AS conversation_id, c.title AS conversation_title,
                  NULL AS message_id, NULL AS role,
                  snippet(conversations_fts, 0, ?, ?, '…', 16) AS snippet,
                  c.last_activity_at AS created_at, conversations_fts.rank AS rank
             FROM conversations_fts
             JOIN conversations c ON c.id = conversations_fts.rowid
            WHERE conversations_fts MATCH ? AND c.deleted_at IS NULL AND """ + owned + """
            ORDER BY conversations_fts.rank LIMIT ?""",
        [*marks, match, *owned_params, limit],
    )
    # FTS5's rank is bm25 negated: lower is better.
    return sorted(titles + messages, key=lambda row: row["rank"])[:limit]


def matching_ids(db: SqliteDatabase, query: str, where: str, params: list, limit: int) -> list[int]:
    """SearchMixin.matching_conversations on FTS5; bad syntax read as plain words, as in search."""
    try:
        return _matching(db, query, where, params, limit)
    except sqlite3.OperationalError:
        plain = _plain_words(query)
        if not plain:
            return []
        try:
            return _matching(db, plain, where, params, limit)
        except sqlite3.Error as error:
            raise db.error(error) from error


def _matching(db: SqliteDatabase, match: str, where: str, params: list, limit: int) -> list[int]:
    # One walk of the FTS index, newest first, stopping at `limit`; the owners are kept after.
    messages = db.fetch(
        f"""SELECT DISTINCT m.conversation_id AS id
              FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?
                     ORDER BY rowid DESC LIMIT ?) f
              JOIN messages m ON m.id = f.rowid
              JOIN conversations c ON c.id = m.conversation_id
             WHERE m.superseded = 0 AND {where}""",
        [match, limit, *params],
    )
    titles = db.fetch(
        f"""SELECT c.id FROM conversations_fts JOIN conversations c ON c.id = conversations_fts.rowid
             WHERE conversations_fts MATCH ? AND {where}""",
        [match, *params],
    )
    return sorted({row["id"] for row in messages + titles})


def _plain_words(query: str) -> str:
    """The query as FTS5 plain words, each quoted so none is an operator; a stray AND, OR or
    NOT is dropped when there are other words (it was meant as one)."""
    words = [word for word in query.split() if any(ch.isalnum() for ch in word)]
    meant = [word for word in words if word not in ("AND", "OR", "NOT", "NEAR")]
    return " ".join('"' + word.replace('"', '""') + '"' for word in meant or words)
