"""One MCP server's connection: started on first use, restarted after it died, stopped at exit."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentterm.config import ConfigError, MCPServerConfig

# Seconds the server's process group gets between SIGTERM and SIGKILL, once the server has exited.
GROUP_GRACE = 2.0

# The processes stdio_client spawns in the current task, so their groups can be ended after it.
_spawned: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("agentterm_mcp_spawned", default=None)
# Group ids still running, for the exit hook: a loop that dies without aclose() leaves none behind.
_live_groups: set[int] = set()


def _watch_spawns() -> None:
    """Learn the pid of each server stdio_client starts (the SDK keeps its process to itself)."""
    import mcp.client.stdio as sdk_stdio

    spawn = getattr(sdk_stdio, "_create_platform_compatible_process", None)
    if spawn is None or getattr(spawn, "agentterm", False):
        return  # another SDK layout (its own shutdown still applies), or already watched

    async def watched(*args: Any, **kwargs: Any) -> Any:
        process = await spawn(*args, **kwargs)
        found = _spawned.get()
        if found is not None:
            found.append(process)
        return process

    watched.agentterm = True  # type: ignore[attr-defined]
    sdk_stdio._create_platform_compatible_process = watched


async def end_group(process: Any) -> None:
    """End what is left of a server's process group: children it started that outlived it."""
    _live_groups.discard(process.pid)
    if sys.platform == "win32":
        return
    from mcp.os.posix.utilities import terminate_posix_process_tree

    with contextlib.suppress(OSError):
        await terminate_posix_process_tree(process, GROUP_GRACE)


@atexit.register
def _kill_leftover_groups() -> None:
    for pgid in list(_live_groups):
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGKILL)


def quiet_sdk_logs(log_dir: Path) -> None:
    """Send the SDK's own warnings to logs/mcp.log: with no handler Python prints them over the app's screen."""
    import logging

    target = str((log_dir / "mcp.log").absolute())
    for name in ("mcp", "httpx2"):
        sdk = logging.getLogger(name)
        ours = [h for h in sdk.handlers if getattr(h, "agentterm", False)]
        if any(getattr(h, "baseFilename", None) == target for h in ours):
            continue
        for old in ours:  # the newest log dir wins (tests make many)
            sdk.removeHandler(old)
            old.close()
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            handler: logging.Handler = logging.FileHandler(target, encoding="utf-8", delay=True)
            handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        except OSError:
            handler = logging.NullHandler()
        handler.agentterm = True  # type: ignore[attr-defined]
        handler.setLevel(logging.WARNING)
        sdk.addHandler(handler)
        sdk.propagate = False


class ServerFault(Exception):
    """A server that cannot be used now; str() is the one line to show."""


def leaf(error: BaseException) -> BaseException:
    """The first real exception inside anyio's exception groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


class Connection:
    """The session with one server, owned by a task of its own (anyio scopes must exit where they began)."""

    def __init__(self, config: MCPServerConfig, log_dir: Path) -> None:
        self.config = config
        self.log_path = log_dir / f"mcp-{config.name}.log"
        self.tools: list[Any] = []
        self._session: Any = None
        self._task: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
        self._ending: set[asyncio.Task[None]] = set()
        self._http_status: int | None = None  # the last HTTP status seen: the SDK's errors do not say it

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def running(self) -> bool:
        return self._session is not None and self._task is not None and not self._task.done()

    def scrub(self, text: str, *, with_env: bool = True) -> str:
        """Text with this server's secrets hidden; a tool's own result keeps env values (with_env=False)."""
        for secret in self.config.secrets(with_env=with_env):
            text = text.replace(secret, "[hidden]")
        return text

    async def session(self) -> Any:
        """The live session, starting the server first if it is not running; raises ServerFault."""
        if self.running:
            return self._session
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if not self.running:
                await self._start()
            return self._session

    async def _start(self) -> None:
        self._retire()
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        ready.add_done_callback(lambda done: done.cancelled() or done.exception())  # seen, even if late
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(ready, self._stop), name=f"mcp-{self.name}")
        timeout = self.config.startup_timeout
        try:
            await asyncio.wait_for(asyncio.shield(ready), timeout)
        except TimeoutError:
            self._retire()
            raise ServerFault(self._fault(f"did not answer within {timeout:g} s of starting "
                                          f"(mcp_servers.{self.name}.startup_timeout)")) from None
        except asyncio.CancelledError:
            self._retire()
            raise
        except BaseException as error:  # noqa: BLE001 - every way of failing to start becomes one line
            self._retire()
            raise ServerFault(self._fault(self._why(leaf(error)))) from None

    def _fault(self, why: str) -> str:
        log = f"; its log: {self.log_path}" if self.config.transport == "stdio" else ""
        return self.scrub(f'MCP server "{self.name}" {why}{log}')

    def _why(self, error: BaseException) -> str:
        from mcp import MCPError

        config = self.config
        if isinstance(error, ConfigError):
            return f"cannot start: {error.message}"
        if isinstance(error, FileNotFoundError) and config.command:
            if config.cwd is not None and not config.cwd.is_dir():
                return f"cannot start: its cwd {config.cwd} is not a directory"
            return f'cannot start: "{config.command}" was not found (is it installed and on PATH?)'
        if isinstance(error, PermissionError) and config.command:
            return f'cannot start: "{config.command}" cannot be run (permission denied)'
        if isinstance(error, MCPError) and config.transport == "stdio":
            from mcp_types import CONNECTION_CLOSED

            if error.code != CONNECTION_CLOSED:
                return f"refused to start a session: {_one_line(error.message)}"
            last = self._last_log_line()
            return "exited before it answered" + (f" (it said: {last})" if last else "")
        text = str(error).strip() or type(error).__name__
        status = self._http_status
        if config.url and status in (401, 403):
            names = ", ".join(f"${var}" for var in config.headers_env.values())
            check = f"check headers_env ({names})" if names else "it wants credentials: set headers_env"
            return f"refused the request (HTTP {status}) at {config.url}; {check}"
        if config.url and status == 404:
            return f"has no MCP endpoint at {config.url} (HTTP 404); check its url"
        if config.url and status is not None and status >= 400:
            return f"answered HTTP {status} at {config.url}: {_one_line(text)}"
        if config.url:
            return f"cannot be reached at {config.url}: {_one_line(text)}"
        return f"cannot start: {_one_line(text)}"

    def _last_log_line(self) -> str:
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(max(0, os.fstat(handle.fileno()).st_size - 4096))
                lines = [line for line in handle.read().decode("utf-8", "replace").splitlines() if line.strip()]
        except OSError:
            return ""
        return _one_line(lines[-1])[:200] if lines and not lines[-1].startswith("--- ") else ""

    async def _run(self, ready: asyncio.Future[None], stop: asyncio.Event) -> None:
        from mcp import ClientSession

        quiet_sdk_logs(self.log_path.parent)
        log = None
        spawned: list[Any] = []
        try:
            async with contextlib.AsyncExitStack() as stack:
                if self.config.transport == "stdio":
                    log = self._open_log()
                    _watch_spawns()
                    _spawned.set(spawned)
                    streams = await stack.enter_async_context(self._stdio(log))
                    _live_groups.update(process.pid for process in spawned)
                else:
                    streams = await stack.enter_async_context(self._http())
                session = await stack.enter_async_context(ClientSession(streams[0], streams[1]))
                await session.initialize()
                self.tools = await _list_all(session)
                self._session = session
                ready.set_result(None)
                await stop.wait()
        except BaseException as error:  # noqa: BLE001 - reported through `ready`, or the next call sees it
            if not ready.done():
                ready.set_exception(error)
            if isinstance(error, asyncio.CancelledError):
                raise
        finally:
            self._session = None
            # The SDK has closed stdin and waited for the server; what the server started may live on.
            with contextlib.suppress(BaseException):
                await asyncio.shield(asyncio.gather(*(end_group(process) for process in spawned)))
            if log is not None:
                log.close()

    def _stdio(self, log: Any) -> Any:
        from mcp import StdioServerParameters, stdio_client

        config = self.config
        params = StdioServerParameters(command=config.command, args=config.args, env=config.env or None,
                                       cwd=config.cwd)
        return stdio_client(params, errlog=log)

    @contextlib.asynccontextmanager
    async def _http(self) -> Any:
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        headers = self.config.headers()
        timeout = httpx2.Timeout(self.config.startup_timeout, read=max(300.0, self.config.timeout + 5))
        self._http_status = None

        async def seen(response: Any) -> None:
            self._http_status = response.status_code

        async with httpx2.AsyncClient(headers=headers, timeout=timeout, event_hooks={"response": [seen]}) as client:
            async with streamable_http_client(self.config.url, http_client=client) as streams:
                yield streams

    def _open_log(self) -> Any:
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError:
            # No place for the log is no reason to refuse the tools; stderr must still stay off the screen.
            return open(os.devnull, "w", encoding="utf-8")
        log = os.fdopen(fd, "a", encoding="utf-8")
        log.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')} starting {self.config.command}\n")
        log.flush()
        return log

    def stopped_line(self, tool: str) -> str:
        """The line for a call the server never answered because it went away."""
        if self.config.transport == "http":
            return (f'MCP server "{self.name}" closed the connection during the call to {tool}; '
                    "the next call connects again")
        last = self._last_log_line()
        said = f" (it said: {last})" if last else ""
        return self.scrub(f'MCP server "{self.name}" stopped during the call to {tool}{said}; '
                          f"the next call starts it again; its log: {self.log_path}")

    def mark_dead(self) -> None:
        """The server stopped answering for good: the next call starts it again."""
        self._retire()

    def _retire(self) -> None:
        # Ending a stdio server takes up to ~6 s (stdin closed, SIGTERM, SIGKILL): not on the caller's time.
        was_ready, self._session = self._session is not None, None
        if self._task is not None and not self._task.done():
            if was_ready and self._stop is not None:
                self._stop.set()  # a clean end: the session and transport close in order
            else:
                self._task.cancel()  # still starting: nothing to wait for
            self._ending.add(self._task)
        self._task = None

    async def aclose(self) -> None:
        """Stop the server and wait until it has ended (its process group too)."""
        self._retire()
        pending = [task for task in self._ending if not task.done()]
        self._ending.clear()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


async def _list_all(session: Any) -> list[Any]:
    from mcp.types import PaginatedRequestParams

    tools: list[Any] = []
    cursor = None
    for _ in range(100):  # a server paging forever must not hang the start
        listing = await session.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
        tools.extend(listing.tools)
        cursor = listing.next_cursor
        if not cursor:
            break
    return tools


def _one_line(text: str) -> str:
    return " ".join(text.split())
