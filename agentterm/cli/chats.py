"""`agentterm chats`: list, show, search, rm, restore and purge; the other actions in chat_io and chat_edit."""

from __future__ import annotations

import sys
from dataclasses import asdict

from agentterm.cli import chat_context, chat_edit, chat_io, chat_turns
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
    p.add_argument("--ids", action="store_true", help="head each message with its id (for rm-message, copy)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=show_chat)

    p = sub.add_parser("search", parents=[common], help="full-text search over every message and title")
    p.add_argument("query", nargs="+")
    p.add_argument("-n", "--limit", type=int, default=20)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=search_chats)

    chat_io.register(sub, common)
    chat_edit.register(sub, common)
    chat_turns.register(sub, common)
    chat_context.register(sub, common)

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


def get_conversation(ctx: Context, cid: int):
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
    rows = ctx.store.list_conversations(view=args.view, agent_id=agent_id, tag=args.tag, limit=args.limit,
                                        owner=ctx.settings.local_user())  # not other users' (serve)
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
    conversation = get_conversation(ctx, ctx.args.id)
    if ctx.args.json:
        out_json(ctx.store.export_conversation(conversation.id))
        return 0
    out(f"# {conversation.display_title}")
    if conversation.model or conversation.provider or conversation.instructions_override:
        from agentterm.cli.chat_edit import overrides_line

        out(f"({overrides_line(conversation)})")
    parent = conversation.parent_id
    if parent is not None:
        at = conversation.forked_from_message_id
        out(f"(forked from conversation {parent}{f' at message {at}' if at else ''}: "
            f"`agentterm chats show {parent}`)")
    messages = ctx.store.all_messages(conversation.id)
    for message in messages:
        status = "" if message.status == "complete" else f" ({message.status})"
        number = f" [message {message.id}]" if ctx.args.ids else ""
        out(f"\n## {message.role}{status}{number}\n")
        out(message.content)
        if message.extra.get("error"):
            out(f"[error: {message.extra['error']}]")
    last = messages[-1] if messages else None
    if last is not None and last.role == "assistant" and last.status in ("interrupted", "error"):
        out(f"\n[the answer was cut off and its text is kept: `agentterm chats continue {conversation.id}` "
            f"extends it, `agentterm chats regenerate {conversation.id}` answers again]")
    return 0


def search_chats(ctx: Context) -> int:
    hits = ctx.store.search(" ".join(ctx.args.query), limit=ctx.args.limit, owner=ctx.settings.local_user())
    if ctx.args.json:
        out_json([{**asdict(h), "created_at": to_iso(h.created_at)} for h in hits])
        return 0
    for hit in hits:
        where = f"message {hit.message_id}" if hit.message_id else "title"
        out(f"{hit.conversation_id:>6}  {hit.conversation_title}  ({where}): {hit.snippet}")
    if not hits:
        print("No matches.", file=sys.stderr)
    return 0


def trash_chats(ctx: Context) -> int:
    for cid in ctx.args.ids:
        get_conversation(ctx, cid)
        ctx.store.trash(cid)
        out(f"Moved {cid} to the trash (restore with `agentterm chats restore {cid}`).")
    return 0


def restore_chats(ctx: Context) -> int:
    for cid in ctx.args.ids:
        get_conversation(ctx, cid)
        ctx.store.restore(cid)
        out(f"Restored {cid}.")
    return 0


def purge_chats(ctx: Context) -> int:
    args = ctx.args
    if not args.ids and args.older_than is None and not args.all:
        raise CliError("say what to purge.", "Give conversation ids, --older-than DAYS or --all.", code=2)
    for cid in args.ids:
        conversation = get_conversation(ctx, cid)
        if conversation.deleted_at is None:
            raise CliError(f"conversation {cid} is not in the trash.",
                           f"Move it there first with `agentterm chats rm {cid}`.")
        ctx.store.purge(cid)
        out(f"Purged {cid}.")
    if args.older_than is not None or args.all:
        count = ctx.store.purge_trash(0 if args.all else args.older_than)
        out(f"Purged {count} conversation(s) from the trash.")
    return 0
