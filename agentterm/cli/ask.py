"""`agentterm ask`: run one turn, the answer to stdout, thinking and tool calls to stderr, the exchange stored."""

from __future__ import annotations

import asyncio
import sys

from agentterm.cli.chat_context import add_room_options
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
    parser.add_argument("-f", "--file", dest="files", action="append", default=[], metavar="FILE",
                        help="attach a text file (its contents go into the prompt) or an image (for a "
                             "model that takes images); repeatable")
    parser.add_argument("--no-title", action="store_true", help="do not generate a title for a new conversation")
    parser.add_argument("--retry", action="store_true",
                        help="answer the last prompt again; the earlier answer is kept as a variant "
                             "(the latest conversation unless --conversation names one)")
    parser.add_argument("-y", "--yes", action="store_true",
                        help="allow every tool call of this run without asking")
    add_room_options(parser)
    parser.set_defaults(handler=run)


def read_prompt(words: list[str], *, files: bool = False) -> str:
    from agentterm.engine import prompt_not_text, prompt_too_long

    if files and not words:
        return ""  # the files are the prompt

    if words == ["-"]:
        data = sys.stdin.buffer.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CliError(f"the prompt read from stdin is not valid UTF-8 (byte {error.start + 1:,}).",
                           "Nothing was stored or sent; convert it first, e.g. with `iconv -t UTF-8`.",
                           code=2) from None
    else:
        # Python hands over argv bytes that are not UTF-8 as lone surrogates (surrogateescape).
        text = " ".join(words)
        if prompt_not_text(text):
            raise CliError("the prompt given as arguments is not valid UTF-8.",
                           "Nothing was stored or sent; give it as UTF-8 text.", code=2)
    if not text.strip():
        raise CliError("the prompt is empty.", "Give a prompt, or pipe one in with `-`.", code=2)
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
        latest = store.list_conversations(view="inbox", limit=1, owner=ctx.settings.local_user())
        if latest:
            return latest[0], False
    agent = find_agent(ctx, args.agent)
    from agentterm.engine import TurnRefused, refuse_agent

    try:
        refuse_agent(agent)  # before a conversation is made for it
    except TurnRefused as refused:
        raise CliError(refused.message, AGENT_HINT) from None
    return store.create_conversation(agent_id=agent.id if agent else None), True


AGENT_HINT = "Set it active again in the app's Agents screen, or ask another agent with -a."


def make_tools(ctx: Context):
    """The MCP servers of the config, started only when a turn first needs one."""
    if not getattr(ctx.settings, "mcp_servers", None):
        return None
    try:
        from agentterm.tools import MCPTools  # type: ignore[attr-defined]
    except ImportError:
        return None
    return MCPTools(ctx.settings)


async def stream_answer(ctx: Context, conversation_id: int, prompt: str | None, new: bool,
                        mode: str = "send", extra: dict | None = None) -> int:
    from contextlib import aclosing

    from agentterm.cli.ask_output import TurnPrinter
    from agentterm.engine import run_turn, start_title

    tools = make_tools(ctx)
    printer = TurnPrinter(auto_approve=ctx.args.yes)
    try:
        turn = run_turn(ctx.store, ctx.client, conversation_id, prompt, mode=mode, model=ctx.args.model,
                        tools=tools, auto_approve=ctx.args.yes,
                        max_steps=getattr(ctx.settings, "max_steps", 20), extra=extra,
                        overflow=getattr(ctx.args, "overflow", None) or "refuse")
        async with aclosing(turn) as events:
            async for event in events:
                await printer.show(event)
    finally:
        sys.stdout.write(printer.close())
        out()
        if tools is not None:
            await tools.aclose()
    if printer.unsaved:
        await save_pending(ctx)
    printer.raise_failure()
    if new and not ctx.args.no_title and printer.answered:
        await start_title(ctx.store, ctx.client, conversation_id)
    return 1 if printer.denied else 0


# An answer that ended while the store's server was away: how long `ask` waits for it to be back.
PENDING_WAIT_SECONDS = 15.0


async def save_pending(ctx: Context) -> None:
    """An answer that ended while the store's server was away (a restart, a network cut),
    written once it is back; after PENDING_WAIT_SECONDS, one line saying what the store kept."""
    from agentterm.engine import has_pending, retry_pending

    if not has_pending(ctx.store):
        return
    if await retry_pending(ctx.store, for_seconds=PENDING_WAIT_SECONDS):
        sys.stderr.write("agentterm: the store is back: the answer is saved.\n")
        return
    raise CliError("the answer shown was not saved: the store still cannot be reached.",
                   "The store keeps the answer up to its last save, marked interrupted at the next "
                   "open; run it again with --retry or `chats continue` once the server is back.")


def retry_target(ctx: Context):
    if ctx.args.prompt or ctx.args.files:
        raise CliError("--retry answers the last prompt again; it takes no new prompt or file.", code=2)
    if ctx.args.conversation is not None:
        return pick_conversation(ctx)[0]
    latest = ctx.store.list_conversations(view="inbox", limit=1, owner=ctx.settings.local_user())
    if not latest:
        raise CliError("there is no conversation to retry.", "Ask something first.")
    return latest[0]


def run(ctx: Context) -> int:
    if ctx.args.retry:
        conversation = retry_target(ctx)
        return asyncio.run(stream_answer(ctx, conversation.id, None, False, mode="retry"))
    files = ctx.args.files
    prompt = read_prompt(ctx.args.prompt, files=bool(files))
    extra = None
    if files:
        prompt, extra = attach_files(ctx, prompt, files)
    conversation, new = pick_conversation(ctx)
    return asyncio.run(stream_answer(ctx, conversation.id, prompt, new, extra=extra))


def attach_files(ctx: Context, prompt: str, files: list[str]) -> tuple[str, dict | None]:
    """The prompt with the files of -f in it (docs/attachments.md), before anything is stored."""
    from pathlib import Path

    from agentterm.engine import prompt_too_long
    from agentterm.engine.attachments import AttachmentError, attach

    try:
        text, extra = attach(prompt, files, Path.cwd(), ctx.settings)
    except AttachmentError as error:
        raise CliError(str(error), code=2) from None
    if why := prompt_too_long(text):
        raise CliError(why, "Nothing was stored or sent; attach less.", code=2)
    return text, extra
