"""The command line: `agentterm` opens the app; subcommands are the app's actions for scripts."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence

from agentterm import __version__
from agentterm.cli.context import CliError, Context, fail

# The collector's thresholds from the first import on, not only a second after the app starts
# (tui.app.settle_collector): start-up allocates mostly what lives as long as the process, and
# the default thresholds ran full collections over it before the first frame (about 60 ms of
# CPU to the first frame, docs/performance.md).
gc.set_threshold(10_000, 20, 10)


def build_parser() -> argparse.ArgumentParser:
    from agentterm.cli import agents, ask, chats, doctor, mcp, serve, store_cmd, tokens

    # SUPPRESS: a subcommand's copy of these flags must not reset a value given before it.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--db", metavar="PATH|URL", help="the store: a SQLite file or postgresql://user@host:port/dbname "
                        "(default: $AGENTTERM_DB, then the config's store, then the data dir)")
    common.add_argument("--config", metavar="PATH", help="the config to use (default: $AGENTTERM_CONFIG, then the config dir)")

    parser = argparse.ArgumentParser(
        prog="agentterm",
        parents=[common],
        description="Chat with LLM agents in the terminal. With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"agentterm {__version__}")
    parser.add_argument("--agent", metavar="NAME", help="open a new conversation with this agent")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    ask.register(commands, common)
    chats.register(commands, common)
    agents.register(commands, common)
    doctor.register(commands, common)
    mcp.register(commands, common)
    tokens.register(commands, common)
    serve.register(commands, common)
    store_cmd.register(commands, common)
    return parser


def make_app(settings, store, client, *, open_agent: str | None = None):
    """The Textual app, built from parts that tests can build the same way."""
    # No collection from here to the first frame: Textual's import and the first screen allocate
    # what lives as long as the process, and even young-generation collections over it cost
    # 20-30 ms of CPU before the first frame (docs/performance.md, start-up). The app turns the
    # collector back on once the first frame is out (AgentTermApp.resume_collector).
    gc.disable()
    from agentterm.tui.app import AgentTermApp

    app = AgentTermApp(settings, store, client, open_agent=open_agent)
    app.collector_paused = True
    return app


def run_app(ctx: Context) -> int:
    app = make_app(ctx.settings, ctx.store, ctx.client, open_agent=ctx.args.agent)
    try:
        app.run()
    finally:
        gc.enable()  # an app that ended before its first frame
    return app.return_code or 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context(args)
    try:
        if args.command is None and not _config_readable(ctx):
            return 0  # quit from the config's screen once it reads again
        if args.command != "doctor":
            ctx.settings  # a broken config fails loudly everywhere but in doctor, which reports it
        if args.command is None:
            return run_app(ctx)
        return args.handler(ctx)
    except KeyboardInterrupt:
        print("agentterm: interrupted", file=sys.stderr)
        return 130
    except CliError as error:
        return fail(error.message, error.hint, code=error.code)
    except BrokenPipeError:
        return 0
    except OSError as error:
        if not _output_failed(error):
            known = ctx.explain(error)
            if known is not None:
                return fail(*known)
            what = f"{error.strerror or error}" + (f": {error.filename}" if error.filename else "")
            return fail(f"{ctx.scrub(what)}.", "Check the path, its permissions and the free space.")
        return fail(f"could not write the output: {error.strerror or error}.",
                    "Check the free space where the output goes (or send it elsewhere with -o).")
    except Exception as error:  # noqa: BLE001 - the last line of defence: one line, no traceback
        known = ctx.explain(error)
        if known is not None:
            return fail(*known)
        return fail(f"unexpected {type(error).__name__}: {ctx.scrub(str(error))}",
                    "This is a bug in agentterm; please report it with the command you ran.")
    finally:
        ctx.close()


def _config_readable(ctx: Context) -> bool:
    """For the app in a terminal: a config that cannot be read is said in the app, which waits
    for it to be fixed (r reads it again) instead of exiting; False when the user quits there
    (the error raised again when the config is still broken, for its one line on stderr).
    Anywhere else (a pipe, a script) it is the usual one line on stderr."""
    from agentterm.config import ConfigError

    try:
        ctx.settings
        return True
    except ConfigError as error:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise
        from agentterm.tui.config_problem import ConfigProblemApp

        def read() -> None:
            ctx.__dict__.pop("settings", None)
            ctx.settings

        if ConfigProblemApp(str(error), read).run():
            return True
        read()  # quit while still broken: the line stays in the terminal too (exit code 2)
        return False


def _output_failed(error: OSError) -> bool:
    """Whether writing stdout failed (a full disk, /dev/full): the rest of the output goes nowhere."""
    import errno
    import os

    if error.filename is not None or error.errno not in (errno.ENOSPC, errno.EIO, errno.EDQUOT):
        return False
    # Python would try to flush the failed stream again at exit and print a traceback of it.
    try:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives until exit
    except OSError:
        pass
    return True
