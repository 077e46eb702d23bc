"""AgentTermSession: an OpenAI Agents SDK Session kept as one agentterm conversation."""

from __future__ import annotations

import json
import os
from typing import Any

from agentterm.store import AsyncStore, Store

# Message content parts whose text is the message's text (refusals keep theirs in "refusal").
_TEXT_PARTS = {"input_text": "text", "output_text": "text", "refusal": "refusal"}
_MESSAGE_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}


def _where(db: str | os.PathLike[str] | None) -> tuple[Any, str | None]:
    """The store as the CLI finds it: `db`, else $AGENTTERM_DB, else the config's `store`, else
    the data dir's file; with password_cmd's password for a PostgreSQL server (None: libpq's own)."""
    from agentterm.paths import DB_ENV, resolve_config_path, resolve_store
    from agentterm.store.target import is_postgres

    settings = None

    def configured():
        nonlocal settings
        if settings is None:
            from agentterm.config import load_settings

            settings = load_settings(resolve_config_path())
        return settings.store

    target = resolve_store(db, None if db or os.environ.get(DB_ENV) else configured())
    return target, configured().resolve_password() if is_postgres(target) else None


class AgentTermSession:
    """The SDK's `Session` protocol over the agentterm store (`agents.memory.session.Session`).

    The session is the local user's conversation whose session key is `session_id` (made at the
    first `add_items`, origin 'sdk'), so it is in the app's sidebar. Each item is one message:
    text messages read as ordinary messages, other items (tool calls, their outputs, reasoning)
    as short readable lines; every row keeps the exact item in extra["sdk_item"].
    """

    def __init__(self, session_id: str, *, db: str | os.PathLike[str] | Store | None = None,
                 agent: str | None = None, session_settings: Any = None):
        if not isinstance(session_id, str) or not session_id.strip():
            raise ValueError("session_id must be a non-empty string")
        self.session_id = session_id
        if isinstance(session_settings, dict):
            # Only a dict needs the SDK: the runner calls .resolve() on what we hold.
            from agents.memory.session_settings import coerce_session_settings

            session_settings = coerce_session_settings(session_settings)
        self.session_settings = session_settings
        self.agent = agent
        self._db = db
        self._astore: AsyncStore | None = None

    async def _store(self) -> AsyncStore:
        if self._astore is None:
            if isinstance(self._db, Store):
                self._astore = AsyncStore(self._db)
            else:
                target, password = _where(self._db)
                self._astore = await AsyncStore.open(target, password=password)
        return self._astore

    async def close(self) -> None:
        """Close the store this session opened (one given as a Store stays open)."""
        if self._astore is not None and not isinstance(self._db, Store):
            await self._astore.close()
        self._astore = None

    # --- the Session protocol --------------------------------------------------------------

    async def get_items(self, limit: int | None = None) -> list[dict]:
        """The latest `limit` items (all when None), oldest first."""
        if limit is None:
            limit = getattr(self.session_settings, "limit", None)
        astore = await self._store()
        items = await astore.run(self._read, astore.store)
        if limit is None or limit < 0:
            return items
        return items[-limit:] if limit else []

    async def add_items(self, items: list[dict]) -> None:
        if not items:
            return
        astore = await self._store()
        await astore.run(self._write_items, astore.store, [dict(item) for item in items])

    async def pop_item(self) -> dict | None:
        astore = await self._store()
        return await astore.run(self._pop, astore.store)

    async def clear_session(self) -> None:
        astore = await self._store()
        await astore.run(self._clear, astore.store)

    # --- on the store's thread --------------------------------------------------------------

    def _find(self, store: Store) -> dict | None:
        # The local user's rows have no owner; the unique index is on (coalesce(owner, ''), key).
        # Under PostgreSQL's row-level security a member's rows are owned by its role (the
        # column's default there): that is the local user, and the only rows it can see.
        return store._one(
            "SELECT id, deleted_at FROM conversations"
            " WHERE coalesce(owner, '') = ? AND session_key = ?",
            [self._owner(store), self.session_id],
        )

    def _owner(self, store: Store) -> str:
        if "_member" not in self.__dict__:
            from agentterm.store.row_security import member_name

            self.__dict__["_member"] = member_name(store) or ""
        return self.__dict__["_member"]

    def _live_id(self, store: Store) -> int | None:
        row = self._find(store)
        return row["id"] if row and row["deleted_at"] is None else None

    def _read(self, store: Store) -> list[dict]:
        cid = self._live_id(store)
        if cid is None:
            return []
        items = (_item_of(message) for message in store.all_messages(cid))
        return [item for item in items if item is not None]

    def _write_items(self, store: Store, items: list[dict]) -> None:
        rows = [_row_of(item) for item in items]  # refuse a bad item before writing any
        with store._write():
            cid = self._live_id(store)
            if cid is None:
                cid = self._create(store, next((c for r, c, _ in rows if r == "user"), ""))
            for role, content, extra in rows:
                store.add_message(cid, role, content, **extra)

    def _create(self, store: Store, title: str) -> int:
        row = self._find(store)
        if row is not None:
            # The user trashed it: that conversation keeps its messages, the key moves on.
            store._run("UPDATE conversations SET session_key = NULL WHERE id = ?", [row["id"]])
        agent_id = None
        if self.agent is not None:
            found = store.get_agent_by_name(self.agent)
            if found is None:
                raise ValueError(
                    f"There is no agent named {self.agent!r} in {store.path}: "
                    "create it (agentterm agents create) or pass agent=None."
                )
            agent_id = found.id
        conversation = store.create_conversation(agent_id, title=title[:80])
        store._run(
            "UPDATE conversations SET session_key = ?, origin = 'sdk' WHERE id = ?",
            [self.session_id, conversation.id],
        )
        return conversation.id

    def _pop(self, store: Store) -> dict | None:
        with store._write():
            cid = self._live_id(store)
            if cid is None:
                return None
            for message in reversed(store.all_messages(cid)):
                item = _item_of(message)
                store.delete_message(message.id)
                if item is not None:
                    return item
        return None

    def _clear(self, store: Store) -> None:
        with store._write():
            cid = self._live_id(store)
            if cid is not None:
                store.clear_messages(cid)


def _text_of(content: Any) -> tuple[str, bool]:
    """A message's text, and whether it is all text (a string or text parts only)."""
    if isinstance(content, str):
        return content, True
    if not isinstance(content, list):
        return "", False
    pieces, plain = [], True
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in _TEXT_PARTS and isinstance(part.get(_TEXT_PARTS[kind]), str):
            pieces.append(part[_TEXT_PARTS[kind]])
        else:
            plain = False
            pieces.append(f"[{kind or 'part'}]")
    return "".join(pieces), plain


def _row_of(item: dict) -> tuple[str, str, dict]:
    """(role, readable content, add_message keywords) for one SDK item."""
    try:
        json.dumps(item)
    except (TypeError, ValueError) as error:
        raise ValueError(f"an SDK session item must be JSON data ({error})") from None
    kind = item.get("type", "message")
    extra: dict[str, Any] = {"extra": {"sdk_item": item}}
    if kind == "message" and item.get("role") in _MESSAGE_ROLES:
        text, _ = _text_of(item.get("content"))
        return _MESSAGE_ROLES[item["role"]], text, extra
    if kind == "function_call":
        return "assistant", f"called {item.get('name')}({item.get('arguments', '')})", extra
    if kind == "function_call_output":
        output = item.get("output")
        text = output if isinstance(output, str) else _text_of(output)[0]
        extra["tool_call_id"] = item.get("call_id")
        return "tool", text, extra
    if kind == "reasoning":
        summary = "\n".join(
            part.get("text", "") for part in item.get("summary") or [] if isinstance(part, dict)
        )
        extra["thinking"] = summary
        return "assistant", f"(reasoning) {summary}".strip(), extra
    return "assistant", f"({kind})", extra


def _item_of(message: Any) -> dict | None:
    """The SDK item a message holds; a text message written elsewhere (the app) as a plain one."""
    item = (message.extra or {}).get("sdk_item")
    if isinstance(item, dict):
        return item
    if message.role in ("user", "assistant", "system") and message.content:
        return {"role": message.role, "content": message.content}
    return None


__all__ = ["AgentTermSession"]
