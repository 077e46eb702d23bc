"""Row-level security on PostgreSQL: each member's role sees only its own rows, inside the database.

Keyed by the database role (current_user): each person's app connects as a role of their own,
so a bug in one of our queries cannot show another member's conversations, messages or tool
calls; the server refuses the rows. Agents that are shared (or that belong to nobody, as the
store's seeded default) are seen by all and changed by their owner only. The tables' owner
(the role that created the store, and `agentterm serve`, which keeps its users apart itself)
is not bound: PostgreSQL applies no policy to a table's owner unless forced, so upgrades and
`store copy` work as before. docs/postgres.md has the setting up.

Applied by `agentterm store secure` (the tables' owner runs it once; again after an upgrade is
harmless: every policy is dropped and made again in one transaction).
"""

from __future__ import annotations

import re

from agentterm.store.errors import StoreError

# A row is the role's when its owner column names the role. New rows get it by default, so
# the app (which leaves owner out) writes the right owner without knowing about roles.
_MINE = "owner = current_user"
_CONVERSATION = "EXISTS (SELECT 1 FROM conversations c WHERE c.id = {table}.conversation_id)"
_OWN_AGENT = "EXISTS (SELECT 1 FROM agents a WHERE a.id = {table}.agent_id AND a.owner = current_user)"
_SEEN_AGENT = "EXISTS (SELECT 1 FROM agents a WHERE a.id = {table}.agent_id)"

# table -> (who may read a row, who may write one). Policies on the tables a subquery names
# apply inside it too: a message is visible when its conversation is.
POLICIES: dict[str, tuple[str, str]] = {
    "agents": (f"{_MINE} OR shared = 1 OR owner IS NULL", _MINE),
    "agent_versions": (_SEEN_AGENT, _OWN_AGENT),
    "agent_allowed_tools": (_SEEN_AGENT, _OWN_AGENT),
    "conversations": (_MINE, _MINE),
    "messages": (_CONVERSATION, _CONVERSATION),
    "tags": (_CONVERSATION, _CONVERSATION),
    "imports": (_CONVERSATION, _CONVERSATION),
    "tool_calls": ("EXISTS (SELECT 1 FROM messages m WHERE m.id = tool_calls.message_id)",) * 2,
    # Users and their token hashes: a member sees only their own.
    "users": ("name = current_user",) * 2,
    "tokens": ("EXISTS (SELECT 1 FROM users u WHERE u.id = tokens.user_id)",) * 2,
}
OWNED = ("agents", "conversations")
_ROLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _require_postgres(store) -> None:
    if getattr(store, "backend", "sqlite") != "postgres":
        raise StoreError(f"The store {store.path} is a SQLite file: row-level security is PostgreSQL's. "
                         "A file is kept private by its permissions (0600).")


def statements() -> list[str]:
    """The SQL that turns row-level security on, every policy made afresh."""
    sql = []
    for table, (read, write) in POLICIES.items():
        read, write = read.format(table=table), write.format(table=table)
        sql += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS agentterm_read ON {table}",
            f"DROP POLICY IF EXISTS agentterm_write ON {table}",
            f"CREATE POLICY agentterm_read ON {table} FOR SELECT USING ({read})",
            # FOR ALL: insert, update and delete; WITH CHECK keeps a row from being given away.
            f"CREATE POLICY agentterm_write ON {table} FOR ALL USING ({write}) WITH CHECK ({write})",
        ]
    sql += [f"ALTER TABLE {table} ALTER COLUMN owner SET DEFAULT current_user" for table in OWNED]
    return sql


def enable_row_security(store) -> None:
    """Turn the policies on (idempotent). Run as the tables' owner."""
    _require_postgres(store)
    with store._write():
        for statement in statements():
            store._run(statement)


def grant_member(store, role: str) -> None:
    """Let an existing login role use the store as a member: its rows only, under the policies."""
    _require_postgres(store)
    if not _ROLE.fullmatch(role):
        raise StoreError(f"{role!r} is not a role name agentterm grants to: letters, digits and _, "
                         "starting with a letter.")
    found = store._one("SELECT rolsuper OR rolbypassrls AS above FROM pg_roles WHERE rolname = ?", [role])
    if found is None:
        raise StoreError(f"There is no role {role} on the server: create it first "
                         f"(CREATE ROLE {role} LOGIN PASSWORD '...'; docs/postgres.md).")
    if found["above"]:
        raise StoreError(f"The role {role} is a superuser or bypasses row-level security: the policies "
                         "would not bind it. Give each member an ordinary role.")
    with store._write():
        store._run(f"GRANT USAGE ON SCHEMA public TO {role}")
        store._run(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        store._run(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        # The schema's own bookkeeping is read by every open, written only by upgrades.
        store._run(f"REVOKE INSERT, UPDATE, DELETE ON migrations FROM {role}")


def row_security_on(store) -> bool:
    """Whether every table with a policy has row-level security enabled (for doctor)."""
    if getattr(store, "backend", "sqlite") != "postgres":
        return False
    rows = store._query("SELECT relname FROM pg_class WHERE relrowsecurity AND relkind = 'r' "
                        "AND relnamespace = current_schema()::regnamespace")
    return set(POLICIES) <= {row["relname"] for row in rows}


def member_name(store) -> str | None:
    """The role the store acts as when row-level security binds it (rows default to its name),
    so that the app's own idea of its user matches the rows it writes; None otherwise."""
    if getattr(store, "backend", "sqlite") != "postgres" or not row_security_on(store):
        return None
    return store._one("SELECT current_user AS name")["name"]
