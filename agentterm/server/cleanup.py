"""The server's housekeeping: id-less API sessions idle past [serve] idle_timeout go to the trash,
and the trash is purged after trash_days, as the app does when it starts (a server may run for weeks)."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("agentterm.serve")


def sweep_interval(idle_timeout: float) -> float:
    """Often enough that a session outlives its timeout by a tenth at most; never busier than 1/s."""
    return min(max(idle_timeout / 10, 1.0), 60.0)


async def sweep_once(astore, idle_timeout: float, trash_days: float) -> int:
    trashed = await astore.trash_idle_ephemeral(idle_timeout)
    if trash_days:
        await astore.purge_trash(trash_days)
    return trashed


async def sweep_forever(astore, idle_timeout: float, trash_days: float) -> None:
    """Run by the app's lifespan: once at start, then every sweep_interval; a store fault (a
    locked store, a full disk) is logged and tried again next time, never the server's end."""
    while True:
        try:
            await sweep_once(astore, idle_timeout, trash_days)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - the next sweep tries again
            log.warning("agentterm serve: the idle-session cleanup failed (%s); trying again later", error)
        await asyncio.sleep(sweep_interval(idle_timeout))
