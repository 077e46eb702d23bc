"""Full-text search on PostgreSQL: websearch_to_tsquery over the tsvector columns (GIN), ranked
by ts_rank, snippets from ts_headline, in the shape FTS5's search returns (sqlite/search.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentterm.store import search as shared

if TYPE_CHECKING:
    from agentterm.store.postgres.database import PostgresDatabase

# ts_headline's options: the store's marks, and about as many words as FTS5's snippet (16).
_HEADLINE = "StartSel={open}, StopSel={close}, MaxWords=16, MinWords=6, ShortWord=2"


def search_rows(
    db: PostgresDatabase, query: str, limit: int, mine: tuple[str, list] = ("1 = 1", [])
) -> list[dict]:
    """websearch_to_tsquery's syntax ("exact phrase", OR, -word) never fails on bad input; a
    word ending in * is a prefix, as in FTS5 (`prog*`). `mine`: SQL over the conversation `c`
    and its parameters (conversations.seen_by)."""
    owned, owned_params = mine
    tsquery, params = _tsquery(query)
    if not tsquery:
        return []
    options = _HEADLINE.format(open=shared.SNIPPET_OPEN, close=shared.SNIPPET_CLOSE)
    # Past SEARCH_RANKED matches only the newest that many are ranked, as on SQLite: the walk
    # down the GIN matches by id stops there. ts_headline runs on the rows returned only.
    # The tsquery is written out in each filter, not read from the CTE `q`: only then does the
    # planner see the words and use the column's statistics (a common word walks the ids
    # backwards and stops at the limit, a rare one takes the GIN index). Through `q` it guessed
    # 1,000 matches for every word and read all 200,000 for "the" (140 ms instead of 2).
    messages = db.query(
        f"""WITH q AS (SELECT {tsquery} AS q),
            newest AS (SELECT m.id FROM messages m WHERE m.search @@ {tsquery}
                        ORDER BY m.id DESC LIMIT ?),
            ranked AS (SELECT m.id, m.conversation_id, m.role, m.content, m.created_at,
                              c.title, ts_rank(m.search, q.q) AS score
                         FROM newest JOIN messages m ON m.id = newest.id
                         JOIN conversations c ON c.id = m.conversation_id, q
                        WHERE c.deleted_at IS NULL AND m.superseded = 0 AND {owned}
                        ORDER BY score DESC, m.id DESC LIMIT ?)
        SELECT r.conversation_id, r.title AS conversation_title, r.id AS message_id, r.role,
               ts_headline('english', r.content, q.q, ?) AS snippet, r.created_at,
               -r.score AS rank
          FROM ranked r, q ORDER BY r.score DESC, r.id DESC""",
        [*params, *params, shared.SEARCH_RANKED, *owned_params, limit, options],
    )
    titles = db.query(
        f"""WITH q AS (SELECT {tsquery} AS q),
            ranked AS (SELECT c.id, c.title, c.last_activity_at, ts_rank(c.search, q.q) AS score
                         FROM conversations c, q
                        WHERE c.search @@ {tsquery} AND c.deleted_at IS NULL AND {owned}
                        ORDER BY score DESC, c.id DESC LIMIT ?)
        SELECT r.id AS conversation_id, r.title AS conversation_title, NULL AS message_id,
               NULL AS role, ts_headline('english', r.title, q.q, ?) AS snippet,
               r.last_activity_at AS created_at, -r.score AS rank
          FROM ranked r, q ORDER BY r.score DESC, r.id DESC""",
        [*params, *params, *owned_params, limit, options],
    )
    # Lower is better, as FTS5's rank: the shared code's order.
    return sorted(titles + messages, key=lambda row: row["rank"])[:limit]


def matching_ids(db: PostgresDatabase, query: str, where: str, params: list, limit: int) -> list[int]:
    """SearchMixin.matching_conversations: the newest `limit` matching messages of the whole
    store (a walk down the matches by id that stops there), of those `where` keeps, and every
    matching title; no ranking, no snippets."""
    tsquery, query_params = _tsquery(query)
    if not tsquery:
        return []
    messages = db.query(
        f"""SELECT DISTINCT m.conversation_id AS id
          FROM (SELECT m.id FROM messages m WHERE m.search @@ {tsquery}
                 ORDER BY m.id DESC LIMIT ?) f
          JOIN messages m ON m.id = f.id
          JOIN conversations c ON c.id = m.conversation_id
         WHERE m.superseded = 0 AND {where}""",
        [*query_params, limit, *params],
    )
    titles = db.query(
        f"""SELECT c.id FROM conversations c WHERE c.search @@ {tsquery} AND {where}""",
        [*query_params, *params],
    )
    return sorted({row["id"] for row in messages + titles})


def _tsquery(query: str) -> tuple[str, list[str]]:
    """The query as SQL for a tsquery and its parameters ("" when it has no word): the words
    through websearch_to_tsquery, each `word*` a prefix through to_tsquery."""
    words, prefixes = [], []
    for word in query.split():
        stem = "".join(ch for ch in word[:-1] if ch.isalnum())
        if word.endswith("*") and stem:
            prefixes.append(f"{stem}:*")
        else:
            words.append(word)
    parts, params = [], []
    if any(any(ch.isalnum() for ch in word) for word in words):
        parts.append("websearch_to_tsquery('english', ?)")
        params.append(" ".join(words))
    if prefixes:
        parts.append("to_tsquery('english', ?)")
        params.append(" & ".join(prefixes))
    return " && ".join(parts), params
