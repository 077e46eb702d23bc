"""`agentterm store copy SRC DST`: a whole store, table by table, between SQLite and PostgreSQL.

Rows keep their ids, so links (a message's conversation, a fork's parent, a variant's prompt)
hold as they are. The copy is one write transaction on DST: all or nothing. Run again, it
inserts what SRC gained since, brings changed rows up to date, and says when there was nothing
to do. It then compares every table's count and checksum on both sides.

Only the store's own helpers are used (_query, _run, _write), whose SQL both backends read:
the plain INSERT/UPDATE/SELECT below, with ? placeholders.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentterm.store.errors import StoreError

# Parents before children. Each table with the columns that identify a row.
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("users", ("id",)),
    ("tokens", ("id",)),
    ("agents", ("id",)),
    ("agent_versions", ("agent_id", "version")),
    ("agent_allowed_tools", ("agent_id", "tool_name")),
    ("conversations", ("id",)),
    ("messages", ("id",)),
    ("tags", ("conversation_id", "tag")),
    ("tool_calls", ("id",)),
    ("imports", ("source",)),
)
# Not copied: the FTS indexes (each backend builds its own from the rows) and the migrations'
# own bookkeeping (each store has its own, at the same version).
NOT_COPIED = ("migrations",)
# Kept up by the messages triggers on SQLite; written last, from SRC, so the counts are SRC's.
COUNTERS = ("message_count", "tokens")
# A fork's parent may come later in id order: linked after every conversation is in.
LATER = {"conversations": ("parent_id",)}
BATCH = 1000
# Columns a backend derives from the others (PostgreSQL's generated tsvector for search): never
# copied, each side computes its own.
DERIVED = ("search",)


@dataclass
class TableReport:
    table: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    checksum: str = ""


@dataclass
class CopyReport:
    tables: list[TableReport] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(t.inserted + t.updated for t in self.tables)


def canonical(value: Any) -> Any:
    """One form for a value whichever backend read it: JSON text parsed, booleans as 0/1, times as text."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        from agentterm.models import to_iso

        return to_iso(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, str) and value[:1] in "{[":
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        if isinstance(parsed, dict | list):
            return json.dumps(parsed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, float) and value.is_integer():
        return value  # REAL stays REAL: 1.0 is not 1 in the JSON below either way
    return value


def row_key(row: dict, key: tuple[str, ...]) -> tuple:
    return tuple(row[column] for column in key)


def columns(store, table: str) -> list[str]:
    rows = store._query(f"SELECT * FROM {table} LIMIT 0")  # noqa: S608 - our own table names
    if rows:
        return list(rows[0])
    # No rows: the cursor's description still names the columns.
    return store_columns(store, table)


def store_columns(store, table: str) -> list[str]:
    if getattr(store, "backend", "sqlite") != "sqlite":
        rows = store._query("SELECT column_name AS name FROM information_schema.columns "
                            "WHERE table_name = ? AND table_schema = current_schema() "
                            "ORDER BY ordinal_position", [table])
        return [row["name"] for row in rows]
    with store._lock:
        cursor = store._conn.execute(f"SELECT * FROM {table} LIMIT 0")  # noqa: S608
        return [column[0] for column in cursor.description]


def read_rows(store, table: str, cols: list[str], key: tuple[str, ...]) -> Iterator[dict]:
    """Every row of `table`, in key order, a batch at a time (a big store is not read in one piece)."""
    listed = ", ".join(cols)
    order = ", ".join(key)
    if key == ("id",):
        last = 0
        while True:
            batch = store._query(f"SELECT {listed} FROM {table} WHERE id > ? ORDER BY id LIMIT ?",  # noqa: S608
                                 [last, BATCH])
            yield from batch
            if len(batch) < BATCH:
                return
            last = batch[-1]["id"]
    else:
        yield from store._query(f"SELECT {listed} FROM {table} ORDER BY {order}")  # noqa: S608


def checksum(rows: Iterator[dict], cols: list[str]) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    for row in rows:
        count += 1
        digest.update(json.dumps([canonical(row[c]) for c in cols], ensure_ascii=False, default=str).encode())
        digest.update(b"\n")
    return count, digest.hexdigest()[:16]


def same_store(src, dst) -> bool:
    return str(getattr(src, "path", "")) == str(getattr(dst, "path", "")) and \
        getattr(src, "backend", "sqlite") == getattr(dst, "backend", "sqlite")


def is_fresh(store) -> bool:
    """A store just created: no conversations, no users, and only the agent it seeded itself."""
    from agentterm.store.agents import DEFAULT_AGENT_NAME

    counts = {t: store._one(f"SELECT count(*) AS n FROM {t}")["n"]  # noqa: S608
              for t in ("conversations", "users", "agents")}
    if counts["conversations"] or counts["users"] or counts["agents"] > 1:
        return False
    # The one agent must be the seeded one, untouched: an agent someone made is never dropped.
    seeded = store._one("SELECT count(*) AS n FROM agents WHERE name = ? AND version = 1", [DEFAULT_AGENT_NAME])
    return counts["agents"] == 0 or seeded["n"] == 1


def copy_store(src, dst) -> CopyReport:
    """Copy every table of `src` into `dst`; raises StoreError (one line) when it cannot."""
    if same_store(src, dst):
        raise StoreError("SRC and DST are the same store: give two different stores.")
    plans = []
    for table, key in TABLES:
        src_cols = [c for c in columns(src, table) if c not in DERIVED]
        dst_cols = columns(dst, table)
        missing = [c for c in src_cols if c not in dst_cols]
        if missing:
            raise StoreError(f"DST's table {table} has no column {missing[0]}: open DST once with this "
                             "agentterm (it upgrades it), then copy again.")
        plans.append((table, key, src_cols))
    report = CopyReport()
    with dst._write():
        fresh = is_fresh(dst)
        if fresh:
            # Its seeded default agent would collide with SRC's agents: SRC's come instead.
            for table in ("agent_allowed_tools", "agent_versions", "agents"):
                dst._run(f"DELETE FROM {table}")  # noqa: S608
        for table, key, cols in plans:
            report.tables.append(_copy_table(src, dst, table, key, cols, fresh))
        _link_later(src, dst)
        _set_counters(src, dst)
        _after_ids(dst)
    _verify(src, dst, plans, report)
    return report


def _copy_table(src, dst, table: str, key: tuple[str, ...], cols: list[str], fresh: bool) -> TableReport:
    result = TableReport(table)
    later = LATER.get(table, ())
    theirs: dict[tuple, dict] = {}
    if not fresh:
        theirs = {row_key(row, key): row for row in read_rows(dst, table, cols, key)}
    insert = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    settable = [c for c in cols if c not in key]
    update = (f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in settable)} "
              f"WHERE {' AND '.join(f'{c} = ?' for c in key)}")
    pending: list[list] = []
    for row in read_rows(src, table, cols, key):
        result.rows += 1
        values = dict(row)
        for column in later:
            values[column] = None
        for column in COUNTERS if table == "conversations" else ():
            values[column] = 0  # the triggers count the messages as they come in
        found = theirs.pop(row_key(row, key), None)
        if found is not None and "created_at" in row and canonical(found["created_at"]) != canonical(row["created_at"]):
            raise StoreError(f"DST's {table} {row_key(row, key)[0]} is not SRC's (made at another time): DST is not "
                             "a copy of SRC. Nothing was copied; copy into a new, empty store.")
        if found is None:
            pending.append([values[c] for c in cols])
            if len(pending) >= BATCH:
                _insert_many(dst, insert, pending)
                pending = []
            result.inserted += 1
            continue
        compare = [c for c in settable if c not in later and (table != "conversations" or c not in COUNTERS)]
        if any(canonical(found[c]) != canonical(row[c]) for c in compare):
            dst._run(update, [values[c] if c not in later else found[c] for c in settable] +
                     [row[c] for c in key])
            result.updated += 1
    if pending:
        _insert_many(dst, insert, pending)
    if theirs:
        shown = ", ".join(str(k[0] if len(k) == 1 else k) for k in list(theirs)[:3])
        raise StoreError(f"DST holds rows SRC does not ({len(theirs)} in {table}: {shown}): it is not a copy "
                         "of SRC. Nothing was copied; copy into a new, empty store.")
    return result


def _insert_many(dst, sql: str, rows: list[list]) -> None:
    run_many = getattr(dst, "_run_many", None)
    if run_many is not None:
        run_many(sql, rows)
    else:
        for row in rows:
            dst._run(sql, row)


def _link_later(src, dst) -> None:
    for table, cols in LATER.items():
        for column in cols:
            wanted = {r["id"]: r[column] for r in src._query(
                f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")}  # noqa: S608
            have = {r["id"]: r[column] for r in dst._query(
                f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")}  # noqa: S608
            for ident in set(wanted) | set(have):
                if wanted.get(ident) != have.get(ident):
                    dst._run(f"UPDATE {table} SET {column} = ? WHERE id = ?", [wanted.get(ident), ident])  # noqa: S608


def _set_counters(src, dst) -> None:
    # SRC's own counts, whatever DST's triggers (or their absence) made of the copied messages.
    wanted = {r["id"]: (r["message_count"], r["tokens"])
              for r in src._query("SELECT id, message_count, tokens FROM conversations")}
    have = {r["id"]: (r["message_count"], r["tokens"])
            for r in dst._query("SELECT id, message_count, tokens FROM conversations")}
    for ident, counts in wanted.items():
        if have.get(ident) != counts:
            dst._run("UPDATE conversations SET message_count = ?, tokens = ? WHERE id = ?", [*counts, ident])


def _after_ids(dst) -> None:
    """Rows came with their ids: a backend whose ids come from sequences moves them past the copied ones."""
    if getattr(dst, "backend", "sqlite") == "sqlite":
        return  # AUTOINCREMENT follows the largest id inserted by itself
    for table in (table for table, key in TABLES if key == ("id",)):
        dst._query(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 1), "  # noqa: S608
                   f"max(id) IS NOT NULL) FROM {table}")
    # A bulk load leaves the planner without statistics until autovacuum comes round: the first
    # sidebar page and search would take the slow plans (measured: 5 ms -> 4 ms, 19 ms -> 8 ms).
    for table, _ in TABLES:
        dst._run(f"ANALYZE {table}")


def _verify(src, dst, plans, report: CopyReport) -> None:
    by_table = {t.table: t for t in report.tables}
    for table, key, cols in plans:
        ours = checksum(read_rows(src, table, cols, key), cols)
        theirs = checksum(read_rows(dst, table, cols, key), cols)
        if ours != theirs:
            raise StoreError(f"The copy of {table} does not match SRC ({ours[0]} rows, checksum {ours[1]}; "
                             f"DST {theirs[0]} rows, checksum {theirs[1]}). DST was written: compare them, "
                             "or copy into a new, empty store.")
        by_table[table].rows, by_table[table].checksum = ours
