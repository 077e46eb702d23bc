"""`agentterm chats continue|regenerate|edit-prompt|variants`: more answers to a conversation, and which one shows."""

from __future__ import annotations

import asyncio

from agentterm.cli.chat_context import add_room_options
from agentterm.cli.context import CliError, Context, out, out_json

_ACTIONS = {
    "continue": ("continue", "extend an interrupted or failed answer where it stopped"),
    "regenerate": ("retry", "answer the last prompt again; the earlier answers are kept as variants"),
}


def register(sub, common) -> None:
    for name, (mode, help) in _ACTIONS.items():
        p = sub.add_parser(name, parents=[common], help=help)
        p.add_argument("id", type=int, metavar="ID")
        p.add_argument("-m", "--model", help="the model to use for this answer")
        p.add_argument("-y", "--yes", action="store_true", help="allow every tool call of this run without asking")
        add_room_options(p)
        p.set_defaults(handler=run_again, turn_mode=mode, no_title=True)

    p = sub.add_parser("edit-prompt", parents=[common],
                       help="change the last prompt and answer it again (the earlier answer is kept as a variant)")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("prompt", nargs="+", help="the new prompt, or - to read it from stdin")
    p.add_argument("-m", "--model", help="the model to use for this answer")
    p.add_argument("-y", "--yes", action="store_true", help="allow every tool call of this run without asking")
    add_room_options(p)
    p.set_defaults(handler=edit_prompt, turn_mode="retry", no_title=True)

    p = sub.add_parser("variants", parents=[common],
                       help="list the answers of each prompt (regenerated ones are kept), or pick the one shown")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--prompt", type=int, metavar="MESSAGE_ID", help="only the answers to this prompt")
    p.add_argument("--select", type=int, metavar="N", help="show (and send as context) answer N of --prompt")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=variants)


def _open(ctx: Context):
    from agentterm.cli.chats import get_conversation

    conversation = get_conversation(ctx, ctx.args.id)
    if conversation.deleted_at is not None:
        raise CliError(f"conversation {conversation.id} is in the trash.",
                       f"Restore it first with `agentterm chats restore {conversation.id}`.")
    return conversation


def run_again(ctx: Context) -> int:
    from agentterm.cli.ask import stream_answer

    conversation = _open(ctx)
    if ctx.args.turn_mode == "continue":
        last = next(iter(ctx.store.latest_messages(conversation.id, 1)), None)
        if last is None or last.role != "assistant" or last.status not in ("interrupted", "error") or not last.content:
            raise CliError(f"the last answer of {conversation.id} was not cut off, so there is nothing to continue.",
                           f"Answer again with `agentterm chats regenerate {conversation.id}`.")
    return asyncio.run(stream_answer(ctx, conversation.id, None, False, mode=ctx.args.turn_mode))


def edit_prompt(ctx: Context) -> int:
    from agentterm.cli.ask import read_prompt, stream_answer

    conversation = _open(ctx)
    text = read_prompt(ctx.args.prompt)
    prompt = next((m for m in reversed(ctx.store.latest_messages(conversation.id, 50)) if m.role == "user"), None)
    if prompt is None:
        raise CliError(f"conversation {conversation.id} has no prompt to edit.",
                       f"Send one with `agentterm ask --conversation {conversation.id} PROMPT`.")
    ctx.store.update_message(prompt.id, content=text, edited=True)
    return asyncio.run(stream_answer(ctx, conversation.id, None, False, mode="retry"))


def variants(ctx: Context) -> int:
    from agentterm.sanitize import one_line

    args = ctx.args
    conversation = _open(ctx)
    prompts = [m for m in ctx.store.all_messages(conversation.id) if m.role == "user"]
    if args.prompt is not None:
        prompts = [m for m in prompts if m.id == args.prompt]
        if not prompts:
            raise CliError(f"conversation {conversation.id} has no prompt {args.prompt}.",
                           f"See its message ids with `agentterm chats show {conversation.id} --ids`.")
    if args.select is not None:
        if args.prompt is None:
            raise CliError("--select needs --prompt MESSAGE_ID: which prompt's answer to pick.", "", code=2)
        known = ctx.store.variants(args.prompt)
        if args.select not in known:
            raise CliError(f"prompt {args.prompt} has no answer {args.select}.",
                           f"Its answers: {', '.join(map(str, known)) or 'none yet'}.")
        ctx.store.select_variant(args.prompt, args.select)
    listing = []
    for prompt in prompts:
        numbers = ctx.store.variants(prompt.id)
        shown = ctx.store.shown_variant(prompt.id)
        answers = []
        for number in numbers:
            rows = ctx.store.variant_messages(prompt.id, number)
            last = rows[-1] if rows else None
            answers.append({"variant": number, "shown": number == shown,
                            "status": last.status if last else None,
                            "content": "\n".join(m.content for m in rows if m.role == "assistant" and m.content)})
        listing.append({"prompt_id": prompt.id, "prompt": prompt.content, "answers": answers})
    if args.json:
        out_json(listing)
        return 0
    for item in listing:
        out(f"prompt {item['prompt_id']}: {one_line(item['prompt'], 60)}")
        for answer in item["answers"]:
            mark = "*" if answer["shown"] else " "
            status = "" if answer["status"] in (None, "complete") else f" ({answer['status']})"
            out(f"  {mark} {answer['variant']}/{len(item['answers'])}{status}  {one_line(answer['content'], 70)}")
    return 0
