"""`agentterm serve`: the agents as an OpenAI-compatible HTTP API (FastAPI on uvicorn)."""

from __future__ import annotations

import sys

from agentterm.cli.context import CliError, Context

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(commands, common) -> None:
    p = commands.add_parser("serve", parents=[common], help="serve the agents as an OpenAI-compatible API")
    p.add_argument("--host", default="127.0.0.1", help="the address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="the port (default: 8765; 0: any free one)")
    p.add_argument("--port-file", metavar="PATH", help="write the port here once listening (for scripts)")
    p.set_defaults(handler=run)


def run(ctx: Context) -> int:
    try:
        import uvicorn

        from agentterm.server.app import create_app
    except ImportError:
        raise CliError("agentterm serve needs FastAPI and uvicorn.",
                       'Install them with: pip install "agentterm[serve]"') from None
    args = ctx.args
    if args.host not in LOOPBACK:
        print(f"agentterm: warning: serving on {args.host}, not loopback: anyone who can reach it and"
              " holds a token can use your agents and keys; put TLS in front (docs/api.md)", file=sys.stderr)
    from agentterm.cli.ask import make_tools

    app = create_app(ctx.store, ctx.settings, ctx.client, host=args.host, tools=make_tools(ctx))
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning",
                            timeout_graceful_shutdown=5, lifespan="on")
    server = _Server(config, app.state.parts)
    if args.port_file:
        _announce(server, args.port_file)
    # uvicorn handles SIGINT/SIGTERM itself: it stops taking requests, and our handle_exit stops
    # the open answers, which the engine stores as interrupted before their requests end. Afterwards it raises the signal again to
    # the handler it found: a quiet one here, so a requested stop is exit 0, not a kill or a
    # KeyboardInterrupt.
    import signal

    quiet = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    finally:
        for sig, handler in quiet.items():
            signal.signal(sig, handler)
    print("agentterm serve: stopped", file=sys.stderr)
    return 0


def _Server(config, parts):
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            parts.stop_answers()  # open answers end interrupted now, not after the graceful timeout

    return Server(config)


def _announce(server, path: str) -> None:
    """Write the bound port to `path` once uvicorn listens (port 0 picks a free one)."""
    started = server.startup

    async def startup(sockets=None):
        await started(sockets=sockets)
        for s in server.servers:
            for sock in s.sockets:
                port = sock.getsockname()[1]
                from pathlib import Path

                Path(path).write_text(str(port))
                print(f"agentterm serve: listening on port {port}", file=sys.stderr)
                return

    server.startup = startup
