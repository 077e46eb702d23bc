"""Exporting a conversation as plain data, and importing one (ours or ChatGPT's) as new."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agentterm.models import Conversation
from agentterm.store.connection import StoreConnection, insert_sql
from agentterm.store.errors import StoreError
from agentterm.store.exports import checked_export, export_conversation
from agentterm.store.importers import chatgpt_to_export, is_chatgpt_conversation, source_id


@dataclass
class ImportResult:
    """What an import of many conversations did, item by item (items count from 1)."""

    imported: list[Conversation] = field(default_factory=list)
    already: list[tuple[int, Conversation]] = field(default_factory=list)
    """(item, the conversation an earlier import made of it), skipped."""
    refused: list[tuple[int, str, str]] = field(default_factory=list)
    """(item, its title, why), skipped."""


class ImportExportMixin(StoreConnection):
    """Conversations out as plain data and back in, all or nothing."""

    def export_conversation(self, cid: int) -> dict[str, Any]:
        """The conversation and its messages as plain JSON-ready data (see docs/schema.md)."""
        return export_conversation(self._require_conversation(cid), self.all_messages(cid))

    def import_conversation(self, data: dict[str, Any]) -> Conversation:
        """Add a conversation from an agentterm export or one ChatGPT conversation object.

        It becomes a new conversation (new ids), linked to the agent of the same name if there
        is one. Nothing is written unless all of it can be.
        """
        head, messages = _checked(data)
        with self._write():
            cid = self._insert_import(head, messages, source_id(data))
        return self._require_conversation(cid)

    def import_conversations(self, items: list[Any], *, duplicates: bool = False) -> ImportResult:
        """Import many conversations in one transaction: every good one, or (on a store
        fault) none. An item that cannot be read is refused with the reason; one imported
        before (by its source id) is skipped unless `duplicates`."""
        result = ImportResult()
        checked = []
        for number, item in enumerate(items, start=1):
            title = _title_of(item)
            try:
                head, messages = _checked(item)
                source = source_id(item)
            except StoreError as error:
                result.refused.append((number, title, str(error).removeprefix("Cannot import: ")))
                continue
            except RecursionError:
                result.refused.append((number, title, "it is nested too deeply."))
                continue
            checked.append((number, head, messages, source))
        with self._write():
            for number, head, messages, source in checked:
                earlier = self._imported_as(source)
                if earlier is not None and not duplicates:
                    result.already.append((number, earlier))
                    continue
                try:
                    cid = self._insert_import(head, messages, source)
                except RecursionError:
                    result.refused.append((number, head["title"], "it is nested too deeply."))
                    continue
                result.imported.append(cid)
        result.imported = [self._require_conversation(cid) for cid in result.imported]
        result.refused.sort()
        return result

    def _imported_as(self, source: str) -> Conversation | None:
        row = self._one("SELECT conversation_id FROM imports WHERE source = ?", [source])
        return self.get_conversation(row["conversation_id"]) if row else None

    def _insert_import(self, head: dict, messages: list[dict], source: str) -> int:
        now = self._now_iso()
        # json.dumps first: a RecursionError must come before any row is written.
        extras = [json.dumps(m["extra"]) for m in messages]
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
        cid = self._insert("conversations", row)
        rows = [{"conversation_id": cid, **m, "extra": e} for m, e in zip(messages, extras)]
        if rows:
            self._run_many(insert_sql("messages", rows[0]), [list(r.values()) for r in rows])
            # Imported answers answer the prompt before them, so they can be regenerated.
            self._run(
                "UPDATE messages SET reply_to = (SELECT max(u.id) FROM messages u"
                " WHERE u.conversation_id = messages.conversation_id AND u.role = 'user'"
                " AND u.id < messages.id)"
                " WHERE conversation_id = ? AND role IN ('assistant', 'tool')",
                [cid],
            )
        self.set_tags(cid, head["tags"])
        # A duplicate asked for takes the source over: the next import finds the newest copy.
        self._upsert(
            "imports", {"source": source, "conversation_id": cid, "imported_at": now}, ("source",)
        )
        return cid


def _checked(data: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if is_chatgpt_conversation(data):
        data = chatgpt_to_export(data)
    return checked_export(data)


def _title_of(item: Any) -> str:
    if isinstance(item, dict):
        head = item.get("conversation") if item.get("format") == "agentterm" else item
        title = head.get("title") if isinstance(head, dict) else None
        if isinstance(title, str):
            return " ".join(title.split())[:60]
    return ""
