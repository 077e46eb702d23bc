"""`agentterm agents create|edit|duplicate|pause|resume|retire|versions|restore`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from agentterm.cli.context import CliError, Context, out, out_json

# (flag, field, help): each sets one agent field; an empty value ("") clears it.
_FIELD_FLAGS = [
    ("--description", "description", "what the agent is for"),
    ("--provider", "provider", "a provider profile from the config"),
    ("--model", "model", "the model (default: the provider's)"),
    ("--instructions", "instructions", "the system prompt"),
    ("--temperature", "temperature", "0 to 2"),
    ("--top-p", "top_p", "0 to 1"),
    ("--max-tokens", "max_tokens", "a positive whole number"),
    ("--extra", "extra", 'extra API parameters, a JSON object like {"seed": 7}'),
    ("--mcp-servers", "mcp_servers", "the MCP servers of the config it may use, separated by commas"),
    ("--allowed-tools", "allowed_tools", 'the tools it may call ("server.tool", commas); "all" or "": every one'),
    ("--tool-approval", "tool_approval", "ask (before each call) or auto"),
]


def register(sub, common) -> None:
    p = sub.add_parser("create", parents=[common], help="create an agent (blank or from a built-in template)")
    p.add_argument("name")
    p.add_argument("--template", metavar="NAME", help="start from a built-in template (see --template list)")
    _field_options(p)
    p.add_argument("--json", action="store_true", help="print the agent as JSON")
    p.set_defaults(handler=create)

    p = sub.add_parser("edit", parents=[common], help="change an agent's fields (saved as a new version)")
    p.add_argument("name")
    p.add_argument("--name", dest="new_name", metavar="NEW", help="rename the agent")
    _field_options(p)
    p.add_argument("--json", action="store_true", help="print the agent as JSON")
    p.set_defaults(handler=edit)

    p = sub.add_parser("duplicate", parents=[common], help="copy an agent under a new name")
    p.add_argument("name")
    p.add_argument("--name", dest="new_name", metavar="NEW", help='the copy\'s name (default: "NAME (copy)")')
    p.add_argument("--json", action="store_true", help="print the copy as JSON")
    p.set_defaults(handler=duplicate)

    for action, help in (("pause", "pause an agent: its conversations read, sending is refused"),
                         ("resume", "make a paused or retired agent active again"),
                         ("retire", "retire an agent: hidden from the new-conversation picker")):
        p = sub.add_parser(action, parents=[common], help=help)
        p.add_argument("names", nargs="+", metavar="NAME")
        p.set_defaults(handler=set_status, status_target={"pause": "paused", "resume": "active",
                                                   "retire": "inactive"}[action])

    p = sub.add_parser("versions", parents=[common], help="list an agent's saved versions, newest first")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="print JSON (each version's fields)")
    p.set_defaults(handler=versions)

    p = sub.add_parser("restore", parents=[common], help="save an old version of an agent as its newest")
    p.add_argument("name")
    p.add_argument("version", type=int)
    p.add_argument("--json", action="store_true", help="print the agent as JSON")
    p.set_defaults(handler=restore)


def _field_options(p) -> None:
    for flag, field, help in _FIELD_FLAGS:
        p.add_argument(flag, dest=f"field_{field}", metavar="VALUE", help=help)
    p.add_argument("--instructions-file", metavar="FILE", help="read the system prompt from FILE (- for stdin)")
    p.add_argument("--status", metavar="STATUS", help="active, paused or retired")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="set any agent field (VALUE read as JSON when it parses, else as text)")


def _fields(ctx: Context) -> dict:
    from agentterm.cli.agents import STATUS_INPUT
    from agentterm.models import AGENT_FIELDS

    args = ctx.args
    fields = {field: getattr(args, f"field_{field}") for _, field, _ in _FIELD_FLAGS
              if getattr(args, f"field_{field}") is not None}
    if "allowed_tools" in fields and fields["allowed_tools"].strip().lower() in ("", "all"):
        fields["allowed_tools"] = None
    if args.instructions_file:
        fields["instructions"] = read_text(args.instructions_file)
    if args.status is not None:
        status = STATUS_INPUT.get(args.status.strip().lower())
        if status is None:
            raise CliError(f"there is no agent status {args.status!r}.", "Use active, paused or retired.", code=2)
        fields["status"] = status
    for item in args.set:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in AGENT_FIELDS or key == "name":
            raise CliError(f"--set {item!r} names no agent field.",
                           f"Use FIELD=VALUE with one of: {', '.join(f for f in AGENT_FIELDS if f != 'name')}.",
                           code=2)
        try:
            fields[key] = json.loads(value)
        except ValueError:
            fields[key] = value
    return fields


def read_text(source: str) -> str:
    try:
        return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        why = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise CliError(f"cannot read {source}: {(why or str(error)).lower()}.", "Check the path.") from None


def _show(ctx: Context, agent, line: str) -> int:
    from agentterm.cli.agents import agent_dict

    if getattr(ctx.args, "json", False):
        out_json(agent_dict(agent, ctx.store.agent_usage(agent.id)))
    else:
        out(line)
    return 0


def create(ctx: Context) -> int:
    fields = {}
    if ctx.args.template:
        from agentterm.templates import list_templates, load_template

        if ctx.args.template not in list_templates():
            raise CliError(f"there is no template {ctx.args.template!r}.",
                           f"The templates: {', '.join(list_templates())}.")
        fields = load_template(ctx.args.template)
    fields.update(_fields(ctx))
    fields.pop("name", None)
    if ctx.store.get_agent_by_name(ctx.args.name) is not None:
        raise CliError(f"an agent named {ctx.args.name!r} already exists.",
                       f"Change it with `agentterm agents edit {ctx.args.name!r}`, or choose another name.")
    agent = ctx.store.create_agent(ctx.args.name, **fields)
    return _show(ctx, agent, f"Created {agent.name!r}.")


def edit(ctx: Context) -> int:
    from agentterm.cli.agents import get_agent

    agent = get_agent(ctx, ctx.args.name)
    fields = _fields(ctx)
    if ctx.args.new_name is not None:
        fields["name"] = ctx.args.new_name
    if not fields:
        raise CliError("nothing to change.", "Give the fields to set, e.g. --model NAME; see `agentterm agents edit -h`.",
                       code=2)
    saved = ctx.store.update_agent(agent.id, **fields)
    if saved.version == agent.version:
        return _show(ctx, saved, f"{saved.name!r} already had those values: no new version.")
    return _show(ctx, saved, f"Saved {saved.name!r} as version {saved.version}.")


def duplicate(ctx: Context) -> int:
    from agentterm.cli.agents import get_agent

    agent = get_agent(ctx, ctx.args.name)
    if ctx.args.new_name is not None and ctx.store.get_agent_by_name(ctx.args.new_name) is not None:
        raise CliError(f"an agent named {ctx.args.new_name!r} already exists.", "Choose another name.")
    copy = ctx.store.duplicate_agent(agent.id, ctx.args.new_name)
    return _show(ctx, copy, f"Copied {agent.name!r} to {copy.name!r}.")


def set_status(ctx: Context) -> int:
    from agentterm.cli.agents import get_agent, status_word

    agents = [get_agent(ctx, name) for name in ctx.args.names]  # every name checked first
    status = ctx.args.status_target
    for agent in agents:
        if agent.status == status:
            out(f"{agent.name!r} is already {status_word(status)}.")
            continue
        ctx.store.set_agent_status(agent.id, status)
        out(f"{agent.name!r} is now {status_word(status)} (it was {status_word(agent.status)}).")
    return 0


def versions(ctx: Context) -> int:
    from agentterm.cli.agents import get_agent, readable
    from agentterm.models import to_iso

    agent = get_agent(ctx, ctx.args.name)
    saved = ctx.store.agent_versions(agent.id)
    if ctx.args.json:
        out_json([{"version": v.version, "created_at": to_iso(v.created_at), "data": v.data} for v in saved])
        return 0
    for newer, older in zip(saved, [*saved[1:], None]):
        when = readable("created_at", newer.created_at)
        current = "  (current)" if newer.version == agent.version else ""
        if older is None:
            what = "created"
        else:
            changed = [k for k in newer.data if newer.data.get(k) != older.data.get(k)]
            what = "changed " + ", ".join(changed) if changed else "no change"
        out(f"v{newer.version}  {when}  {what}{current}")
    return 0


def restore(ctx: Context) -> int:
    from agentterm.cli.agents import get_agent

    agent = get_agent(ctx, ctx.args.name)
    known = [v.version for v in ctx.store.agent_versions(agent.id)]
    if ctx.args.version not in known:
        raise CliError(f"{agent.name!r} has no version {ctx.args.version}.",
                       f"Its versions: {', '.join(map(str, sorted(known)))}.")
    saved = ctx.store.restore_agent_version(agent.id, ctx.args.version)
    if saved.version == agent.version:
        return _show(ctx, saved, f"{saved.name!r} already matches version {ctx.args.version}: no new version.")
    return _show(ctx, saved, f"Restored version {ctx.args.version} of {saved.name!r} as version {saved.version}.")
