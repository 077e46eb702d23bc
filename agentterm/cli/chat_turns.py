"""`agentterm chats continue|regenerate|edit-prompt`: another turn on a conversation, streamed as `ask` does."""

from __future__ import annotations

import asyncio

from agentterm.cli.context import CliError, Context

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
        p.set_defaults(handler=run_again, turn_mode=mode, no_title=True)

    p = sub.add_parser("edit-prompt", parents=[common],
                       help="change the last prompt and answer it again (the earlier answer is kept as a variant)")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("prompt", nargs="+", help="the new prompt, or - to read it from stdin")
    p.add_argument("-m", "--model", help="the model to use for this answer")
    p.add_argument("-y", "--yes", action="store_true", help="allow every tool call of this run without asking")
    p.set_defaults(handler=edit_prompt, turn_mode="retry", no_title=True)


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
