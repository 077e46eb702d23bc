"""`agentterm doctor`: the resolved paths, the config checked, each provider and MCP server reached."""

from __future__ import annotations

import asyncio

from agentterm.cli.context import Context, out

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"


def register(commands, common) -> None:
    parser = commands.add_parser("doctor", parents=[common], help="check paths, config, providers and MCP servers")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each provider")
    parser.set_defaults(handler=run)


def base_url(ctx: Context, name: str) -> str:
    url = ctx.settings.providers[name].base_url
    return url or f"{OPENAI_DEFAULT_URL} (OpenAI's default)"


def wanted_models(ctx: Context, name: str, agents) -> list[tuple[str, str]]:
    """(model, who wants it) for a provider: its model, its title model, and each agent's model on it."""
    settings = ctx.settings
    provider = settings.providers[name]
    wanted: list[tuple[str, str]] = []
    if provider.model:
        wanted.append((provider.model, "its model"))
    if provider.title_model and provider.title_model != provider.model:
        wanted.append((provider.title_model, "its title_model"))
    for agent in agents:
        if agent.model and (agent.provider or settings.default_provider) == name:
            wanted.append((agent.model, f"agent {agent.name}"))
    return wanted


async def check_provider(ctx: Context, name: str, timeout: float) -> tuple[bool, str, list[str] | None]:
    """(ok, the line's detail, the models the server lists or None when it was not reached)."""
    from agentterm.llm import LLMError

    provider = ctx.settings.providers[name]
    where = base_url(ctx, name)
    try:
        key = provider.resolve_api_key()
    except Exception as error:  # noqa: BLE001 - any failure of the key command is a finding
        return False, f"{where}; key: {ctx.scrub(str(error))}", None
    key_note = "key set" if key else "no key"
    try:
        models = await asyncio.wait_for(ctx.client.list_models(name), timeout)
    except LLMError as error:
        return False, f"{where}; {key_note}; {ctx.scrub(error.message)} {ctx.scrub(error.hint)}".rstrip(), None
    except TimeoutError:
        return False, f"{where}; {key_note}; no answer within {timeout:g} s. Check base_url.", None
    shown = ", ".join(models[:8]) + (f" and {len(models) - 8} more" if len(models) > 8 else "")
    return True, f"{where}; {key_note}; reached, {len(models)} models" + (f": {shown}" if models else ""), models


async def check_providers(ctx: Context, timeout: float) -> dict[str, tuple[bool, str, list[str] | None]]:
    return {name: await check_provider(ctx, name, timeout) for name in ctx.settings.providers}


async def check_mcp_servers(ctx: Context) -> dict[str, tuple[list, str | None]]:
    """Each configured server started (all at once), its tools or why it failed; all stopped after."""
    from agentterm.tools import MCPTools

    tools = MCPTools(ctx.settings)
    names = list(ctx.settings.mcp_servers)
    try:
        found = await asyncio.gather(*(tools.server_tools(name) for name in names))
    finally:
        await tools.aclose()
    return dict(zip(names, found, strict=True))


def schema_line(ctx: Context) -> str:
    from agentterm.store.sqlite import migrations

    store = ctx.store
    found = store.schema_version() if hasattr(store, "schema_version") else _user_version(ctx.db_path)
    # Each backend knows its own latest step (PostgreSQL's migrations are its own).
    latest = store.latest_schema_version() if hasattr(store, "latest_schema_version") else migrations.latest_version()
    return f"schema version {found}" + (" (the latest)" if found == latest else f" (this agentterm's: {latest})")


def server_line(ctx: Context) -> str:
    """What holds the store: SQLite's version, or the PostgreSQL server's address and version."""
    info = getattr(ctx.store, "server_info", None)
    if info is None:
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    found = info()  # {"server": "host:port" (None for a file), "version": "PostgreSQL 16.4", ...}
    version = found.get("version") or "?"
    if not found.get("server"):
        return version
    from agentterm.store.row_security import row_security_on

    security = "row-level security on" if row_security_on(ctx.store) else "row-level security off"
    return f"server {found['server']}, {version}, {security}"


def _user_version(path) -> int:
    import sqlite3

    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


def run(ctx: Context) -> int:
    from agentterm.config import ConfigError
    from agentterm.store import StoreError

    problems = 0
    out(f"config: {ctx.config_path}" + ("" if ctx.config_path.exists() else " (none: using defaults)"))
    try:
        settings = ctx.settings
    except ConfigError as error:
        out(f"FAIL config: {error}")
        return 1
    agents = []
    try:
        out(f"store:  {ctx.shown_db}")
        out("ok   config read")
        stats = ctx.store.stats()
        agents = ctx.store.list_agents(statuses=("active", "paused"))
        out(f"ok   store opened ({stats.get('conversations', 0)} conversations), {schema_line(ctx)}, "
            f"{server_line(ctx)}")
    except (StoreError, ConfigError) as error:  # ConfigError: password_cmd failed
        out(f"FAIL store: {ctx.scrub(str(error))}")
        problems += 1

    async def everything():
        # One event loop for every check: the client's connections belong to the loop that made them.
        return await check_providers(ctx, ctx.args.timeout), await check_mcp_servers(ctx)

    providers, servers = asyncio.run(everything())
    for name, (ok, detail, models) in providers.items():
        default = " (default)" if name == settings.default_provider else ""
        out(f"{'ok  ' if ok else 'FAIL'} provider {name}{default}: {detail}")
        problems += not ok
        if not models:  # not reached, or a server with no model list: nothing to compare
            continue
        for model, who in wanted_models(ctx, name, agents):
            if model not in models:
                out(f'FAIL provider {name}: model "{model}" ({who}) is not among the models it lists')
                problems += 1
    for name, (specs, fault) in servers.items():
        config = settings.mcp_servers[name]
        if fault:
            out(f"FAIL mcp server {name} ({config.transport}): {fault}")
            problems += 1
            continue
        listed = ", ".join(spec.tool for spec in specs[:10]) + (f" and {len(specs) - 10} more" if len(specs) > 10 else "")
        out(f"ok   mcp server {name} ({config.transport}): {len(specs)} tools" + (f": {listed}" if specs else ""))
    return 1 if problems else 0
