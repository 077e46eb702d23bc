"""Searching the store: FTS5 over message text and titles, snippets, bad syntax as plain words."""

from __future__ import annotations

import sqlite3

from agentterm.models import SearchHit, from_iso
from agentterm.store.connection import StoreConnection

# Marks around the matched words in a search snippet: plain text, never markup.
SNIPPET_OPEN = "«"
SNIPPET_CLOSE = "»"
# A search ranks at most this many matching messages, the newest (see _search).
SEARCH_RANKED = 2000


class SearchMixin(StoreConnection):
    """Full-text search over messages and titles, outside the trash."""

    def search(self, query: str, limit: int = 20, owner: str | None = None) -> list[SearchHit]:
        """Full-text matches in message text and titles, best first, outside the trash.

        Only what a conversation shows is searched: superseded answer variants are left out.

        When more than SEARCH_RANKED messages match, the best of the newest SEARCH_RANKED are
        returned: a word that common is ranked over recent history, in a few milliseconds.

        FTS5 syntax works ("exact phrase", prefix*, OR, NOT); text that is not valid syntax
        (an unbalanced quote, a bare AND) is searched as plain words instead of failing.

        owner: only the conversations that local user sees (conversations.seen_by); None: all.
        """
        if not query.strip() or limit <= 0:
            return []
        try:
            return self._search(query, limit, owner)
        except sqlite3.OperationalError:
            plain = _plain_words(query)
            if not plain:
                return []
            try:
                return self._search(plain, limit, owner)
            except sqlite3.Error as error:
                raise self._error(error) from error

    def matching_conversations(self, query: str, where: str, params: list, limit: int = SEARCH_RANKED) -> list[int]:
        """Ids of the conversations `where` keeps (SQL over `c`, the conversations) whose title or
        messages match, the query read as search() reads it. As in search(), the messages looked at
        are the newest `limit` that match in the whole store (a walk of the FTS index that stops
        early), of which those `where` keeps count; every matching title counts.
        No ranking, no snippets: this filters a list (the server's `q`). Bounding by the store's
        matches, not the kept ones, keeps a common word cheap for a user who owns few of them."""
        if not query.strip():
            return []
        try:
            return self._matching(query, where, params, limit)
        except sqlite3.OperationalError:
            plain = _plain_words(query)
            if not plain:
                return []
            try:
                return self._matching(plain, where, params, limit)
            except sqlite3.Error as error:
                raise self._error(error) from error

    def _matching(self, match: str, where: str, params: list, limit: int) -> list[int]:
        # One walk of the FTS index, newest first, stopping at `limit`; the owners are kept after.
        messages = self._fetch(
            f"""SELECT DISTINCT m.conversation_id AS id
                  FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?
                         ORDER BY rowid DESC LIMIT ?) f
                  JOIN messages m ON m.id = f.rowid
                  JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.superseded = 0 AND {where}""",
            [match, limit, *params],
        )
        titles = self._fetch(
            f"""SELECT c.id FROM conversations_fts JOIN conversations c ON c.id = conversations_fts.rowid
                 WHERE conversations_fts MATCH ? AND {where}""",
            [match, *params],
        )
        return sorted({row["id"] for row in messages + titles})

    def _search(self, match: str, limit: int, owner: str | None = None) -> list[SearchHit]:
        from agentterm.store.conversations import seen_by

        marks = [SNIPPET_OPEN, SNIPPET_CLOSE]
        mine, mine_params = seen_by(owner)
        # Ranking scores every match: a word in nearly every message costs 240 ms over 200,000
        # messages. Past SEARCH_RANKED matches only the newest that many are ranked (13 ms); the
        # rowid bound is an early-stopping walk of the FTS index, newest first.
        bound = self._fetch(
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?"
            " ORDER BY rowid DESC LIMIT 1 OFFSET ?",
            [match, SEARCH_RANKED - 1],
        )
        # ORDER BY rank inside each FTS query lets FTS5 sort and stop early, so snippets are
        # made for the rows returned only, not for every match.
        messages = self._fetch(
            """SELECT m.conversation_id, c.title AS conversation_title, m.id AS message_id,
                      m.role, snippet(messages_fts, 0, ?, ?, '…', 16) AS snippet,
                      m.created_at, messages_fts.rank AS rank
                 FROM messages_fts
                 JOIN messages m ON m.id = messages_fts.rowid
                 JOIN conversations c ON c.id = m.conversation_id
                WHERE messages_fts MATCH ? AND messages_fts.rowid >= ? AND c.deleted_at IS NULL
                  AND m.superseded = 0 AND """ + mine + """
                ORDER BY messages_fts.rank LIMIT ?""",
            [*marks, match, bound[0]["rowid"] if bound else 0, *mine_params, limit],
        )
        titles = self._fetch(
            """SELECT c.id AS conversation_id, c.title AS conversation_title,
                      NULL AS message_id, NULL AS role,
                      snippet(conversations_fts, 0, ?, ?, '…', 16) AS snippet,
                      c.last_activity_at AS created_at, conversations_fts.rank AS rank
                 FROM conversations_fts
                 JOIN conversations c ON c.id = conversations_fts.rowid
                WHERE conversations_fts MATCH ? AND c.deleted_at IS NULL AND """ + mine + """
                ORDER BY conversations_fts.rank LIMIT ?""",
            [*marks, match, *mine_params, limit],
        )
        rows = sorted(titles + messages, key=lambda row: row["rank"])[:limit]
        return [
            SearchHit(
                conversation_id=row["conversation_id"],
                conversation_title=row["conversation_title"],
                message_id=row["message_id"],
                role=row["role"],
                snippet=row["snippet"],
                created_at=from_iso(row["created_at"]),
            )
            for row in rows
        ]


def _plain_words(query: str) -> str:
    """The query as FTS5 plain words, each quoted so none is an operator; a stray AND, OR or
    NOT is dropped when there are other words (it was meant as one)."""
    words = [word for word in query.split() if any(ch.isalnum() for ch in word)]
    meant = [word for word in words if word not in ("AND", "OR", "NOT", "NEAR")]
    return " ".join('"' + word.replace('"', '""') + '"' for word in meant or words)
