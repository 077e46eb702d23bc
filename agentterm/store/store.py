"""Store: the facade over the SQLite file (through sqlite-utils), returning models."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentterm.models import (
    AGENT_NAME_MAX,
    MESSAGE_STATUSES,
    ROLES,
    Agent,
    AgentUsage,
    AgentVersion,
    Conversation,
    Message,
    SearchHit,
    from_iso,
    to_iso,
    utcnow,
)
from agentterm.store import migrations
from agentterm.store.errors import StoreError, ValidationError
from agentterm.store.exports import checked_export, export_conversation
from agentterm.store.importers import chatgpt_to_export, is_chatgpt_conversation
from agentterm.store.validation import (
    AGENT_DEFAULTS,
    AGENT_FIELDS,
    clean_title,
    normalise_agent_fields,
)

if TYPE_CHECKING:
    from sqlite_utils import Database

BUSY_TIMEOUT_SECONDS = 5.0
DEFAULT_AGENT_NAME = "Assistant"
# Marks around the matched words in a search snippet: plain text, never markup.
SNIPPET_OPEN = "«"
SNIPPET_CLOSE = "»"
# A search ranks at most this many matching messages, the newest (see _search).
SEARCH_RANKED = 2000

VIEWS = ("inbox", "archive", "trash", "all")
# Each matches its partial index in migration 1 term for term, so SQLite picks that index.
_VIEW_WHERE = {
    "inbox": "c.archived_at IS NULL AND c.deleted_at IS NULL",
    "archive": "c.archived_at IS NOT NULL AND c.deleted_at IS NULL",
    "all": "c.deleted_at IS NULL",
    "trash": "c.deleted_at IS NOT NULL",
}
_SIDEBAR_ORDER = "c.pinned DESC, c.last_activity_at DESC, c.id DESC"
# Every conversation column but none from messages: the sidebar never reads a message body.
_CONVERSATION_COLUMNS = """
    c.id, c.title, c.title_source, c.agent_id, c.agent_name, c.pinned, c.archived_at,
    c.deleted_at, c.created_at, c.last_activity_at, c.message_count, c.tokens,
    (SELECT json_group_array(tag)
       FROM (SELECT tag FROM tags WHERE conversation_id = c.id ORDER BY tag)) AS tags
"""


class Store:
    """The one SQLite file holding agents, conversations and messages."""

    def __init__(self, path: Path | str):
        self.path = path if path == ":memory:" else Path(path).expanduser()
        self._lock = threading.RLock()
        self._conn = self._connect()
        try:
            self._prepare()
            self.recover_interrupted()
        except BaseException:
            self._conn.close()
            raise

    # --- opening -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            self._create_file()
        try:
            # isolation_level=None: the driver opens no transaction of its own; _write() does.
            conn = sqlite3.connect(
                str(self.path),
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as error:
            raise StoreError(f"Cannot open the store {self.path}: {error}.") from error
        try:
            # A file that is not a database opens fine and fails at the first read; read now,
            # before anything could write to it.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError as error:
            conn.close()
            raise StoreError(
                f"{self.path} is not an agentterm store, or it is damaged ({error}). "
                "It was left as it is: move it aside or choose another file with --db."
            ) from error
        problem = None
        if version > migrations.latest_version():
            problem = (
                f"The store {self.path} was written by a newer agentterm (schema version "
                f"{version}; this one knows up to {migrations.latest_version()}). It was left "
                "as it is: upgrade agentterm to open it."
            )
        elif version == 0 and tables:
            problem = (
                f"{self.path} is an SQLite database but not an agentterm store. It was left "
                "as it is: choose another file with --db."
            )
        elif self.path != ":memory:" and not os.access(self.path, os.W_OK):
            problem = f"The store {self.path} is read-only: check its permissions."
        if problem:
            conn.close()
            raise StoreError(problem)
        return conn

    def _create_file(self) -> None:
        """Create the directory (0700) and the file (0600) when missing, before SQLite does."""
        path = self.path
        try:
            if path.is_dir():
                raise StoreError(f"The store {path} is a directory; give the path of a file.")
            if not path.parent.is_dir():
                path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
                path.parent.chmod(0o700)
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:
                return  # there already, or another process created it a moment ago
            os.close(fd)
            path.chmod(0o600)
        except OSError as error:
            raise StoreError(
                f"Cannot create the store {path}: {error.strerror or error}. "
                "Choose a writable location with --db or $AGENTTERM_DB."
            ) from error

    def _prepare(self) -> None:
        for pragma in (
            "PRAGMA journal_mode = WAL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA recursive_triggers = ON",  # as sqlite-utils sets it, for scripts sharing the file
            f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}",
        ):
            try:
                self._conn.execute(pragma)
            except sqlite3.Error as error:
                raise self._error(error) from error
        with self._write():
            # Read again inside the lock: another process may have migrated it meanwhile.
            found = migrations.schema_version(self._conn)
            if found > migrations.latest_version():
                raise StoreError(
                    f"The store {self.path} was upgraded by a newer agentterm meanwhile; "
                    "upgrade agentterm to open it."
                )
            try:
                migrations.apply_migrations(self._conn)
                if found == 0:
                    self._seed()
            except Exception as error:  # any fault: the transaction is rolled back
                what = "Creating" if found == 0 else f"Upgrading (from schema version {found})"
                raise StoreError(
                    f"{what} the store {self.path} failed: {type(error).__name__}: {error}. "
                    "It was rolled back: the file is as it was."
                ) from error

    def _seed(self) -> None:
        from agentterm.templates import load_template

        fields = load_template("assistant")
        fields["name"] = DEFAULT_AGENT_NAME
        self._insert_agent(self._checked_agent({**AGENT_DEFAULTS, **fields}))

    def check(self) -> list[str]:
        """What SQLite's quick_check finds wrong with the file; [] when it is sound.

        It reads every page, so it is for `agentterm doctor`, not for every open.
        """
        try:
            rows = self._fetch("PRAGMA quick_check")
        except sqlite3.DatabaseError as error:
            return [str(error)]
        problems = [next(iter(row.values())) for row in rows]
        return [] if problems == ["ok"] else problems

    def close(self) -> None:
        with self._lock:
            try:
                self._conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass  # only planner statistics: never worth failing a close
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- transactions --------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction, begun with BEGIN IMMEDIATE so it takes the write lock up front.

        A deferred BEGIN (what sqlite3 and sqlite-utils' atomic() issue) takes the lock at the
        first write and can then fail with SQLITE_BUSY without waiting, when another process
        wrote since our read. Nested use joins the outer transaction.
        """
        with self._lock:
            if self._conn.in_transaction:
                yield
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise self._error(error) from error
            try:
                yield
            except sqlite3.Error as error:
                self._rollback()
                raise self._error(error) from error
            except BaseException:
                self._rollback()
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as error:
                self._rollback()
                raise self._error(error) from error

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _error(self, error: sqlite3.Error) -> StoreError:
        text = str(error)
        if "locked" in text or "busy" in text:
            return StoreError(
                f"The store {self.path} is busy: another agentterm process (or another program) "
                f"held it for more than {BUSY_TIMEOUT_SECONDS:g} seconds. Try again."
            )
        if getattr(error, "sqlite_errorname", "") == "SQLITE_FULL" or "disk is full" in text:
            return StoreError(
                f"The store {self.path} is full: the disk (or its size limit) has no room, so "
                "nothing more was saved. Free some space and try again."
            )
        if "readonly" in text:
            return StoreError(f"The store {self.path} is read-only: check its permissions.")
        if "malformed" in text or "not a database" in text:
            return StoreError(
                f"The store {self.path} is damaged ({text}). Copy it aside, then try "
                f'`sqlite3 {self.path} ".recover" | sqlite3 recovered.db`.'
            )
        return StoreError(f"The store {self.path} failed: {text}.")

    def _query(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[dict]:
        try:
            return self._fetch(sql, params)
        except sqlite3.Error as error:
            raise self._error(error) from error

    def _fetch(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[dict]:
        """Rows as dicts, letting sqlite3's errors through (search needs to see FTS5's)."""
        # The lock keeps another thread's read out of a write transaction in progress.
        with self._lock:
            cursor = self._conn.execute(sql, params)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row)) for row in cursor]

    @cached_property
    def db(self) -> Database:
        """The connection as a sqlite-utils Database, for tests and scripts.

        The store itself talks to sqlite3: importing sqlite-utils (and numpy, which it imports
        when installed) would add a tenth of a second and 15 MB to every start.
        """
        from sqlite_utils import Database

        return Database(self._conn, execute_plugins=False)

    def _one(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> dict | None:
        rows = self._query(sql, params)
        return rows[0] if rows else None

    def _run(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._conn.execute(sql, tuple(params))

    # --- agents --------------------------------------------------------------------------

    def validate_agent_fields(
        self, fields: dict[str, Any], *, agent_id: int | None = None
    ) -> dict[str, str]:
        """{field: why it is invalid} for the given fields; {} when they can be saved.

        `agent_id` is the agent being edited, so keeping its own name is not a clash.
        """
        return self._normalised(fields, agent_id)[1]

    def _normalised(self, fields: dict[str, Any], agent_id: int | None) -> tuple[dict, dict]:
        clean, errors = normalise_agent_fields(fields)
        if "name" in clean and self._name_taken(clean["name"], agent_id):
            errors["name"] = "is already used by another agent"
        return clean, errors

    def _name_taken(self, name: str, agent_id: int | None) -> bool:
        row = self._one("SELECT id FROM agents WHERE name = ?", [name])
        return row is not None and row["id"] != agent_id

    def _checked_agent(self, data: dict[str, Any], agent_id: int | None = None) -> dict:
        """The fields in stored form, in column order; ValidationError when any is invalid."""
        clean, errors = self._normalised(data, agent_id)
        if errors:
            raise ValidationError(errors)
        return {field: clean[field] for field in AGENT_FIELDS if field in clean}

    def create_agent(self, name: str, **fields: Any) -> Agent:
        with self._write():
            clean = self._checked_agent({**AGENT_DEFAULTS, **fields, "name": name})
            agent_id = self._insert_agent(clean)
        return self._require_agent(agent_id)

    def _insert_agent(self, clean: dict[str, Any]) -> int:
        """Insert an agent and its first version; its id."""
        now, version = to_iso(utcnow()), 1
        cursor = self._run(
            f"INSERT INTO agents ({', '.join(AGENT_FIELDS)}, version, created_at, updated_at)"
            f" VALUES ({', '.join('?' * len(AGENT_FIELDS))}, ?, ?, ?)",
            [*_agent_row_values(clean), version, now, now],
        )
        self._run(
            "INSERT INTO agent_versions (agent_id, version, data, created_at) VALUES (?, ?, ?, ?)",
            [cursor.lastrowid, version, json.dumps(clean), now],
        )
        return cursor.lastrowid

    def get_agent(self, agent_id: int) -> Agent | None:
        row = self._one("SELECT * FROM agents WHERE id = ?", [agent_id])
        return _agent(row) if row else None

    def _require_agent(self, agent_id: int) -> Agent:
        agent = self.get_agent(agent_id)
        if agent is None:
            raise StoreError(f"There is no agent with id {agent_id}.")
        return agent

    def get_agent_by_name(self, name: str) -> Agent | None:
        """The agent with this name, ignoring case (names are unique regardless of case)."""
        row = self._one("SELECT * FROM agents WHERE name = ?", [name.strip()])
        return _agent(row) if row else None

    def list_agents(self, statuses: Iterable[str] | None = None) -> list[Agent]:
        """Agents by name, optionally only those with the given statuses."""
        if statuses is None:
            rows = self._query("SELECT * FROM agents ORDER BY name, id")
        else:
            wanted = list(statuses)
            marks = ", ".join("?" * len(wanted))
            rows = self._query(
                f"SELECT * FROM agents WHERE status IN ({marks}) ORDER BY name, id", wanted
            )
        return [_agent(row) for row in rows]

    def update_agent(self, agent_id: int, **fields: Any) -> Agent:
        """Save changed fields as a new version; a save that changes nothing makes none."""
        with self._write():
            current = self._require_agent(agent_id)
            before = _agent_data(current)
            clean = self._checked_agent({**before, **fields}, agent_id)
            if clean == before:
                return current
            version = current.version + 1
            now = to_iso(utcnow())
            assignments = ", ".join(f"{field} = ?" for field in AGENT_FIELDS)
            self._run(
                f"UPDATE agents SET {assignments}, version = ?, updated_at = ? WHERE id = ?",
                [*_agent_row_values(clean), version, now, agent_id],
            )
            self._run(
                "INSERT INTO agent_versions (agent_id, version, data, created_at)"
                " VALUES (?, ?, ?, ?)",
                [agent_id, version, json.dumps(clean), now],
            )
            if clean["name"] != before["name"]:
                # Linked conversations show the agent's current name, and keep it if it goes.
                self._run(
                    "UPDATE conversations SET agent_name = ? WHERE agent_id = ?",
                    [clean["name"], agent_id],
                )
        return self._require_agent(agent_id)

    def set_agent_status(self, agent_id: int, status: str) -> Agent:
        return self.update_agent(agent_id, status=status)

    def agent_versions(self, agent_id: int) -> list[AgentVersion]:
        """Every saved version of the agent, newest first."""
        rows = self._query(
            "SELECT * FROM agent_versions WHERE agent_id = ? ORDER BY version DESC", [agent_id]
        )
        return [
            AgentVersion(
                agent_id=row["agent_id"],
                version=row["version"],
                data=json.loads(row["data"]),
                created_at=from_iso(row["created_at"]),
            )
            for row in rows
        ]

    def restore_agent_version(self, agent_id: int, version: int) -> Agent:
        """Save that version's fields as the newest version (history is never rewritten)."""
        with self._write():
            row = self._one(
                "SELECT data FROM agent_versions WHERE agent_id = ? AND version = ?",
                [agent_id, version],
            )
            if row is None:
                raise StoreError(f"Agent {agent_id} has no version {version}.")
            data = {k: v for k, v in json.loads(row["data"]).items() if k in AGENT_FIELDS}
            return self.update_agent(agent_id, **data)

    def duplicate_agent(self, agent_id: int, name: str | None = None) -> Agent:
        """A new agent with the same fields, named `name` or "X (copy)", "X (copy 2)" ..."""
        with self._write():
            data = _agent_data(self._require_agent(agent_id))
            data["name"] = name if name is not None else self._copy_name(data["name"])
            new_id = self._insert_agent(self._checked_agent(data))
        return self._require_agent(new_id)

    def _copy_name(self, name: str) -> str:
        number = 1
        while True:
            suffix = " (copy)" if number == 1 else f" (copy {number})"
            candidate = name[: AGENT_NAME_MAX - len(suffix)].rstrip() + suffix
            if not self._name_taken(candidate, None):
                return candidate
            number += 1

    def delete_agent(self, agent_id: int, keep_conversations: bool = True) -> None:
        """Delete the agent and its versions.

        keep_conversations: they stay, unlinked, showing the agent's name as it was. Otherwise
        they go to the trash (restorable until purged), unlinked too.
        """
        with self._write():
            self._require_agent(agent_id)
            if not keep_conversations:
                self._run(
                    "UPDATE conversations SET deleted_at = coalesce(deleted_at, ?)"
                    " WHERE agent_id = ?",
                    [to_iso(utcnow()), agent_id],
                )
            # The foreign key unlinks the conversations (ON DELETE SET NULL).
            self._run("DELETE FROM agents WHERE id = ?", [agent_id])

    def agent_usage(self, agent_id: int) -> AgentUsage:
        """Conversations (outside the trash), their messages and tokens, and the last use."""
        row = self._one(
            """SELECT count(*) AS conversations, coalesce(sum(message_count), 0) AS messages,
                      coalesce(sum(tokens), 0) AS tokens, max(last_activity_at) AS last_used
                 FROM conversations WHERE agent_id = ? AND deleted_at IS NULL""",
            [agent_id],
        )
        return AgentUsage(
            agent_id=agent_id,
            conversations=row["conversations"],
            messages=row["messages"],
            tokens=row["tokens"],
            last_used_at=from_iso(row["last_used"]),
        )

    def default_agent(self) -> Agent:
        """The agent named "Assistant"; else the oldest active agent (the seeded one, renamed);
        else the oldest agent; with no agent at all, a new "Assistant" from the template."""
        row = (
            self._one("SELECT * FROM agents WHERE name = ?", [DEFAULT_AGENT_NAME])
            or self._one("SELECT * FROM agents WHERE status = 'active' ORDER BY id LIMIT 1")
            or self._one("SELECT * FROM agents ORDER BY id LIMIT 1")
        )
        if row:
            return _agent(row)
        with self._write():
            if self.get_agent_by_name(DEFAULT_AGENT_NAME) is None:
                self._seed()
        return self.get_agent_by_name(DEFAULT_AGENT_NAME)

    # --- conversations -------------------------------------------------------------------

    def create_conversation(self, agent_id: int | None = None, title: str = "") -> Conversation:
        """A new conversation; a title given here counts as automatic, so a generated one may
        replace it (only a rename by the user is kept over a generated title)."""
        title = clean_title(title)
        now = to_iso(utcnow())
        with self._write():
            agent_name = self._require_agent(agent_id).name if agent_id is not None else None
            cursor = self._run(
                "INSERT INTO conversations (title, title_source, agent_id, agent_name,"
                " created_at, last_activity_at) VALUES (?, ?, ?, ?, ?, ?)",
                [title, "auto" if title else None, agent_id, agent_name, now, now],
            )
        return self._require_conversation(cursor.lastrowid)

    def get_conversation(self, cid: int) -> Conversation | None:
        row = self._one(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = ?", [cid]
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
        tag: str | None = None,
        query: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[Conversation]:
        """A page of conversations in sidebar order: pinned first, then by last activity.

        view: "inbox" (neither archived nor trashed), "archive", "trash", or "all" (everything
        but the trash). query filters titles (case-insensitive substring).
        """
        where, params = self._conversation_filter(view, agent_id, tag, query)
        rows = self._query(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations c WHERE {where}"
            f" ORDER BY {_SIDEBAR_ORDER} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_conversation(row) for row in rows]

    def _conversation_filter(
        self, view: str, agent_id: int | None, tag: str | None, query: str | None
    ) -> tuple[str, list[Any]]:
        if view not in _VIEW_WHERE:
            raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
        terms, params = [_VIEW_WHERE[view]], []
        if agent_id is not None:
            terms.append("c.agent_id = ?")
            params.append(agent_id)
        if tag:
            terms.append("c.id IN (SELECT conversation_id FROM tags WHERE tag = ?)")
            params.append(tag.strip())
        if query and query.strip():
            terms.append("c.title LIKE ? ESCAPE '\\'")
            escaped = query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{escaped}%")
        return " AND ".join(terms), params

    def count_conversations(self, view: str = "inbox") -> int:
        where, params = self._conversation_filter(view, None, None, None)
        return self._one(f"SELECT count(*) AS n FROM conversations c WHERE {where}", params)["n"]

    def rename_conversation(self, cid: int, title: str, source: str = "user") -> Conversation:
        """Set the title; an empty title clears it, so an automatic one may come again."""
        if source not in ("auto", "user"):
            raise ValueError(f"source must be 'auto' or 'user', not {source!r}")
        title = clean_title(title)
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
            cursor = self._run(
                "UPDATE conversations SET title = ?, title_source = 'auto'"
                " WHERE id = ? AND (title_source IS NULL OR title_source = 'auto')",
                [title, cid],
            )
        return cursor.rowcount > 0

    def _update_conversation(self, cid: int, assignments: str, params: list[Any]) -> None:
        with self._write():
            cursor = self._run(
                f"UPDATE conversations SET {assignments} WHERE id = ?", [*params, cid]
            )
            if cursor.rowcount == 0:
                raise StoreError(f"There is no conversation with id {cid}.")

    def set_pinned(self, cid: int, pinned: bool) -> None:
        self._update_conversation(cid, "pinned = ?", [int(bool(pinned))])

    def set_tags(self, cid: int, tags: list[str]) -> None:
        """Replace the tags: trimmed, blanks dropped, each once (the first spelling kept)."""
        unique: dict[str, str] = {}
        for tag in tags:
            tag = " ".join(str(tag).split())
            if tag and tag.casefold() not in unique:
                unique[tag.casefold()] = tag
        with self._write():
            self._require_conversation(cid)
            self._run("DELETE FROM tags WHERE conversation_id = ?", [cid])
            self._conn.executemany(
                "INSERT INTO tags (conversation_id, tag) VALUES (?, ?)",
                [(cid, tag) for tag in unique.values()],
            )

    def archive(self, cid: int) -> None:
        self._update_conversation(cid, "archived_at = coalesce(archived_at, ?)", [_now()])

    def unarchive(self, cid: int) -> None:
        self._update_conversation(cid, "archived_at = NULL", [])

    def trash(self, cid: int) -> None:
        self._update_conversation(cid, "deleted_at = coalesce(deleted_at, ?)", [_now()])

    def restore(self, cid: int) -> None:
        self._update_conversation(cid, "deleted_at = NULL", [])

    def purge(self, cid: int) -> None:
        """Delete the conversation for good, with its messages and tags."""
        with self._write():
            if self._run("DELETE FROM conversations WHERE id = ?", [cid]).rowcount == 0:
                raise StoreError(f"There is no conversation with id {cid}.")

    def purge_trash(self, older_than_days: float) -> int:
        """Delete for good what has been in the trash at least that many days (0: all of it)."""
        if older_than_days < 0:
            raise ValueError("older_than_days must not be negative")
        cutoff = to_iso(utcnow() - timedelta(days=older_than_days))
        with self._write():
            cursor = self._run(
                "DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at <= ?",
                [cutoff],
            )
        return cursor.rowcount

    def clear_messages(self, cid: int) -> int:
        """Delete every message, keeping the conversation; the number deleted."""
        with self._write():
            self._require_conversation(cid)
            return self._run("DELETE FROM messages WHERE conversation_id = ?", [cid]).rowcount

    def relink_conversation(self, cid: int, agent_id: int | None) -> None:
        """Link to another agent (or to none), recording that agent's name."""
        with self._write():
            agent_name = self._require_agent(agent_id).name if agent_id is not None else None
            self._update_conversation(cid, "agent_id = ?, agent_name = ?", [agent_id, agent_name])

    def stats(self) -> dict[str, Any]:
        """Counts for the dashboard. Conversations, messages and tokens leave out the trash.

        {"agents": {"active": n, "paused": n, "inactive": n}, "conversations": n,
         "archived": n, "trashed": n, "messages": n, "tokens": n}
        """
        agents = {status: 0 for status in ("active", "paused", "inactive")}
        for row in self._query("SELECT status, count(*) AS n FROM agents GROUP BY status"):
            agents[row["status"]] = row["n"]
        row = self._one(
            """SELECT count(*) FILTER (WHERE deleted_at IS NULL) AS conversations,
                      count(*) FILTER (WHERE deleted_at IS NULL AND archived_at IS NOT NULL)
                          AS archived,
                      count(*) FILTER (WHERE deleted_at IS NOT NULL) AS trashed,
                      coalesce(sum(message_count) FILTER (WHERE deleted_at IS NULL), 0)
                          AS messages,
                      coalesce(sum(tokens) FILTER (WHERE deleted_at IS NULL), 0) AS tokens
                 FROM conversations"""
        )
        return {"agents": agents, **row}

    # --- search --------------------------------------------------------------------------

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Full-text matches in message text and titles, best first, outside the trash.

        When more than SEARCH_RANKED messages match, the best of the newest SEARCH_RANKED are
        returned: a word that common is ranked over recent history, in a few milliseconds.

        FTS5 syntax works ("exact phrase", prefix*, OR, NOT); text that is not valid syntax
        (an unbalanced quote, a bare AND) is searched as plain words instead of failing.
        """
        if not query.strip() or limit <= 0:
            return []
        try:
            return self._search(query, limit)
        except sqlite3.OperationalError:
            plain = _plain_words(query)
            if not plain:
                return []
            try:
                return self._search(plain, limit)
            except sqlite3.Error as error:
                raise self._error(error) from error

    def _search(self, match: str, limit: int) -> list[SearchHit]:
        marks = [SNIPPET_OPEN, SNIPPET_CLOSE]
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
                ORDER BY messages_fts.rank LIMIT ?""",
            [*marks, match, bound[0]["rowid"] if bound else 0, limit],
        )
        titles = self._fetch(
            """SELECT c.id AS conversation_id, c.title AS conversation_title,
                      NULL AS message_id, NULL AS role,
                      snippet(conversations_fts, 0, ?, ?, '…', 16) AS snippet,
                      c.last_activity_at AS created_at, conversations_fts.rank AS rank
                 FROM conversations_fts
                 JOIN conversations c ON c.id = conversations_fts.rowid
                WHERE conversations_fts MATCH ? AND c.deleted_at IS NULL
                ORDER BY conversations_fts.rank LIMIT ?""",
            [*marks, match, limit],
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

    # --- messages ------------------------------------------------------------------------

    def add_message(
        self,
        cid: int,
        role: str,
        content: str,
        *,
        status: str = "complete",
        model: str | None = None,
        agent_version: int | None = None,
        tool_call_id: str | None = None,
        tool_name: str | None = None,
        extra: dict[str, Any] | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
    ) -> Message:
        """Append a message and mark the conversation active now."""
        _check_message(role=role, status=status, content=content, extra=extra)
        now = _now()
        with self._write():
            self._update_conversation(cid, "last_activity_at = ?", [now])
            row = {
                "conversation_id": cid,
                "role": role,
                "content": content,
                "status": status,
                "tool_call_id": tool_call_id,
                "tool_name": tool_name,
                "extra": json.dumps(extra or {}),
                "model": model,
                "agent_version": agent_version,
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "created_at": now,
                "stream_owner": _stream_owner() if status == "streaming" else None,
            }
            cursor = self._run(_insert_sql("messages", row), list(row.values()))
        return self._require_message(cursor.lastrowid)

    def update_message(
        self,
        mid: int,
        *,
        content: str | None = None,
        status: str | None = None,
        extra: dict[str, Any] | None = None,
        model: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        edited: bool = False,
    ) -> Message:
        """Change the given fields (None leaves one as it is).

        A status change or an edit counts as activity in the conversation; a streaming flush
        (content only) does not, so it stays one small write.
        """
        _check_message(status=status, content=content, extra=extra)
        changes: dict[str, Any] = {
            "content": content,
            "status": status,
            "extra": None if extra is None else json.dumps(extra),
            "model": model,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
        }
        changes = {key: value for key, value in changes.items() if value is not None}
        if status is not None:
            changes["stream_owner"] = _stream_owner() if status == "streaming" else None
        now = _now()
        if edited:
            changes["edited_at"] = now
        with self._write():
            row = self._one("SELECT conversation_id FROM messages WHERE id = ?", [mid])
            if row is None:
                raise StoreError(f"There is no message with id {mid}.")
            if changes:
                assignments = ", ".join(f"{key} = ?" for key in changes)
                self._run(
                    f"UPDATE messages SET {assignments} WHERE id = ?", [*changes.values(), mid]
                )
            if status is not None or edited:
                self._run(
                    "UPDATE conversations SET last_activity_at = ? WHERE id = ?",
                    [now, row["conversation_id"]],
                )
        return self._require_message(mid)

    def delete_message(self, mid: int) -> None:
        with self._write():
            if self._run("DELETE FROM messages WHERE id = ?", [mid]).rowcount == 0:
                raise StoreError(f"There is no message with id {mid}.")

    def get_message(self, mid: int) -> Message | None:
        row = self._one("SELECT * FROM messages WHERE id = ?", [mid])
        return _message(row) if row else None

    def _require_message(self, mid: int) -> Message:
        message = self.get_message(mid)
        if message is None:
            raise StoreError(f"There is no message with id {mid}.")
        return message

    def count_messages(self, cid: int) -> int:
        row = self._one("SELECT message_count FROM conversations WHERE id = ?", [cid])
        return row["message_count"] if row else 0

    def latest_messages(self, cid: int, n: int = 50) -> list[Message]:
        """The newest n messages, oldest first: a walk down the (conversation_id, id) index."""
        rows = self._query(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT ?", [cid, n]
        )
        return [_message(row) for row in reversed(rows)]

    def messages_before(self, cid: int, message_id: int, n: int = 50) -> list[Message]:
        """The n messages before message_id, oldest first: the next page up."""
        rows = self._query(
            "SELECT * FROM messages WHERE conversation_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
            [cid, message_id, n],
        )
        return [_message(row) for row in reversed(rows)]

    def messages_around(self, cid: int, message_id: int, n: int = 50) -> list[Message]:
        """About n messages with message_id in the middle, oldest first (for a search jump)."""
        before = self.messages_before(cid, message_id, n // 2)
        rows = self._query(
            "SELECT * FROM messages WHERE conversation_id = ? AND id >= ? ORDER BY id LIMIT ?",
            [cid, message_id, max(n - len(before), 1)],
        )
        return before + [_message(row) for row in rows]

    def all_messages(self, cid: int) -> list[Message]:
        rows = self._query("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", [cid])
        return [_message(row) for row in rows]

    def recover_interrupted(self) -> int:
        """Mark answers left streaming by a process that is gone (a crash, a kill) interrupted.

        An answer another live process is streaming right now is left alone: its owner is
        recorded while it streams.
        """
        with self._write():
            rows = self._query("SELECT id, stream_owner FROM messages WHERE status = 'streaming'")
            orphans = [row["id"] for row in rows if not _owner_alive(row["stream_owner"])]
            self._conn.executemany(
                "UPDATE messages SET status = 'interrupted', stream_owner = NULL WHERE id = ?",
                [(mid,) for mid in orphans],
            )
        return len(orphans)

    # --- import / export -----------------------------------------------------------------

    def export_conversation(self, cid: int) -> dict[str, Any]:
        """The conversation and its messages as plain JSON-ready data (see docs/schema.md)."""
        return export_conversation(self._require_conversation(cid), self.all_messages(cid))

    def import_conversation(self, data: dict[str, Any]) -> Conversation:
        """Add a conversation from an agentterm export or one ChatGPT conversation object.

        It becomes a new conversation (new ids), linked to the agent of the same name if there
        is one. Nothing is written unless all of it can be.
        """
        if is_chatgpt_conversation(data):
            data = chatgpt_to_export(data)
        head, messages = checked_export(data)
        now = _now()
        with self._write():
            agent = self.get_agent_by_name(head["agent_name"]) if head["agent_name"] else None
            times = [head["last_activity_at"], *(m["created_at"] for m in messages)]
            last = max((t for t in times if t), default=head["created_at"] or now)
            row = {
                "title": head["title"],
                "title_source": head["title_source"],
                "agent_id": agent.id if agent else None,
                "agent_name": agent.name if agent else head["agent_name"],
                "pinned": head["pinned"],
                "archived_at": head["archived_at"],
                "created_at": head["created_at"] or now,
                "last_activity_at": last,
            }
            cid = self._run(_insert_sql("conversations", row), list(row.values())).lastrowid
            rows = [
                {"conversation_id": cid, **m, "extra": json.dumps(m["extra"])} for m in messages
            ]
            if rows:
                self._conn.executemany(
                    _insert_sql("messages", rows[0]), [list(r.values()) for r in rows]
                )
            self.set_tags(cid, head["tags"])
        return self._require_conversation(cid)


# --- rows to models ----------------------------------------------------------------------


def _now() -> str:
    return to_iso(utcnow())


def _stream_owner() -> str:
    """Recorded on an answer while this process streams it (see recover_interrupted)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(owner: str | None) -> bool:
    """Whether the process named "host:pid" still runs; one on another host is presumed to."""
    host, _, pid_text = (owner or "").rpartition(":")
    if not host or not pid_text.isdigit():
        return False
    if host != socket.gethostname():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    if os.name == "nt":
        return False  # os.kill(pid, 0) would end the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, under another user
    except OSError:
        return False
    return True


def _insert_sql(table: str, row: dict[str, Any]) -> str:
    """INSERT for a row given as {column: value}; column names are ours, never user input."""
    return f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"


def _agent_row_values(clean: dict[str, Any]) -> list[Any]:
    return [json.dumps(clean[f]) if f == "extra" else clean[f] for f in AGENT_FIELDS]


def _agent_data(agent: Agent) -> dict[str, Any]:
    return {field: getattr(agent, field) for field in AGENT_FIELDS}


def _agent(row: dict) -> Agent:
    return Agent(
        **{field: row[field] for field in AGENT_FIELDS if field != "extra"},
        id=row["id"],
        extra=json.loads(row["extra"] or "{}"),
        version=row["version"],
        created_at=from_iso(row["created_at"]),
        updated_at=from_iso(row["updated_at"]),
    )


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
    )


def _message(row: dict) -> Message:
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        role=row["role"],
        content=row["content"],
        status=row["status"],
        tool_call_id=row["tool_call_id"],
        tool_name=row["tool_name"],
        extra=json.loads(row["extra"] or "{}"),
        model=row["model"],
        agent_version=row["agent_version"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        created_at=from_iso(row["created_at"]),
        edited_at=from_iso(row["edited_at"]),
    )


def _plain_words(query: str) -> str:
    """The query as FTS5 plain words, each quoted so none is an operator; a stray AND, OR or
    NOT is dropped when there are other words (it was meant as one)."""
    words = [word for word in query.split() if any(ch.isalnum() for ch in word)]
    meant = [word for word in words if word not in ("AND", "OR", "NOT", "NEAR")]
    return " ".join('"' + word.replace('"', '""') + '"' for word in meant or words)


def _check_message(
    *, role: str | None = None, status: str | None = None, content: Any = None, extra: Any = None
) -> None:
    if role is not None and role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if status is not None and status not in MESSAGE_STATUSES:
        raise ValueError(f"status must be one of {', '.join(MESSAGE_STATUSES)}, not {status!r}")
    if content is not None and not isinstance(content, str):
        raise ValueError("content must be text")
    if extra is not None and not isinstance(extra, dict):
        raise ValueError("extra must be a dict (a JSON object)")
