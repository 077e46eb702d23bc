"""`agentterm mcp`: the configured MCP servers and who uses them; one server started and its tools listed."""

from __future__ import annotations

import asyncio
import shlex

from agentterm.cli.context import CliError, Context, out, out_json


def register(commands, common) -> None:
    mcp = commands.add_parser("mcp", parents=[common], help="MCP servers: the tools agents may call")
    sub = mcp.add_subparsers(dest="mcp_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", parents=[common], help="the configured servers, their transport and the agents using each")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=list_servers)

    p = sub.add_parser("tools", parents=[common], help="start one server and list its tools")
    p.add_argument("name", help="the server's name in the config ([mcp_servers.NAME])")
    p.add_argument("--json", action="store_true", help="print JSON (with each tool's input schema)")
    p.set_defaults(handler=list_server_tools)


def target(config) -> str:
    """What the server is, for a person: the command line or the URL (never env or header values)."""
    if config.url:
        headers = ", ".join(config.headers_env)
        return config.url + (f" (headers from the environment: {headers})" if headers else "")
    return shlex.join([config.command, *config.args])


def users(ctx: Context) -> dict[str, list[str]]:
    """Server name -> the names of the agents that list it, retired ones included."""
    found: dict[str, list[str]] = {}
    for agent in ctx.store.list_agents(statuses=("active", "paused", "inactive")):
        for server in getattr(agent, "mcp_servers", None) or []:
            found.setdefault(server, []).append(agent.name)
    return found


def list_servers(ctx: Context) -> int:
    servers = ctx.settings.mcp_servers
    used = users(ctx)
    if ctx.args.json:
        out_json([{"name": name, "transport": config.transport, "command": config.command, "args": config.args,
                   "cwd": str(config.cwd) if config.cwd else None, "env": sorted(config.env),
                   "url": config.url, "headers_env": sorted(config.headers_env), "timeout": config.timeout,
                   "startup_timeout": config.startup_timeout, "agents": used.get(name, [])}
                  for name, config in servers.items()])
        return 0
    if not servers:
        out("No MCP servers configured: add [mcp_servers.NAME] tables to the config (see docs/configuration.md).")
    for name, config in servers.items():
        agents = ", ".join(used.get(name, [])) or "no agent"
        out(f"{name}  {config.transport}  {target(config)}")
        out(f"    used by: {agents}")
    unknown = {name: agents for name, agents in used.items() if name not in servers}
    for name, agents in unknown.items():
        out(f'warning: agents {", ".join(agents)} name "{name}", which the config does not define')
    return 0


async def server_tools(ctx: Context, name: str):
    from agentterm.tools import MCPTools

    tools = MCPTools(ctx.settings)
    try:
        return await tools.server_tools(name)
    finally:
        await tools.aclose()


def list_server_tools(ctx: Context) -> int:
    name = ctx.args.name
    if name not in ctx.settings.mcp_servers:
        known = ", ".join(ctx.settings.mcp_servers) or "none"
        raise CliError(f'no MCP server named "{name}" in the config (it defines: {known})',
                       "Run `agentterm mcp list` to see them.")
    specs, fault = asyncio.run(server_tools(ctx, name))
    if fault:
        raise CliError(fault)
    if ctx.args.json:
        out_json([{"name": spec.tool, "qualified": spec.qualified, "function": spec.name,
                   "description": spec.description, "input_schema": spec.input_schema} for spec in specs])
        return 0
    if not specs:
        out(f'MCP server "{name}" started but offers no tools.')
    for spec in specs:
        out(f"{spec.qualified}")
        if spec.description:
            for line in spec.description.strip().splitlines()[:3]:
                out(f"    {line.strip()}")
    return 0
