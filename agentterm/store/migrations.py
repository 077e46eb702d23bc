"""The schema as registered migrations, applied in order; its version is PRAGMA user_version."""

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
    """
    target = latest_version() if target is None else target
    applied = []
    for version in range(schema_version(db) + 1, target + 1):
        MIGRATIONS[version - 1](db)
        # PRAGMA takes no parameters; version is an int we computed.
        db.execute(f"PRAGMA user_version = {int(version)}")
        applied.append(version)
    return applied


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
