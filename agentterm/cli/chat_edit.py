"""`agentterm chats rename|pin|unpin|archive|unarchive|tag|untag|clear|move|override|fork|rm-message|copy`."""

from __future__ import annotations

import re
import sys

from agentterm.cli.context import CliError, Context, out, out_json


def register(sub, common) -> None:
    def action(name: str, help: str, handler, *, many: bool = False, json: bool = True):
        p = sub.add_parser(name, parents=[common], help=help)
        if many:
            p.add_argument("ids", type=int, nargs="+", metavar="ID")
        else:
            p.add_argument("id", type=int, metavar="ID")
        if json:
            p.add_argument("--json", action="store_true", help="print the conversation(s) as JSON")
        p.set_defaults(handler=handler)
        return p

    p = action("rename", "give a conversation a title of your own", rename)
    p.add_argument("title", nargs="+", help="the new title")
    action("pin", "pin conversations (they stay at the top)", pin, many=True)
    action("unpin", "unpin conversations", unpin, many=True)
    action("archive", "move conversations out of the inbox into the archive", archive, many=True)
    action("unarchive", "bring archived conversations back to the inbox", unarchive, many=True)
    p = action("tag", "add tags to a conversation", tag)
    p.add_argument("tags", nargs="+", metavar="TAG")
    p = action("untag", "remove tags from a conversation", untag)
    p.add_argument("tags", nargs="+", metavar="TAG")
    p = action("clear", "delete every message of a conversation, keeping the conversation", clear)
    p.add_argument("--yes", action="store_true", help="do it: the messages are deleted for good")
    p = action("move", "link a conversation to another agent, or to none", move)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("agent", nargs="?", metavar="AGENT", help="the agent's name")
    target.add_argument("--none", action="store_true", help="link it to no agent (the default settings)")

    p = action("override", "this conversation's own model, provider or instructions for the next answers", override)
    p.add_argument("--model", help='the model for the next answers ("" goes back to the agent\'s)')
    p.add_argument("--provider", help='a provider profile of the config ("" goes back to the agent\'s)')
    text = p.add_mutually_exclusive_group()
    text.add_argument("--instructions", help='a system prompt used instead of the agent\'s ("" drops it)')
    text.add_argument("--instructions-file", metavar="FILE", help="read that system prompt from FILE (- for stdin)")
    p.add_argument("--clear", action="store_true", help="drop every override: the agent's settings again")

    p = action("fork", "branch a conversation into a new one holding its history up to a message", fork)
    p.add_argument("--at", type=int, required=True, metavar="MESSAGE_ID",
                   help="the last message the fork keeps (ids: `chats show ID --ids`)")

    p = sub.add_parser("rm-message", parents=[common], help="delete one message (ids: `chats show --ids`)")
    p.add_argument("message_id", type=int, metavar="MESSAGE_ID")
    p.set_defaults(handler=remove_message)

    p = sub.add_parser("copy", parents=[common], help="print a conversation (Markdown) or one message, or copy it")
    p.add_argument("id", type=int, metavar="ID")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--message", type=int, metavar="MESSAGE_ID", help="only this message's text")
    which.add_argument("--last", action="store_true", help="only the last answer's text")
    p.add_argument("--code", action="store_true", help="only the code blocks of that text")
    p.add_argument("--clipboard", action="store_true", help="copy to the system clipboard instead of printing")
    p.set_defaults(handler=copy)


def _conversations(ctx: Context, ids: list[int]):
    from agentterm.cli.chats import get_conversation

    # All checked before any is changed: a typo in the third id changes nothing.
    return [get_conversation(ctx, cid) for cid in ids]


def _report(ctx: Context, ids: list[int], line) -> int:
    from agentterm.cli.chats import conversation_dict

    conversations = [ctx.store.get_conversation(cid) for cid in ids]
    if getattr(ctx.args, "json", False):
        many = hasattr(ctx.args, "ids")  # commands taking many ids print a list, even of one
        out_json([conversation_dict(c) for c in conversations] if many else conversation_dict(conversations[0]))
    else:
        for conversation in conversations:
            out(line(conversation))
    return 0


def rename(ctx: Context) -> int:
    [conversation] = _conversations(ctx, [ctx.args.id])
    title = " ".join(ctx.args.title)
    if not title.strip():
        raise CliError("the title is empty.", "Give the new title, in quotes if it has spaces.")
    ctx.store.rename_conversation(conversation.id, title.strip())
    return _report(ctx, [conversation.id], lambda c: f"Renamed {c.id}: {c.display_title}")


def pin(ctx: Context) -> int:
    return _set_pinned(ctx, True)


def unpin(ctx: Context) -> int:
    return _set_pinned(ctx, False)


def _set_pinned(ctx: Context, pinned: bool) -> int:
    for conversation in _conversations(ctx, ctx.args.ids):
        ctx.store.set_pinned(conversation.id, pinned)
    word = "Pinned" if pinned else "Unpinned"
    return _report(ctx, ctx.args.ids, lambda c: f"{word} {c.id}: {c.display_title}")


def archive(ctx: Context) -> int:
    for conversation in _conversations(ctx, ctx.args.ids):
        ctx.store.archive(conversation.id)
    return _report(ctx, ctx.args.ids, lambda c: f"Archived {c.id} (unarchive with `agentterm chats unarchive {c.id}`).")


def unarchive(ctx: Context) -> int:
    for conversation in _conversations(ctx, ctx.args.ids):
        ctx.store.unarchive(conversation.id)
    return _report(ctx, ctx.args.ids, lambda c: f"Back in the inbox: {c.id}: {c.display_title}")


def _tag_words(tags: list[str]) -> list[str]:
    words = [w for tag in tags for w in tag.replace(",", " ").split()]
    if not words:
        raise CliError("no tag given.", "Give one or more tags, separated by spaces or commas.")
    return words


def tag(ctx: Context) -> int:
    [conversation] = _conversations(ctx, [ctx.args.id])
    ctx.store.set_tags(conversation.id, [*conversation.tags, *_tag_words(ctx.args.tags)])
    return _report(ctx, [conversation.id], lambda c: f"Tags of {c.id}: {', '.join(c.tags) or '(none)'}")


def untag(ctx: Context) -> int:
    [conversation] = _conversations(ctx, [ctx.args.id])
    gone = {w.casefold() for w in _tag_words(ctx.args.tags)}
    missing = sorted(gone - {t.casefold() for t in conversation.tags})
    if missing:
        raise CliError(f"conversation {conversation.id} has no tag {', '.join(missing)}.",
                       f"Its tags: {', '.join(conversation.tags) or '(none)'}.")
    ctx.store.set_tags(conversation.id, [t for t in conversation.tags if t.casefold() not in gone])
    return _report(ctx, [conversation.id], lambda c: f"Tags of {c.id}: {', '.join(c.tags) or '(none)'}")


def clear(ctx: Context) -> int:
    [conversation] = _conversations(ctx, [ctx.args.id])
    if not ctx.args.yes:
        raise CliError(f"this deletes the {conversation.message_count} message(s) of {conversation.id} for good.",
                       f"Run `agentterm chats clear {conversation.id} --yes` to do it.")
    count = ctx.store.clear_messages(conversation.id)
    return _report(ctx, [conversation.id], lambda c: f"Cleared {c.id}: {count} message(s) deleted.")


def move(ctx: Context) -> int:
    [conversation] = _conversations(ctx, [ctx.args.id])
    agent = None
    if not ctx.args.none:
        from agentterm.cli.agents import get_agent

        agent = get_agent(ctx, ctx.args.agent)
    ctx.store.relink_conversation(conversation.id, agent.id if agent else None)
    where = f"agent {agent.name!r}" if agent else "no agent (the default settings)"
    return _report(ctx, [conversation.id], lambda c: f"Moved {c.id} to {where}.")


def override(ctx: Context) -> int:
    [conversation] = _conversations(ctx, [ctx.args.id])
    args = ctx.args
    changes = dict.fromkeys(("model", "provider", "instructions_override")) if args.clear else {}
    if args.model is not None:
        changes["model"] = args.model
    if args.provider is not None:
        if args.provider.strip() and args.provider.strip() not in ctx.settings.providers:
            known = ", ".join(sorted(ctx.settings.providers)) or "none are configured"
            raise CliError(f"there is no provider {args.provider!r} in the config.", f"The providers: {known}.")
        changes["provider"] = args.provider
    if args.instructions is not None:
        changes["instructions_override"] = args.instructions
    if args.instructions_file is not None:
        from agentterm.cli.agent_edit import read_text

        changes["instructions_override"] = read_text(args.instructions_file)
    if not changes:
        raise CliError("nothing to change.", "Give --model, --provider, --instructions or --clear.", code=2)
    ctx.store.override_conversation(conversation.id, **changes)
    return _report(ctx, [conversation.id], overrides_line)


def overrides_line(c) -> str:
    parts = [f"model {c.model}" if c.model else "", f"provider {c.provider}" if c.provider else "",
             "its own instructions" if c.instructions_override else ""]
    said = ", ".join(p for p in parts if p)
    return f"{c.id} answers with {said}." if said else f"{c.id} answers with its agent's settings."


def fork(ctx: Context) -> int:
    [conversation] = _conversations(ctx, [ctx.args.id])
    message = ctx.store.get_message(ctx.args.at)
    if message is None or message.conversation_id != conversation.id:
        raise CliError(f"conversation {conversation.id} has no message {ctx.args.at}.",
                       f"See its message ids with `agentterm chats show {conversation.id} --ids`.")
    forked = ctx.store.fork_conversation(conversation.id, message.id)
    return _report(ctx, [forked.id], lambda c: f"Forked {conversation.id} at message {message.id} into {c.id}: "
                                               f"{c.display_title}")


def remove_message(ctx: Context) -> int:
    message = ctx.store.get_message(ctx.args.message_id)
    if message is None:
        raise CliError(f"there is no message {ctx.args.message_id}.",
                       "See a conversation's message ids with `agentterm chats show ID --ids`.")
    if message.status == "streaming" and not getattr(message, "is_stale", False):
        raise CliError(f"message {message.id} is being written now.", "Stop the answer first, then delete it.")
    ctx.store.delete_message(message.id)
    out(f"Deleted message {message.id} ({message.role}) from conversation {message.conversation_id}.")
    return 0


def copy(ctx: Context) -> int:
    from agentterm.cli.chats import get_conversation

    args = ctx.args
    conversation = get_conversation(ctx, args.id)
    if args.message is not None:
        message = ctx.store.get_message(args.message)
        if message is None or message.conversation_id != conversation.id:
            raise CliError(f"conversation {conversation.id} has no message {args.message}.",
                           f"See its message ids with `agentterm chats show {conversation.id} --ids`.")
        text, what = message.content, f"message {message.id}"
    elif args.last:
        answer = next((m for m in reversed(ctx.store.latest_messages(conversation.id, 50))
                       if m.role == "assistant" and m.content), None)
        if answer is None:
            raise CliError(f"conversation {conversation.id} has no answer yet.", "")
        text, what = answer.content, "the last answer"
    else:
        from agentterm.export import to_markdown

        text, what = to_markdown(ctx.store.export_conversation(conversation.id)), "the conversation"
    if args.code:
        blocks = code_blocks(text)
        if not blocks:
            raise CliError(f"{what} holds no code block.", "Leave out --code to copy all of it.")
        text, what = "\n\n".join(blocks) + "\n", f"the code of {what}"
    if not args.clipboard:
        out(text, end="" if text.endswith("\n") else "\n")
        return 0
    from agentterm.clipboard import native_copy

    tool = native_copy(text)
    if tool is None:
        raise CliError(f"could not copy {what}: no clipboard tool (wl-copy, xclip, xsel, pbcopy) works here.",
                       "Install one, or leave out --clipboard and pipe the output.")
    print(f"Copied {what} with {tool}.", file=sys.stderr)
    return 0


_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^\n]*\n(?P<code>.*?)^(?P=fence)[ \t]*$", re.M | re.S)


def code_blocks(text: str) -> list[str]:
    """The fenced code blocks of a Markdown text, without their fences."""
    return [m.group("code").rstrip("\n") for m in _FENCE.finditer(text)]
