"""`agentterm agents`: list, show, export, import and rm agents."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

from agentterm.cli.context import CliError, Context, out, out_json
from agentterm.models import to_iso


def register(commands, common) -> None:
    agents = commands.add_parser("agents", parents=[common], help="agents")
    sub = agents.add_subparsers(dest="agents_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", parents=[common], help="list agents with their status and usage")
    p.add_argument("--all", action="store_true", help="include inactive (retired) agents")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=list_agents)

    p = sub.add_parser("show", parents=[common], help="show one agent")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=show_agent)

    p = sub.add_parser("export", parents=[common], help="export an agent as TOML")
    p.add_argument("name")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
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


def agent_dict(agent, usage=None) -> dict:
    data = asdict(agent)
    data["created_at"] = to_iso(agent.created_at)
    data["updated_at"] = to_iso(agent.updated_at)
    if usage is not None:
        data["usage"] = {**asdict(usage), "last_used_at": to_iso(usage.last_used_at)}
    return data


def _get(ctx: Context, name: str):
    agent = ctx.store.get_agent_by_name(name)
    if agent is None:
        raise CliError(f"there is no agent named {name!r}.", "List them with `agentterm agents list --all`.")
    return agent


def list_agents(ctx: Context) -> int:
    statuses = None if ctx.args.all else ("active", "paused")
    agents = ctx.store.list_agents(statuses)
    if ctx.args.json:
        out_json([agent_dict(a, ctx.store.agent_usage(a.id)) for a in agents])
        return 0
    for agent in agents:
        usage = ctx.store.agent_usage(agent.id)
        model = agent.model or "(provider default)"
        out(f"{agent.name}  [{agent.status}]  {model}  "
            f"{usage.conversations} conversations, {usage.messages} messages, {usage.tokens} tokens")
    return 0


def show_agent(ctx: Context) -> int:
    agent = _get(ctx, ctx.args.name)
    usage = ctx.store.agent_usage(agent.id)
    if ctx.args.json:
        out_json(agent_dict(agent, usage))
        return 0
    for key, value in agent_dict(agent, usage).items():
        if key != "instructions":
            out(f"{key}: {value}")
    out("instructions:")
    out(agent.instructions)
    return 0


def export_agent(ctx: Context) -> int:
    from agentterm.agent_io import agent_to_toml

    text = agent_to_toml(_get(ctx, ctx.args.name))
    if ctx.args.output:
        Path(ctx.args.output).write_text(text, encoding="utf-8")
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
    agent = _get(ctx, ctx.args.name)
    keep = not ctx.args.delete_conversations
    ctx.store.delete_agent(agent.id, keep_conversations=keep)
    what = "its conversations kept" if keep else "its conversations deleted"
    out(f"Deleted {agent.name!r}, {what}.")
    return 0
