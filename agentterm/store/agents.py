"""The store's agents: every save a version, validated, duplicated, deleted, counted."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from agentterm.models import (
    AGENT_NAME_MAX,
    Agent,
    AgentUsage,
    AgentVersion,
    from_iso,
)
from agentterm.store.connection import StoreConnection
from agentterm.store.errors import StoreError, ValidationError
from agentterm.store.validation import (
    AGENT_DEFAULTS,
    AGENT_FIELDS,
    JSON_FIELDS,
    normalise_agent_fields,
)

DEFAULT_AGENT_NAME = "Assistant"


def agents_seen_by(owner: str | None, table: str = "agents") -> tuple[str, list[Any]]:
    """SQL for the agents the local user `owner` sees in the app and the CLI: theirs, the
    unowned (m006: NULL is the local user) and the shared; None: every agent."""
    if owner is None:
        return "1 = 1", []
    return f"({table}.owner IS NULL OR {table}.owner = ? OR {table}.shared = 1)", [owner]


class AgentsMixin(StoreConnection):
    """Agents, their versions and usage; seeding the default agent into a new store."""

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
        now, version = self._now_iso(), 1
        row = dict(zip(AGENT_FIELDS, _agent_row_values(clean), strict=True))
        agent_id = self._insert(
            "agents", {**row, "version": version, "created_at": now, "updated_at": now}
        )
        self._run(
            "INSERT INTO agent_versions (agent_id, version, data, created_at) VALUES (?, ?, ?, ?)",
            [agent_id, version, json.dumps(clean), now],
        )
        return agent_id

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

    def list_agents(self, statuses: Iterable[str] | None = None,
                    owner: str | None = None) -> list[Agent]:
        """Agents by name, optionally only those with the given statuses; owner: only those the
        local user `owner` sees (agents_seen_by); None: everyone's."""
        where, params = agents_seen_by(owner)
        if statuses is not None:
            wanted = list(statuses)
            if not wanted:
                return []  # `IN ()` is SQLite's alone
            where += f" AND status IN ({', '.join('?' * len(wanted))})"
            params += wanted
        rows = self._query(f"SELECT * FROM agents WHERE {where} ORDER BY name, id", params)
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
            now = self._now_iso()
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
            # A version saved before a field existed had that field's default.
            return self.update_agent(agent_id, **{**AGENT_DEFAULTS, **data})

    def duplicate_agent(self, agent_id: int, name: str | None = None) -> Agent:
        """A new agent with the same fields, named `name` or "X (copy)", "X (copy 2)" ..."""
        with self._write():
            data = _agent_data(self._require_agent(agent_id))
            data["name"] = name if name is not None else self._copy_name(data["name"])
            new_id = self._insert_agent(self._checked_agent(data))
            self._run(
                "INSERT INTO agent_allowed_tools (agent_id, tool_name, created_at)"
                " SELECT ?, tool_name, created_at FROM agent_allowed_tools WHERE agent_id = ?",
                [new_id, agent_id],
            )
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
                    [self._now_iso(), agent_id],
                )
            # The foreign key unlinks the conversations (ON DELETE SET NULL).
            self._run("DELETE FROM agents WHERE id = ?", [agent_id])

    def allow_tool(self, agent_id: int, tool_name: str) -> None:
        """Always allow this tool ("server.tool") for this agent: no more approval asked."""
        tool_name = tool_name.strip()
        if not tool_name:
            raise ValueError("tool_name must not be empty")
        with self._write():
            self._require_agent(agent_id)
            self._run(
                "INSERT INTO agent_allowed_tools (agent_id, tool_name, created_at)"
                " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [agent_id, tool_name, self._now_iso()],
            )

    def revoke_tool(self, agent_id: int, tool_name: str) -> None:
        """Ask again before this tool runs for this agent (a no-op when it was not allowed)."""
        with self._write():
            self._run(
                "DELETE FROM agent_allowed_tools WHERE agent_id = ? AND tool_name = ?",
                [agent_id, tool_name.strip()],
            )

    def allowed_tools_for(self, agent_id: int) -> set[str]:
        """The tools ("server.tool") always allowed for this agent."""
        rows = self._query(
            "SELECT tool_name FROM agent_allowed_tools WHERE agent_id = ?", [agent_id]
        )
        return {row["tool_name"] for row in rows}

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

    def _seed(self) -> None:
        from agentterm.templates import load_template

        fields = load_template("assistant")
        fields["name"] = DEFAULT_AGENT_NAME
        self._insert_agent(self._checked_agent({**AGENT_DEFAULTS, **fields}))


def _agent_row_values(clean: dict[str, Any]) -> list[Any]:
    return [
        json.dumps(clean[f]) if f in JSON_FIELDS and clean[f] is not None else clean[f]
        for f in AGENT_FIELDS
    ]


def _agent_data(agent: Agent) -> dict[str, Any]:
    return {field: getattr(agent, field) for field in AGENT_FIELDS}


def _agent(row: dict) -> Agent:
    return Agent(
        **{field: row[field] for field in AGENT_FIELDS if field not in JSON_FIELDS},
        id=row["id"],
        extra=json.loads(row["extra"] or "{}"),
        mcp_servers=json.loads(row["mcp_servers"] or "[]"),
        allowed_tools=None if row["allowed_tools"] is None else json.loads(row["allowed_tools"]),
        version=row["version"],
        created_at=from_iso(row["created_at"]),
        updated_at=from_iso(row["updated_at"]),
    )
