"""Searching the store: each backend's full-text matches (sqlite/search.py, postgres/search.py)
as search hits."""

from __future__ import annotations

from agentterm.models import SearchHit, from_iso
from agentterm.store.connection import StoreConnection

# Marks around the matched words in a search snippet: plain text, never markup.
SNIPPET_OPEN = "«"
SNIPPET_CLOSE = "»"
# A search ranks at most this many matching messages, the newest (see the backends' search).
SEARCH_RANKED = 2000


class SearchMixin(StoreConnection):
    """Full-text search over messages and titles, outside the trash."""

    def search(self, query: str, limit: int = 20, owner: str | None = None) -> list[SearchHit]:
        """Full-text matches in message text and titles, best first, outside the trash.

        Only what a conversation shows is searched: superseded answer variants are left out.

        When more than SEARCH_RANKED messages match, the best of the newest SEARCH_RANKED are
        returned: a word that common is ranked over recent history, in a few milliseconds.

        Phrases in quotes, OR and NOT (a leading -) work on both backends; SQLite also takes
        FTS5's prefix* (docs/postgres.md). Text that is not valid syntax (an unbalanced quote,
        a bare AND) is searched as plain words instead of failing.

        owner: only the conversations that local user sees (conversations.seen_by); None: all.
        """
        if not query.strip() or limit <= 0:
            return []
        from agentterm.store.conversations import seen_by

        rows = self._db.search_rows(query, limit, seen_by(owner))
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

    def matching_conversations(
        self, query: str, where: str, params: list, limit: int = SEARCH_RANKED
    ) -> list[int]:
        """Ids of the conversations `where` keeps (SQL over `c`, the conversations) whose title or
        messages match, the query read as search() reads it. As in search(), the messages looked at
        are the newest `limit` that match in the whole store (a walk of the full-text index that
        stops early), of which those `where` keeps count; every matching title counts.
        No ranking, no snippets: this filters a list (the server's `q`). Bounding by the store's
        matches, not the kept ones, keeps a common word cheap for a user who owns few of them."""
        if not query.strip():
            return []
        return self._db.matching_ids(query, where, params, limit)
