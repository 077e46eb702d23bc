"""`agentterm chats`: list, show, search, export, import, rm, restore and purge conversations."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from agentterm.cli.context import CliError, Context, out, out_json
from agentterm.models import to_iso


def register(commands, common) -> None:
    chats = commands.add_parser("chats", parents=[common], help="conversations")
    sub = chats.add_subparsers(dest="chats_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", parents=[common], help="list conversations, pinned first, newest first")
    p.add_argument("--view", choices=["inbox", "archive", "trash", "all"], default="inbox")
    p.add_argument("--agent", metavar="NAME", help="only this agent's conversations")
    p.add_argument("--tag", help="only conversations with this tag")
    p.add_argument("-n", "--limit", type=int, default=50)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=list_chats)

    p = sub.add_parser("show", parents=[common], help="print a conversation")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=show_chat)

    p = sub.add_parser("search", parents=[common], help="full-text search over every message and title")
    p.add_argument("query", nargs="+")
    p.add_argument("-n", "--limit", type=int, default=20)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=search_chats)

    p = sub.add_parser("export", parents=[common], help="export a conversation as Markdown or JSON")
    p.add_argument("id", type=int)
    p.add_argument("-f", "--format", choices=["md", "json"], default="md")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(handler=export_chat)

    p = sub.add_parser("import", parents=[common], help="import agentterm JSON or ChatGPT's conversations.json")
    p.add_argument("file", help="the file to import, or - for stdin")
    p.add_argument("--json", action="store_true", help="print the imported conversations as JSON")
    p.set_defaults(handler=import_chats)

    p = sub.add_parser("rm", parents=[common], help="move conversations to the trash")
    p.add_argument("ids", type=int, nargs="+", metavar="ID")
    p.set_defaults(handler=trash_chats)

    p = sub.add_parser("restore", parents=[common], help="restore conversations from the trash")
    p.add_argument("ids", type=int, nargs="+", metavar="ID")
    p.set_defaults(handler=restore_chats)

    p = sub.add_parser("purge", parents=[common], help="delete conversations for good (from the trash)")
    p.add_argument("ids", type=int, nargs="*", metavar="ID")
    p.add_argument("--older-than", type=int, metavar="DAYS", help="purge the trash older than DAYS days")
    p.add_argument("--all", action="store_true", help="purge everything in the trash")
    p.set_defaults(handler=purge_chats)


def conversation_dict(conversation) -> dict:
    data = asdict(conversation)
    for key, value in data.items():
        if hasattr(value, "isoformat"):
            data[key] = to_iso(value)
    return data


def _get(ctx: Context, cid: int):
    conversation = ctx.store.get_conversation(cid)
    if conversation is None:
        raise CliError(f"there is no conversation {cid}.", "List them with `agentterm chats list --view all`.")
    return conversation


def list_chats(ctx: Context) -> int:
    args = ctx.args
    agent_id = None
    if args.agent:
        agent = ctx.store.get_agent_by_name(args.agent)
        if agent is None:
            raise CliError(f"there is no agent named {args.agent!r}.", "List them with `agentterm agents list`.")
        agent_id = agent.id
    rows = ctx.store.list_conversations(view=args.view, agent_id=agent_id, tag=args.tag, limit=args.limit)
    if args.json:
        out_json([conversation_dict(c) for c in rows])
        return 0
    for c in rows:
        pin = "*" if c.pinned else " "
        when = c.last_activity_at.astimezone().strftime("%Y-%m-%d %H:%M")
        agent = c.agent_name or "-"
        out(f"{c.id:>6} {pin} {when}  {c.display_title}  [{agent}, {c.message_count} messages]")
    if not rows:
        print("No conversations.", file=sys.stderr)
    return 0


def show_chat(ctx: Context) -> int:
    conversation = _get(ctx, ctx.args.id)
    if ctx.args.json:
        out_json(ctx.store.export_conversation(conversation.id))
        return 0
    out(f"# {conversation.display_title}")
    messages = ctx.store.all_messages(conversation.id)
    for message in messages:
        status = "" if message.status == "complete" else f" ({message.status})"
        out(f"\n## {message.role}{status}\n")
        out(message.content)
        if message.extra.get("error"):
            out(f"[error: {message.extra['error']}]")
    last = messages[-1] if messages else None
    if last is not None and last.role == "assistant" and last.status in ("interrupted", "error"):
        out(f"\n[the answer was cut off and its text is kept: `agentterm ask --retry --conversation "
            f"{conversation.id}` answers again]")
    return 0


def search_chats(ctx: Context) -> int:
    hits = ctx.store.search(" ".join(ctx.args.query), limit=ctx.args.limit)
    if ctx.args.json:
        out_json([{**asdict(h), "created_at": to_iso(h.created_at)} for h in hits])
        return 0
    for hit in hits:
        where = f"message {hit.message_id}" if hit.message_id else "title"
        out(f"{hit.conversation_id:>6}  {hit.conversation_title}  ({where}): {hit.snippet}")
    if not hits:
        print("No matches.", file=sys.stderr)
    return 0


def export_chat(ctx: Context) -> int:
    from agentterm.export import to_json, to_markdown

    conversation = _get(ctx, ctx.args.id)
    data = ctx.store.export_conversation(conversation.id)
    text = to_json(data) if ctx.args.format == "json" else to_markdown(data)
    if ctx.args.output:
        Path(ctx.args.output).write_text(text, encoding="utf-8")
        print(f"Wrote {ctx.args.output}", file=sys.stderr)
    elif ctx.args.format == "json":
        sys.stdout.write(text)
    else:
        out(text, end="")
    return 0


def _load_import(source: str):
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot read {source}: {error.strerror}.", "Check the path.") from None
    except UnicodeDecodeError:
        raise CliError(f"{source} is not UTF-8 text.", "Import an agentterm or ChatGPT JSON export.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CliError(f"{source}, line {error.lineno}, column {error.colno}: not valid JSON ({error.msg}).",
                       "Import an agentterm or ChatGPT JSON export.") from None


def import_chats(ctx: Context) -> int:
    data = _load_import(ctx.args.file)
    items = data if isinstance(data, list) else [data]
    imported = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise CliError(f"{ctx.args.file}: item {index + 1} is not a conversation object.",
                           "Import an agentterm or ChatGPT JSON export.")
        try:
            imported.append(ctx.store.import_conversation(item))
        except (KeyError, TypeError, ValueError) as error:
            raise CliError(f"{ctx.args.file}: item {index + 1} could not be imported ({error}).",
                           f"{len(imported)} conversation(s) before it were imported.") from None
    if ctx.args.json:
        out_json([conversation_dict(c) for c in imported])
    else:
        for c in imported:
            out(f"Imported {c.id}: {c.display_title}")
    return 0


def trash_chats(ctx: Context) -> int:
    for cid in ctx.args.ids:
        _get(ctx, cid)
        ctx.store.trash(cid)
        out(f"Moved {cid} to the trash (restore with `agentterm chats restore {cid}`).")
    return 0


def restore_chats(ctx: Context) -> int:
    for cid in ctx.args.ids:
        _get(ctx, cid)
        ctx.store.restore(cid)
        out(f"Restored {cid}.")
    return 0


def purge_chats(ctx: Context) -> int:
    args = ctx.args
    if not args.ids and args.older_than is None and not args.all:
        raise CliError("say what to purge.", "Give conversation ids, --older-than DAYS or --all.", code=2)
    for cid in args.ids:
        conversation = _get(ctx, cid)
        if conversation.deleted_at is None:
            raise CliError(f"conversation {cid} is not in the trash.",
                           f"Move it there first with `agentterm chats rm {cid}`.")
        ctx.store.purge(cid)
        out(f"Purged {cid}.")
    if args.older_than is not None or args.all:
        count = ctx.store.purge_trash(0 if args.all else args.older_than)
        out(f"Purged {count} conversation(s) from the trash.")
    return 0
