"""Exporting a conversation as plain data, and importing one (ours or ChatGPT's) as new."""

from __future__ import annotations

import json
from typing import Any

from agentterm.models import Conversation
from agentterm.store.connection import StoreConnection, insert_sql, now_iso
from agentterm.store.exports import checked_export, export_conversation
from agentterm.store.importers import chatgpt_to_export, is_chatgpt_conversation


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
        if is_chatgpt_conversation(data):
            data = chatgpt_to_export(data)
        head, messages = checked_export(data)
        now = now_iso()
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
            cid = self._run(insert_sql("conversations", row), list(row.values())).lastrowid
            rows = [
                {"conversation_id": cid, **m, "extra": json.dumps(m["extra"])} for m in messages
            ]
            if rows:
                self._conn.executemany(
                    insert_sql("messages", rows[0]), [list(r.values()) for r in rows]
                )
            self.set_tags(cid, head["tags"])
        return self._require_conversation(cid)
