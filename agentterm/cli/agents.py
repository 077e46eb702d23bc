"""`agentterm agents`: list, show, export, import and rm; the changes to one agent in agent_edit."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from agentterm.cli import agent_edit
from agentterm.cli.context import CliError, Context, out, out_json
from agentterm.models import to_iso

# What a user reads for each stored status; the stored word stays in --json and in the store.
STATUS_WORDS = {"active": "active", "paused": "paused", "inactive": "retired"}
# What a user may type for each: the word they read, and the stored one.
STATUS_INPUT = {"active": "active", "paused": "paused", "retired": "inactive", "inactive": "inactive"}


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status)


def register(commands, common) -> None:
    agents = commands.add_parser("agents", parents=[common], help="agents")
    sub = agents.add_subparsers(dest="agents_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", parents=[common], help="list agents with their status and usage")
    p.add_argument("--all", action="store_true", help="include retired agents")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=list_agents)

    p = sub.add_parser("show", parents=[common], help="show one agent")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=show_agent)

    p = sub.add_parser("export", parents=[common], help="export an agent as TOML")
    p.add_argument("name")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (created 0600) instead of stdout")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(handler=export_agent)

    p = sub.add_parser("import", parents=[common], help="import an agent from a TOML file")
    p.add_argument("file", help="the TOML file, or - for stdin")
    p.add_argument("--name", help="import under this name instead")
    p.add_argument("--replace", action="store_true",
                   help="if an agent has that name, save the file as its new version")
    p.set_defaults(handler=import_agent)

    p = sub.add_parser("rm", parents=[common], help="delete an agent")
    p.add_argument("name")
    p.add_argument("--delete-conversations", action="store_true",
                   help="delete its conversations too (default: keep them, unlinked)")
    p.set_defaults(handler=remove_agent)

    agent_edit.register(sub, common)


def agent_dict(agent, usage=None) -> dict:
    data = asdict(agent)
    data["created_at"] = to_iso(agent.created_at)
    data["updated_at"] = to_iso(agent.updated_at)
    if usage is not None:
        data["usage"] = {**asdict(usage), "last_used_at": to_iso(usage.last_used_at)}
    return data


def get_agent(ctx: Context, name: str):
    agent = ctx.store.get_agent_by_name(name)
    if agent is None:
        raise CliError(f"there is no agent named {name!r}.", "List them with `agentterm agents list --all`.")
    return agent


def list_agents(ctx: Context) -> int:
    statuses = None if ctx.args.all else ("active", "paused")
    agents = ctx.store.list_agents(statuses, owner=ctx.settings.local_user())  # not other users' (serve)
    if ctx.args.json:
        out_json([agent_dict(a, ctx.store.agent_usage(a.id)) for a in agents])
        return 0
    for agent in agents:
        usage = ctx.store.agent_usage(agent.id)
        model = agent.model or "(provider default)"
        out(f"{agent.name}  [{status_word(agent.status)}]  {model}  "
            f"{usage.conversations} conversations, {usage.messages} messages, {usage.tokens} tokens")
    return 0


def show_agent(ctx: Context) -> int:
    agent = get_agent(ctx, ctx.args.name)
    usage = ctx.store.agent_usage(agent.id)
    if ctx.args.json:
        out_json(agent_dict(agent, usage))
        return 0
    for key, value in asdict(agent).items():
        if key not in ("id", "instructions"):
            out(f"{key}: {readable(key, value)}")
    last = readable("last_used_at", usage.last_used_at) if usage.last_used_at else "never"
    out(f"usage: {usage.conversations} conversations, {usage.messages} messages, "
        f"{usage.tokens} tokens, last used {last}")
    out("instructions:" + ("" if agent.instructions else " (none)"))
    if agent.instructions:
        out(agent.instructions)
    return 0


_UNSET = {"provider": "(the default provider)", "model": "(the provider's default)",
          "allowed_tools": "(every tool of its MCP servers)"}


def readable(key: str, value) -> str:
    """A field's value as a user reads it: no Python reprs (None, {'seed': 1}, True)."""
    if key == "status":
        return status_word(value)
    if value is None:
        return _UNSET.get(key, "(not set)")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False) if value else "(none)"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) if value else "(none)"
    if isinstance(value, str) and not value:
        return "(none)"
    return str(value)


def export_agent(ctx: Context) -> int:
    from agentterm.agent_io import agent_to_toml

    from agentterm.cli.chat_io import write_file

    text = agent_to_toml(get_agent(ctx, ctx.args.name))
    if ctx.args.output:
        write_file(ctx.args.output, text, force=ctx.args.force)
        print(f"Wrote {ctx.args.output}", file=sys.stderr)
    else:
        out(text, end="")
    return 0


def import_agent(ctx: Context) -> int:
    from agentterm.agent_io import agent_from_toml

    source = ctx.args.file
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot read {source}: {error.strerror}.", "Check the path.") from None
    except UnicodeDecodeError:
        raise CliError(f"{source} is not UTF-8 text.", "Import a TOML file from `agentterm agents export`.") from None
    fields = agent_from_toml(text, source=source)
    if ctx.args.name:
        fields["name"] = ctx.args.name
    existing = ctx.store.get_agent_by_name(fields["name"])
    if existing is not None and not ctx.args.replace:
        raise CliError(f"an agent named {fields['name']!r} already exists.",
                       "Use --name NEW to import it under another name, or --replace to save it as a new version.")
    if existing is not None:
        fields.pop("name")
        agent = ctx.store.update_agent(existing.id, **fields)
        out(f"Saved {agent.name!r} as version {agent.version}.")
    else:
        agent = ctx.store.create_agent(**fields)
        out(f"Imported {agent.name!r}.")
    return 0


def remove_agent(ctx: Context) -> int:
    agent = get_agent(ctx, ctx.args.name)
    keep = not ctx.args.delete_conversations
    ctx.store.delete_agent(agent.id, keep_conversations=keep)
    what = "its conversations kept" if keep else "its conversations deleted"
    out(f"Deleted {agent.name!r}, {what}.")
    return 0
