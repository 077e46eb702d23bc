"""The schema as registered migrations, applied in order, recorded by name in `migrations`."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Migrations take a sqlite-utils Database or a bare sqlite3 connection: they only execute().
    from sqlite_utils import Database

Migration = Callable[["Database | sqlite3.Connection"], None]

MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Register a migration; its version is its place in the list, counting from 1."""
    MIGRATIONS.append(fn)
    return fn


def latest_version() -> int:
    return len(MIGRATIONS)


def schema_version(db: Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def apply_migrations(db: Database, target: int | None = None) -> list[int]:
    """Apply every migration above the store's version, up to `target`; return those applied.

    The caller owns the transaction: the store runs this inside one BEGIN IMMEDIATE, so an
    upgrade happens whole or not at all, and two processes opening a new store migrate it once.
    Each migration applied is recorded in `migrations` (its version, name and time); those
    applied before that table existed (migration 4) are listed there with no time.
    """
    target = latest_version() if target is None else target
    applied = []
    for version in range(schema_version(db) + 1, target + 1):
        MIGRATIONS[version - 1](db)
        # PRAGMA takes no parameters; version is an int we computed.
        db.execute(f"PRAGMA user_version = {int(version)}")
        applied.append(version)
    if applied and _has_migrations_table(db):
        now = _now()
        for version in applied:
            db.execute(
                "INSERT OR REPLACE INTO migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [version, MIGRATIONS[version - 1].__name__, now],
            )
    return applied


def applied_migrations(db: Database) -> list[tuple[int, str, str | None]]:
    """(version, name, applied_at) of each migration recorded in the store, oldest first."""
    if not _has_migrations_table(db):
        return []
    return [tuple(row) for row in db.execute("SELECT * FROM migrations ORDER BY version")]


def foreign_migration(db: Database) -> tuple[int, str, str] | None:
    """(version, name recorded, name here) of the first migration the store records under a
    name this agentterm gives another migration: a store written by another build. None when
    every recorded name matches."""
    for version, name, _ in applied_migrations(db):
        if version <= latest_version() and MIGRATIONS[version - 1].__name__ != name:
            return version, name, MIGRATIONS[version - 1].__name__
    return None


def _has_migrations_table(db: Database) -> bool:
    return bool(
        db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'")
        .fetchone()
    )


def _now() -> str:
    from agentterm.models import to_iso, utcnow

    return to_iso(utcnow())


def _run_script(db: Database, script: str) -> None:
    """Run the statements one by one inside the caller's transaction.

    sqlite3's executescript() would commit first, and sqlite-utils' splitter walks the text a
    character at a time (most of a new store's opening time); whole lines are enough here.
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in a migration: {statement.strip()[:60]}")


@migration
def m001_initial(db: Database) -> None:
    """Agents and their versions, conversations, messages, tags, and the sidebar's indexes.

    Ids are AUTOINCREMENT so a deleted agent's, conversation's or message's id never comes
    back as another one's, in the app's state or in a user's script.
    """
    _run_script(
        db,
        """
        CREATE TABLE agents (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL COLLATE NOCASE UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'paused', 'inactive')),
            provider TEXT,
            model TEXT,
            instructions TEXT NOT NULL DEFAULT '',
            temperature REAL,
            top_p REAL,
            max_tokens INTEGER,
            extra TEXT NOT NULL DEFAULT '{}',
            version INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE agent_versions (
            agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (agent_id, version)
        );

        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            title TEXT NOT NULL DEFAULT '',
            title_source TEXT CHECK (title_source IN ('auto', 'user')),
            agent_id INTEGER REFERENCES agents(id) ON DELETE SET NULL,
            agent_name TEXT,
            pinned INTEGER NOT NULL DEFAULT 0,
            archived_at TEXT,
            deleted_at TEXT,
            created_at TEXT NOT NULL,
            last_activity_at TEXT NOT NULL,
            message_count INTEGER NOT NULL DEFAULT 0,
            tokens INTEGER NOT NULL DEFAULT 0
        );

        -- One partial index per sidebar view, in sidebar order, so a page is an index walk.
        CREATE INDEX conversations_inbox
            ON conversations (pinned DESC, last_activity_at DESC, id DESC)
            WHERE archived_at IS NULL AND deleted_at IS NULL;
        CREATE INDEX conversations_archive
            ON conversations (pinned DESC, last_activity_at DESC, id DESC)
            WHERE archived_at IS NOT NULL AND deleted_at IS NULL;
        CREATE INDEX conversations_all
            ON conversations (pinned DESC, last_activity_at DESC, id DESC)
            WHERE deleted_at IS NULL;
        CREATE INDEX conversations_trash
            ON conversations (pinned DESC, last_activity_at DESC, id DESC)
            WHERE deleted_at IS NOT NULL;
        CREATE INDEX conversations_deleted_at
            ON conversations (deleted_at) WHERE deleted_at IS NOT NULL;
        CREATE INDEX conversations_agent
            ON conversations (agent_id, last_activity_at);

        CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id INTEGER NOT NULL
                REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
            content TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'complete'
                CHECK (status IN ('complete', 'streaming', 'interrupted', 'error')),
            tool_call_id TEXT,
            tool_name TEXT,
            extra TEXT NOT NULL DEFAULT '{}',
            model TEXT,
            agent_version INTEGER,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            created_at TEXT NOT NULL,
            edited_at TEXT,
            -- While streaming: "host:pid" of the process writing it, so that opening the store
            -- elsewhere does not mark a live answer interrupted. NULL otherwise.
            stream_owner TEXT
        );

        CREATE INDEX messages_conversation ON messages (conversation_id, id);
        -- Recovery on open looks only at rows still marked streaming: a handful at most.
        CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';

        CREATE TABLE tags (
            conversation_id INTEGER NOT NULL
                REFERENCES conversations(id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            PRIMARY KEY (conversation_id, tag)
        );
        CREATE INDEX tags_tag ON tags (tag, conversation_id);

        -- The sidebar reads counts from conversations, never from messages.
        CREATE TRIGGER messages_count_insert AFTER INSERT ON messages BEGIN
            UPDATE conversations
               SET message_count = message_count + 1,
                   tokens = tokens + coalesce(new.prompt_tokens, 0)
                                   + coalesce(new.completion_tokens, 0)
             WHERE id = new.conversation_id;
        END;
        CREATE TRIGGER messages_count_delete AFTER DELETE ON messages BEGIN
            UPDATE conversations
               SET message_count = message_count - 1,
                   tokens = tokens - coalesce(old.prompt_tokens, 0)
                                   - coalesce(old.completion_tokens, 0)
             WHERE id = old.conversation_id;
        END;
        CREATE TRIGGER messages_count_update
        AFTER UPDATE OF conversation_id, prompt_tokens, completion_tokens ON messages BEGIN
            UPDATE conversations
               SET message_count = message_count - 1,
                   tokens = tokens - coalesce(old.prompt_tokens, 0)
                                   - coalesce(old.completion_tokens, 0)
             WHERE id = old.conversation_id;
            UPDATE conversations
               SET message_count = message_count + 1,
                   tokens = tokens + coalesce(new.prompt_tokens, 0)
                                   + coalesce(new.completion_tokens, 0)
             WHERE id = new.conversation_id;
        END;
        """,
    )


@migration
def m002_full_text_search(db: Database) -> None:
    """FTS5 over message text and conversation titles, kept in step by triggers."""
    _run_script(
        db,
        """
        CREATE VIRTUAL TABLE messages_fts USING fts5(
            content, content="messages", content_rowid="id",
            tokenize="porter unicode61 remove_diacritics 2"
        );
        CREATE VIRTUAL TABLE conversations_fts USING fts5(
            title, content="conversations", content_rowid="id",
            tokenize="porter unicode61 remove_diacritics 2"
        );

        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
        END;
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, content)
            VALUES ('delete', old.id, old.content);
        END;
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, content)
            VALUES ('delete', old.id, old.content);
            INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
        END;

        -- Only a title change touches the index: counters change on every message.
        CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
            INSERT INTO conversations_fts (rowid, title) VALUES (new.id, new.title);
        END;
        CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
            INSERT INTO conversations_fts (conversations_fts, rowid, title)
            VALUES ('delete', old.id, old.title);
        END;
        CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN
            INSERT INTO conversations_fts (conversations_fts, rowid, title)
            VALUES ('delete', old.id, old.title);
            INSERT INTO conversations_fts (rowid, title) VALUES (new.id, new.title);
        END;

        -- A store upgraded from version 1 already holds rows: index them.
        INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
        INSERT INTO conversations_fts (conversations_fts) VALUES ('rebuild');
        """,
    )


@migration
def m003_import_sources(db: Database) -> None:
    """Where an imported conversation came from, so importing one file twice adds nothing twice."""
    _run_script(
        db,
        """
        CREATE TABLE imports (
            source TEXT PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            imported_at TEXT NOT NULL
        );
        CREATE INDEX imports_conversation ON imports (conversation_id);
        """,
    )


@migration
def m004_tools_thinking_variants(db: Database) -> None:
    """Migrations by name; tool calls; thinking; heartbeats; answer variants; agents' tools.

    Existing answers get `reply_to` (the user message before them) so they can be retried
    as variants; `stream_owner` stays, unused, since old agentterms still write it.
    """
    _run_script(
        db,
        """
        CREATE TABLE migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            applied_at TEXT
        );
        INSERT INTO migrations (version, name, applied_at) VALUES
            (1, 'm001_initial', NULL),
            (2, 'm002_full_text_search', NULL),
            (3, 'm003_import_sources', NULL);

        ALTER TABLE messages ADD COLUMN thinking TEXT NOT NULL DEFAULT '';
        ALTER TABLE messages ADD COLUMN heartbeat_at TEXT;
        ALTER TABLE messages ADD COLUMN reply_to INTEGER;
        ALTER TABLE messages ADD COLUMN variant INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE messages ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0;

        -- Answers already stored answer the user message before them.
        UPDATE messages SET reply_to = (
            SELECT max(u.id) FROM messages u
             WHERE u.conversation_id = messages.conversation_id
               AND u.role = 'user' AND u.id < messages.id)
         WHERE role IN ('assistant', 'tool');
        -- A stream from before heartbeats has none: the next recovery finds it stale.

        -- The context (what is shown and sent) skips superseded variants: an index walk still.
        CREATE INDEX messages_context ON messages (conversation_id, id) WHERE superseded = 0;
        CREATE INDEX messages_reply_to ON messages (reply_to, variant)
            WHERE reply_to IS NOT NULL;

        CREATE TABLE tool_calls (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            call_id TEXT NOT NULL DEFAULT '',
            call_index INTEGER NOT NULL DEFAULT 0,
            name TEXT NOT NULL,
            server TEXT NOT NULL DEFAULT '',
            tool TEXT NOT NULL DEFAULT '',
            arguments TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'approval', 'running', 'done', 'denied',
                                  'failed', 'interrupted', 'cancelled')),
            result TEXT,
            error TEXT,
            reason TEXT,
            created_at TEXT NOT NULL,
            started_at TEXT,
            ended_at TEXT
        );
        CREATE INDEX tool_calls_message ON tool_calls (message_id, call_index);
        CREATE INDEX tool_calls_open ON tool_calls (status)
            WHERE status IN ('pending', 'approval', 'running');

        ALTER TABLE agents ADD COLUMN mcp_servers TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE agents ADD COLUMN allowed_tools TEXT;
        ALTER TABLE agents ADD COLUMN tool_approval TEXT NOT NULL DEFAULT 'ask'
            CHECK (tool_approval IN ('ask', 'auto'));

        CREATE TABLE agent_allowed_tools (
            agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            tool_name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (agent_id, tool_name)
        );
        """,
    )


@migration
def m005_drafts_forks_overrides(db: Database) -> None:
    """Drafts, forks (a link to the parent and the message forked at), per-conversation model,
    provider and instructions; tags matched ignoring case."""
    _run_script(
        db,
        """
        ALTER TABLE conversations ADD COLUMN draft TEXT NOT NULL DEFAULT '';
        ALTER TABLE conversations ADD COLUMN parent_id INTEGER
            REFERENCES conversations(id) ON DELETE SET NULL;
        ALTER TABLE conversations ADD COLUMN forked_from_message_id INTEGER;
        ALTER TABLE conversations ADD COLUMN model TEXT;
        ALTER TABLE conversations ADD COLUMN provider TEXT;
        ALTER TABLE conversations ADD COLUMN instructions_override TEXT;
        -- Purging a parent unlinks its forks: the foreign key looks them up here.
        CREATE INDEX conversations_parent ON conversations (parent_id) WHERE parent_id IS NOT NULL;
        CREATE INDEX tags_tag_nocase ON tags (tag COLLATE NOCASE, conversation_id);
        """,
    )


@migration
def m006_users_tokens(db: Database) -> None:
    """Users and their API tokens (sha256 hashes only); owners of agents and conversations.

    owner NULL means the local user (the app's and the CLI's); a session key is the API
    client's session_id, unique per owner.
    """
    _run_script(
        db,
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        );
        CREATE TABLE tokens (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name TEXT NOT NULL DEFAULT '',
            token_hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_used_at TEXT,
            revoked_at TEXT
        );
        ALTER TABLE agents ADD COLUMN owner TEXT;
        ALTER TABLE agents ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE conversations ADD COLUMN owner TEXT;
        ALTER TABLE conversations ADD COLUMN session_key TEXT;
        ALTER TABLE conversations ADD COLUMN origin TEXT NOT NULL DEFAULT 'app'
            CHECK (origin IN ('app', 'api', 'sdk'));
        ALTER TABLE conversations ADD COLUMN ephemeral INTEGER NOT NULL DEFAULT 0;
        CREATE UNIQUE INDEX conversations_session_key
            ON conversations (coalesce(owner, ''), session_key) WHERE session_key IS NOT NULL;
        """,
    )


@migration
def m007_context_cut(db: Database) -> None:
    """Where a conversation's context starts once its oldest turns were dropped or summarised.

    context_from: the first message sent to the model (older ones are kept and shown, not sent);
    context_cut_at: the newest message when that was decided, so a usage report from before it
    no longer measures the context.
    """
    _run_script(
        db,
        """
        ALTER TABLE conversations ADD COLUMN context_from INTEGER;
        ALTER TABLE conversations ADD COLUMN context_cut_at INTEGER;
        """,
    )


@migration
def m008_conversations_owner(db: Database) -> None:
    """An index on the conversations that have an owner (users made through `agentterm serve`),
    for the server's `owner = ?`. Partial: the app's `owner IS NULL OR owner = ?` keeps walking
    the view's index (the local user's rows have no owner); a full index on owner led SQLite,
    without statistics, to read every conversation by owner and sort them."""
    _run_script(
        db,
        "CREATE INDEX conversations_owner ON conversations (owner) WHERE owner IS NOT NULL;",
    )
