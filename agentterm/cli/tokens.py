"""`agentterm tokens`: the API tokens of `agentterm serve` (created, listed, revoked)."""

from __future__ import annotations

from agentterm.cli.context import CliError, Context, out, out_json


def register(commands, common) -> None:
    tokens = commands.add_parser("tokens", parents=[common], help="API tokens for agentterm serve")
    sub = tokens.add_subparsers(dest="tokens_command", metavar="ACTION", required=True)

    p = sub.add_parser("create", parents=[common], help="make a token and print it once")
    p.add_argument("--user", metavar="NAME", help="the user it acts as (default: the local user)")
    p.add_argument("--name", metavar="LABEL", default="", help="a label for `tokens list`")
    p.set_defaults(handler=create)

    p = sub.add_parser("list", parents=[common], help="every token: prefix, user, name, created, last used, revoked")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=list_tokens)

    p = sub.add_parser("revoke", parents=[common], help="revoke a token by id or prefix")
    p.add_argument("token", metavar="ID|PREFIX")
    p.set_defaults(handler=revoke)


def create(ctx: Context) -> int:
    user = ctx.args.user or ctx.settings.local_user()
    token, row = ctx.store.create_token(user, ctx.args.name)
    out(token)
    import sys

    print(f"token {row['id']} for user {row['user']}: shown once, only its hash is kept",
          file=sys.stderr)
    return 0


def list_tokens(ctx: Context) -> int:
    rows = ctx.store.list_tokens()
    if ctx.args.json:
        out_json(rows)
        return 0
    if not rows:
        out("No tokens: make one with `agentterm tokens create`.")
    for r in rows:
        state = f"revoked {r['revoked_at']}" if r["revoked_at"] else "active"
        out(f"{r['id']}  {r['prefix']}…  {r['user']}  {r['name'] or '-'}  created {r['created_at']}"
            f"  last used {r['last_used_at'] or 'never'}  {state}")
    return 0


def revoke(ctx: Context) -> int:
    from agentterm.store import StoreError

    try:
        row = ctx.store.revoke_token(ctx.args.token)
    except StoreError as error:
        raise CliError(str(error)) from None
    out(f"revoked token {row['id']} ({row['prefix']}…, user {row['user']})")
    return 0
