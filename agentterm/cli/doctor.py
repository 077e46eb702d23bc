"""`agentterm doctor`: the resolved paths, the config checked, each provider reached."""

from __future__ import annotations

import asyncio

from agentterm.cli.context import Context, out


def register(commands, common) -> None:
    parser = commands.add_parser("doctor", parents=[common], help="check paths, config and providers")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each provider")
    parser.set_defaults(handler=run)


async def check_provider(ctx: Context, name: str, timeout: float) -> tuple[bool, str]:
    from agentterm.llm import LLMError

    provider = ctx.settings.providers[name]
    try:
        key = provider.resolve_api_key()
    except Exception as error:  # noqa: BLE001 - any failure of the key command is a finding
        return False, f"key: {ctx.scrub(str(error))}"
    key_note = "key set" if key else "no key"
    try:
        models = await asyncio.wait_for(ctx.client.list_models(name), timeout)
    except LLMError as error:
        return False, f"{key_note}; {ctx.scrub(error.message)} {ctx.scrub(error.hint)}".rstrip()
    except TimeoutError:
        return False, f"{key_note}; no answer within {timeout:g} s. Check base_url."
    shown = ", ".join(models[:8]) + (f" and {len(models) - 8} more" if len(models) > 8 else "")
    return True, f"{key_note}; reached, {len(models)} models" + (f": {shown}" if models else "")


async def check_providers(ctx: Context, timeout: float) -> dict[str, tuple[bool, str]]:
    return {name: await check_provider(ctx, name, timeout) for name in ctx.settings.providers}


def run(ctx: Context) -> int:
    from agentterm.config import ConfigError
    from agentterm.store import StoreError

    problems = 0
    out(f"config: {ctx.config_path}" + ("" if ctx.config_path.exists() else " (none: using defaults)"))
    out(f"store:  {ctx.db_path}")
    try:
        settings = ctx.settings
        out("ok   config read")
    except ConfigError as error:
        out(f"FAIL config: {error}")
        return 1
    try:
        stats = ctx.store.stats()
        out(f"ok   store opened ({stats.get('conversations', 0)} conversations)")
    except StoreError as error:
        out(f"FAIL store: {error}")
        problems += 1
    # One event loop for every check: the client's connections belong to the loop that made them.
    results = asyncio.run(check_providers(ctx, ctx.args.timeout))
    for name, (ok, detail) in results.items():
        default = " (default)" if name == settings.default_provider else ""
        out(f"{'ok  ' if ok else 'FAIL'} provider {name}{default}: {detail}")
        problems += not ok
    return 1 if problems else 0
