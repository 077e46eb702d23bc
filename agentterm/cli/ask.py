"""`agentterm ask`: stream one answer to stdout and store the exchange."""

from __future__ import annotations

import asyncio
import sys

from agentterm.cli.context import CliError, Context, out


def register(commands, common) -> None:
    parser = commands.add_parser("ask", parents=[common], help="ask a question; the answer streams to stdout")
    parser.add_argument("prompt", nargs="*", help="the prompt, or - to read it from stdin")
    parser.add_argument("-a", "--agent", metavar="NAME", help="the agent to ask (default: the default agent)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-c", "--continue", dest="continue_latest", action="store_true",
                       help="continue the most recent conversation")
    where.add_argument("--conversation", type=int, metavar="ID", help="continue this conversation")
    parser.add_argument("-m", "--model", help="the model to use for this answer")
    parser.add_argument("--no-title", action="store_true", help="do not generate a title for a new conversation")
    parser.add_argument("--retry", action="store_true",
                        help="answer the last prompt again, replacing an interrupted or failed answer "
                             "(the latest conversation unless --conversation names one)")
    parser.set_defaults(handler=run)


def read_prompt(words: list[str]) -> str:
    if words == ["-"]:
        text = sys.stdin.read()
    else:
        text = " ".join(words)
    if not text.strip():
        raise CliError("the prompt is empty.", "Give a prompt, or pipe one in with `-`.", code=2)
    from agentterm.reply import prompt_too_long

    if why := prompt_too_long(text):
        raise CliError(why, "Nothing was stored or sent; send a shorter prompt.", code=2)
    return text


def find_agent(ctx: Context, name: str | None):
    store = ctx.store
    if name is None:
        name = ctx.settings.default_agent
        if name is None:
            return store.default_agent()
    agent = store.get_agent_by_name(name)
    if agent is None:
        raise CliError(f"there is no agent named {name!r}.", "List them with `agentterm agents list`.")
    return agent


def pick_conversation(ctx: Context):
    args = ctx.args
    store = ctx.store
    if args.conversation is not None:
        conversation = store.get_conversation(args.conversation)
        if conversation is None or conversation.deleted_at is not None:
            raise CliError(f"there is no conversation {args.conversation}.", "List them with `agentterm chats list`.")
        return conversation, False
    if args.continue_latest:
        latest = store.list_conversations(view="inbox", limit=1)
        if latest:
            return latest[0], False
    agent = find_agent(ctx, args.agent)
    if agent is not None and agent.status == "inactive":
        raise CliError(f"the agent {agent.name!r} is retired (inactive).",
                       "Pick another agent, or set it active again in the app.")
    return store.create_conversation(agent_id=agent.id if agent else None), True


async def stream_answer(ctx: Context, conversation_id: int, prompt: str | None, new: bool) -> None:
    from agentterm.reply import AnswerDelta, auto_title, send
    from agentterm.sanitize import EscapeFilter

    escapes = EscapeFilter()

    def on_event(event) -> None:
        if isinstance(event, AnswerDelta):
            sys.stdout.write(escapes.feed(event.text))
            sys.stdout.flush()

    try:
        await send(ctx.store, ctx.client, conversation_id, prompt, model=ctx.args.model, on_event=on_event)
    finally:
        sys.stdout.write(escapes.flush())
        out()
    if new and not ctx.args.no_title:
        await auto_title(ctx.store, ctx.client, conversation_id)


def retry_target(ctx: Context):
    if ctx.args.prompt:
        raise CliError("--retry answers the last prompt again; it takes no new prompt.", code=2)
    if ctx.args.conversation is not None:
        return pick_conversation(ctx)[0]
    latest = ctx.store.list_conversations(view="inbox", limit=1)
    if not latest:
        raise CliError("there is no conversation to retry.", "Ask something first.")
    return latest[0]


def run(ctx: Context) -> int:
    if ctx.args.retry:
        conversation = retry_target(ctx)
        asyncio.run(stream_answer(ctx, conversation.id, None, False))
        return 0
    prompt = read_prompt(ctx.args.prompt)
    conversation, new = pick_conversation(ctx)
    asyncio.run(stream_answer(ctx, conversation.id, prompt, new))
    return 0
