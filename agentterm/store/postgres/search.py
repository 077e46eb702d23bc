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
    and its parameters (conversations.seen_by).

    One statement: the newest SEARCH_RANKED matching messages (as on SQLite: past that many
    only the newest are ranked), the best `limit` of those shown, the best `limit` matching
    titles, and ts_headline for the page returned only (it parses the whole text: ~0.1 ms a
    message, so not for 40 rows when 20 are kept)."""
    owned, owned_params = mine
    tsquery, params = _tsquery(query)
    if not tsquery:
        return []
    newest = _newest(db, tsquery, params)
    if newest is None:
        return []
    newest_sql, newest_params = newest
    options = _HEADLINE.format(open=shared.SNIPPET_OPEN, close=shared.SNIPPET_CLOSE)
    # The tsquery is written out in each filter, not read from the CTE `q`: only then does the
    # planner see the words and use the column's statistics. Through `q` it guessed 1,000
    # matches for every word and read all 200,000 for a common one (140 ms instead of 2).
    return db.query(
        f"""WITH q AS (SELECT {tsquery} AS q),
            ranked AS (SELECT n.id, n.score
                         FROM ({newest_sql}) n JOIN conversations c ON c.id = n.conversation_id
                        WHERE c.deleted_at IS NULL AND n.superseded = 0 AND {owned}
                        ORDER BY n.score DESC, n.id DESC LIMIT ?),
            titles AS (SELECT c.id, ts_rank(c.search, q.q) AS score
                         FROM conversations c, q
                        WHERE c.search @@ {tsquery} AND c.deleted_at IS NULL AND {owned}
                        ORDER BY score DESC, c.id DESC LIMIT ?),
            page AS (SELECT * FROM (SELECT 0 AS kind, id, score FROM titles
                                    UNION ALL SELECT 1, id, score FROM ranked) hits
                      ORDER BY score DESC, kind, id DESC LIMIT ?)
        SELECT c.id AS conversation_id, c.title AS conversation_title,
               m.id AS message_id, m.role,
               ts_headline('english', CASE WHEN p.kind = 1 THEN m.content ELSE c.title END,
                           q.q, ?) AS snippet,
               coalesce(m.created_at, c.last_activity_at) AS created_at
          FROM page p CROSS JOIN q
          LEFT JOIN messages m ON p.kind = 1 AND m.id = p.id
          JOIN conversations c ON c.id = coalesce(m.conversation_id, p.id)
         ORDER BY p.score DESC, p.kind, p.id DESC""",
        [*params, *newest_params, *owned_params, limit, *params, *owned_params, limit, limit,
         options],
        prepare=False,
    )  # fmt: skip


def matching_ids(db: PostgresDatabase, query: str, where: str, params: list, limit: int) -> list[int]:
    """SearchMixin.matching_conversations: the newest `limit` matching messages of the whole
    store (a walk down the matches by id that stops there), of those `where` keeps, and every
    matching title; no ranking, no snippets."""
    tsquery, query_params = _tsquery(query)
    if not tsquery:
        return []
    newest = _newest(db, tsquery, query_params, limit, ranked=False)
    if newest is None:
        return []
    newest_sql, newest_params = newest
    rows = db.query(
        f"""SELECT m.conversation_id AS id
              FROM ({newest_sql}) f
              JOIN messages m ON m.id = f.id
              JOIN conversations c ON c.id = m.conversation_id
             WHERE m.superseded = 0 AND {where}
            UNION
            SELECT c.id FROM conversations c WHERE c.search @@ {tsquery} AND {where}""",
        [*newest_params, *params, *query_params, *params],
        prepare=False,
    )
    return sorted(row["id"] for row in rows)


def _newest(
    db: PostgresDatabase, tsquery: str, params: list, limit: int | None = None, *, ranked: bool = True
) -> tuple[str, list] | None:
    """SQL for the ids of the newest `limit` (SEARCH_RANKED) messages matching, with its
    parameters; None when the query has no word to look for (only stop words: "the").

    The planner picks between walking the ids backwards until `limit` match (a common word:
    2,000 found in the newest few thousand rows) and the GIN index (a rare one), from the
    words' statistics. For a phrase it cannot know: it estimates "return value" as `return &
    value` (16,000 rows here) where 236 rows match, walks all 200,000 rows looking for 2,000
    (530 ms), where the GIN index and its recheck of those 16,000 take 50. A phrase is rarer
    than its words, so it takes the index (id + 0 is no index order to walk)."""
    limit = shared.SEARCH_RANKED if limit is None else limit
    [kind] = db.query(
        f"SELECT numnode(q) = 0 AS empty, strpos(q::text, '<') > 0 AS phrase"
        f" FROM (SELECT {tsquery} AS q) x",
        params,
    )
    if kind["empty"]:
        return None
    order = "m.id + 0" if kind["phrase"] else "m.id"
    # With what ranking them needs, read from the row the search visits anyway: the 2,000 are
    # not looked up again by id (5 ms of a 20 ms search), only the page returned is.
    if not ranked:
        return (f"SELECT m.id FROM messages m WHERE m.search @@ {tsquery} ORDER BY {order} DESC"
                " LIMIT ?", [*params, limit])
    return (f"SELECT m.id, m.conversation_id, m.superseded, ts_rank(m.search, {tsquery}) AS score"
            f" FROM messages m WHERE m.search @@ {tsquery} ORDER BY {order} DESC LIMIT ?",
            [*params, *params, limit])


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
