"""`agentterm chats export` and `chats import`: conversations to files and back."""

from __future__ import annotations

import sys

from agentterm.cli.context import CliError, Context, out, out_json, warn


def register(sub, common) -> None:
    p = sub.add_parser("export", parents=[common], help="export a conversation as Markdown, JSON or HTML")
    p.add_argument("id", type=int)
    p.add_argument("-f", "--format", choices=["md", "json", "html"], default="md")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (created 0600) instead of stdout")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.add_argument("--with-thinking", action="store_true",
                   help="include the model's thinking (left out by default)")
    p.set_defaults(handler=export_chat)

    p = sub.add_parser("import", parents=[common], help="import agentterm JSON or ChatGPT's conversations.json")
    p.add_argument("file", help="the file to import, or - for stdin")
    p.add_argument("--duplicate", action="store_true",
                   help="import conversations again even if an earlier import brought them in")
    p.add_argument("--json", action="store_true", help="print the imported conversations as JSON")
    p.set_defaults(handler=import_chats)


def export_chat(ctx: Context) -> int:
    from agentterm.cli.chats import get_conversation
    from agentterm.export import render

    args = ctx.args
    conversation = get_conversation(ctx, args.id)
    data = ctx.store.export_conversation(conversation.id)
    text = render(data, args.format, with_thinking=args.with_thinking)
    if args.output:
        write_file(args.output, text, force=args.force)
        print(f"Wrote {args.output}", file=sys.stderr)
    elif args.format in ("json", "html"):
        # Both are escaped already: JSON escapes control characters, HTML holds them as text.
        sys.stdout.write(text)
    else:
        out(text, end="")
    return 0


def write_file(path: str, text: str, *, force: bool) -> None:
    from agentterm.safe_write import WriteError, write_private

    try:
        write_private(path, text, force=force)
    except WriteError as error:
        raise CliError(error.message, error.hint) from None


def load_json(source: str, what: str):
    """The JSON in a file (or stdin for -): one clear line for anything that is not readable."""
    from agentterm.import_file import ImportFileError, load_json as read

    try:
        return read(source, what)
    except ImportFileError as error:
        raise CliError(error.message, error.hint) from None


def import_chats(ctx: Context) -> int:
    from agentterm.cli.chats import conversation_dict

    from agentterm.import_file import ImportFileError, load_conversations

    source = ctx.args.file
    try:
        items = load_conversations(source)
    except ImportFileError as error:
        raise CliError(error.message, error.hint) from None
    result = ctx.store.import_conversations(items, duplicates=ctx.args.duplicate)
    if ctx.args.json:
        out_json([conversation_dict(c) for c in result.imported])
    else:
        for c in result.imported:
            out(f"Imported {c.id}: {c.display_title}")
    if result.already:
        where = ", ".join(f"item {n} as {c.id}{' (in the trash)' if c.deleted_at else ''}"
                          for n, c in result.already[:5])
        more = f" and {len(result.already) - 5} more" if len(result.already) > 5 else ""
        warn(f"skipped {len(result.already)} conversation(s) imported before ({where}{more}); "
             "use --duplicate to import them again.")
    if result.refused:
        first = "; ".join(f"item {n}{f' ({t!r})' if t else ''}: {why.rstrip('.')}"
                          for n, t, why in result.refused[:3])
        more = f"; and {len(result.refused) - 3} more" if len(result.refused) > 3 else ""
        kept = (f"{len(result.imported)} other(s) were imported" if result.imported
                else "nothing new was imported" if result.already else "nothing was imported")
        raise CliError(f"skipped {len(result.refused)} of {len(items)} conversation(s) that could not be "
                       f"read ({first}{more}); {kept}.", "Fix or remove those items and import the file again.")
    if not result.imported and not result.already:
        raise CliError(f"{source} holds no conversations.", "Import an agentterm or ChatGPT JSON export.")
    return 0
