"""`agentterm store copy SRC DST`: move a whole store between SQLite files and PostgreSQL servers."""

from __future__ import annotations

import sys

from agentterm.cli.context import CliError, Context, out, out_json


def register(commands, common) -> None:
    store = commands.add_parser("store", parents=[common], help="the store as a whole: copy it elsewhere")
    sub = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    p = sub.add_parser("copy", parents=[common],
                       help="copy a whole store (SQLite file or postgresql:// URL) into another; safe to run again")
    p.add_argument("src", metavar="SRC", help="the store to copy: a SQLite file or a postgresql:// URL")
    p.add_argument("dst", metavar="DST", help="where to: a new (or earlier copied) SQLite file or PostgreSQL database")
    p.add_argument("--json", action="store_true", help="print each table's rows, copies and checksum as JSON")
    p.set_defaults(handler=copy)
    p = sub.add_parser("secure", parents=[common],
                       help="PostgreSQL: turn row-level security on (as the tables' owner), grant member roles")
    p.add_argument("--member", metavar="ROLE", action="append", default=[],
                   help="an existing login role to let in as a member (its own rows only); may be repeated")
    p.set_defaults(handler=secure)


def _open(ctx: Context, text: str, role: str, *, must_exist: bool):
    from agentterm.store.opening import open_store
    from agentterm.store.target import is_postgres, mask, parse_target

    target = parse_target(text)
    if is_postgres(target):
        password = ctx.settings.store.resolve_password()
    else:
        password = None
        if must_exist and target != ":memory:" and not target.exists():
            raise CliError(f"{role} {mask(target)} does not exist.", "Give the path of the store to copy.", code=2)
        if target == ":memory:":
            raise CliError(f"{role} cannot be :memory:.", "Give a file's path or a postgresql:// URL.", code=2)
    store = open_store(target, password=password)
    ctx._opened.append(store)
    return store


def copy(ctx: Context) -> int:
    from agentterm.store.copy import copy_store
    from agentterm.store.target import mask, parse_target

    args = ctx.args
    if parse_target(args.src) == parse_target(args.dst):
        raise CliError("SRC and DST are the same store.", "Give two different stores.", code=2)
    src = _open(ctx, args.src, "SRC", must_exist=True)
    dst = _open(ctx, args.dst, "DST", must_exist=False)
    report = copy_store(src, dst)
    if args.json:
        out_json({"changed": report.changed, "tables": [vars(t) for t in report.tables]})
    for table in report.tables if not args.json else ():
        what = []
        if table.inserted:
            what.append(f"{table.inserted} copied")
        if table.updated:
            what.append(f"{table.updated} updated")
        out(f"{table.table:<20} {table.rows:>8} rows  checksum {table.checksum}"
            + (f"  ({', '.join(what)})" if what else ""))
    total = sum(t.rows for t in report.tables)
    if report.changed:
        print(f"agentterm store copy: {mask(args.src)} -> {mask(args.dst)}: {report.changed} rows written; "
              f"every table's count and checksum match ({total} rows)", file=sys.stderr)
    else:
        print(f"agentterm store copy: nothing new to copy: {mask(args.dst)} already matches {mask(args.src)} "
              f"({total} rows, every checksum equal)", file=sys.stderr)
    return 0


def secure(ctx: Context) -> int:
    from agentterm.store.row_security import enable_row_security, grant_member

    store = ctx.store
    enable_row_security(store)
    for role in ctx.args.member:
        grant_member(store, role)
    members = f"; members granted: {', '.join(ctx.args.member)}" if ctx.args.member else ""
    print(f"agentterm store secure: row-level security is on for {ctx.shown_db}{members}", file=sys.stderr)
    return 0
