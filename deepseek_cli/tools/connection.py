"""One MCP server over stdio: its process, its client session, its stderr, on the toolbox loop.

Why a task per server: the SDK's transport and session are async context managers that must
be entered and left in the same task, while tool calls arrive later from other tasks. An owner
task opens both, reports the tool list, and holds them open until :meth:`Connection.stop`.

What the server sees: only PATH, HOME, LANG and TMPDIR (those set) and its configured ``env``.
The SDK always adds its own defaults (HOME, LOGNAME, PATH, SHELL, TERM, USER) to whatever it is
given, so the server is started through a tiny launcher that keeps exactly our variables and
``exec``s the command: no value ever goes on a command line, and the pid stays the server's.
Its stderr goes to a pipe of which the last few KiB are kept, never to the user's terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import PaginatedRequestParams

from deepseek_cli.config.mcp import McpServer
from deepseek_cli.errors import ConfigError

# The SDK logs a server's bad output (not JSON-RPC on stdout...) with tracebacks; with no
# handler Python would print them on the user's terminal. What went wrong reaches the user
# as the one-line error or the tool's error result instead.
_sdk_log = logging.getLogger("mcp")
_sdk_log.addHandler(logging.NullHandler())
_sdk_log.propagate = False

# Passed on from our environment; everything else of ours (API keys above all) stays here.
PASSED_ENV = ("PATH", "HOME", "LANG", "TMPDIR")
STDERR_KEPT = 4096

# argv: KEEP_JSON, executable, argv0, args...
_LAUNCHER = (
    "import json,os,sys\n"
    "keep=set(json.loads(sys.argv[1]))\n"
    "env={k:v for k,v in os.environ.items() if k in keep}\n"
    "try:\n"
    " os.execve(sys.argv[2],sys.argv[3:],env)\n"
    "except OSError as e:\n"
    " sys.stderr.write(f'cannot run {sys.argv[3]}: {e.strerror}\\n');sys.exit(127)\n"
)


def server_env(server: McpServer, environ: Mapping[str, str]) -> dict[str, str]:
    passed = {k: environ[k] for k in PASSED_ENV if k in environ}
    return {**passed, **server.env}


def _resolve(server: McpServer, env: Mapping[str, str]) -> str:
    """The executable's path, found as the server's own PATH would find it."""
    if server.cwd is not None and not server.cwd.is_dir():
        raise _not_started(server, f"cwd {server.cwd} is not a directory")
    if os.sep in server.command:
        path = Path(server.command).expanduser()
        if not path.is_absolute():
            path = (server.cwd or Path.cwd()) / path
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise _not_started(server, f"{server.command} is not an executable file")
        return str(path)
    found = shutil.which(server.command, path=env.get("PATH", os.defpath))
    if found is None:
        raise _not_started(server, f"command not found: {server.command}")
    return found


def _not_started(server: McpServer, reason: str) -> ConfigError:
    return ConfigError(
        f"MCP server '{server.name}' did not start: {reason}",
        f"check [mcp.{server.name}] in the config; try: {server.command_line}",
    )


class _StderrTail:
    """The server's stderr, read as it comes; only the last ``STDERR_KEPT`` bytes are kept."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        self._read_fd: int | None = read_fd
        self.writer = os.fdopen(write_fd, "w")
        self.tail = bytearray()
        loop.add_reader(read_fd, self._drain)

    def _drain(self) -> None:
        if self._read_fd is None:
            return
        try:
            data = os.read(self._read_fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        self.tail += data
        del self.tail[:-STDERR_KEPT]

    def last_line(self) -> str:
        self._drain()
        lines = [ln.strip() for ln in self.tail.decode("utf-8", "replace").splitlines()]
        lines = [ln for ln in lines if ln]
        return lines[-1][:300] if lines else ""

    def close_writer(self) -> None:
        with contextlib.suppress(OSError):
            self.writer.close()

    def close(self) -> None:
        self.close_writer()
        if self._read_fd is not None:
            self._loop.remove_reader(self._read_fd)
            os.close(self._read_fd)
            self._read_fd = None


class Connection:
    """A started server. :meth:`start` raises ``ConfigError`` ("did not start") on failure."""

    def __init__(self, server: McpServer, environ: Mapping[str, str]) -> None:
        self.server = server
        self._environ = environ
        self.session: ClientSession | None = None
        self.tools: list[Any] = []  # mcp_types.Tool, as the server listed them
        self._stop = asyncio.Event()
        self._owner: asyncio.Task[None] | None = None
        # Cuts a start short (Ctrl-C, close) through anyio, whose scopes the SDK's shielded
        # shutdown honours: a native task.cancel() could leave the process behind.
        self._scope: anyio.CancelScope | None = None  # made on the loop, by the owner
        self._stderr: _StderrTail | None = None

    @property
    def alive(self) -> bool:
        return self.session is not None and self._owner is not None and not self._owner.done()

    def stderr_line(self) -> str:
        return self._stderr.last_line() if self._stderr else ""

    async def start(self) -> None:
        env = server_env(self.server, self._environ)
        executable = _resolve(self.server, env)
        loop = asyncio.get_running_loop()
        self._stderr = _StderrTail(loop)
        launcher = ["-I", "-S", "-c", _LAUNCHER, json.dumps(sorted(env)), executable]
        params = StdioServerParameters(
            command=sys.executable,
            args=[*launcher, self.server.command, *self.server.args],
            env=env,
            cwd=self.server.cwd,
        )
        ready: asyncio.Future[None] = loop.create_future()
        self._owner = asyncio.create_task(self._own(params, ready))
        try:
            await ready
        except BaseException as exc:
            await self.stop()
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise _not_started(self.server, self._reason(exc)) from None

    def _reason(self, exc: BaseException) -> str:
        said = self.stderr_line()
        # The SDK's task groups wrap what went wrong in exception groups.
        while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]
        if isinstance(exc, TimeoutError):
            what = f"no answer to the MCP handshake within {self.server.timeout:g} s"
            return f"{what} ({said})" if said else what
        if said:
            return said
        text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        return f"the handshake failed: {text}"

    async def _own(self, params: StdioServerParameters, ready: asyncio.Future[None]) -> None:
        assert self._stderr is not None
        try:
            with anyio.CancelScope() as self._scope:
                if self._stop.is_set():  # stopped before it began
                    self._scope.cancel()
                async with stdio_client(params, errlog=self._stderr.writer) as (read, write):
                    # The child holds its own copy now; ours would keep the pipe open forever.
                    self._stderr.close_writer()
                    async with ClientSession(read, write) as session:
                        with anyio.fail_after(self.server.timeout):
                            await session.initialize()
                            self.tools = await _list_tools(session)
                        self.session = session
                        if not ready.done():
                            ready.set_result(None)
                        await self._stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self.session = None
            self._stderr.close_writer()
            if not ready.done():
                ready.set_exception(ConnectionError("the server stopped during the handshake"))

    async def stop(self) -> None:
        """Stop the server (the SDK closes its stdin, then terminates, then kills it)."""
        if self.session is None and self._scope is not None:
            self._scope.cancel()
        self._stop.set()
        if self._owner is not None:
            with contextlib.suppress(BaseException):
                await self._owner
        if self._stderr is not None:
            self._stderr.last_line()  # keep what it said before it went
            self._stderr.close()


async def _list_tools(session: ClientSession) -> list[Any]:
    tools: list[Any] = []
    cursor: str | None = None
    while True:
        params = PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools
