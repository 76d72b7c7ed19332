"""The Toolbox: the configured MCP servers, started on demand, and their tools, callable.

Why a thread: ask and chat run each model call under its own ``asyncio.run``, while an MCP
session must outlive them all (a server is started once per command, not once per step). So
the sessions live on one long-lived event loop in a daemon thread that the Toolbox owns; the
blocking methods submit coroutines to it. A Ctrl-C while waiting propagates at once, and
:meth:`Toolbox.close` (also run at exit) still stops every server.

The SDK is imported only when the first server starts (``connection``), so importing this
module costs nothing on the start-up path.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import threading
from collections.abc import Coroutine, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from deepseek_cli.config.mcp import CONFIG_EXAMPLE, McpServer
from deepseek_cli.errors import ConfigError
from deepseek_cli.tools.tool import Tool, ToolResult

if TYPE_CHECKING:
    from deepseek_cli.tools.connection import Connection

__all__ = ["Tool", "ToolResult", "Toolbox"]

T = TypeVar("T")

# How long close() waits for the servers: the SDK's own escalation (stdin, TERM, KILL) is
# bounded by a few seconds per server, and they stop in parallel.
_CLOSE_WAIT = 15.0


class _LoopThread:
    """An event loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="mcp-tools", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except BaseException:
            # Ctrl-C (or our own timeout) while waiting: the coroutine must not run on.
            future.cancel()
            raise

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()


class Toolbox:
    """The servers of a config; a context manager that stops them all on exit."""

    def __init__(
        self, servers: Mapping[str, McpServer], environ: Mapping[str, str] | None = None
    ) -> None:
        self._servers = dict(servers)
        self._environ = dict(os.environ if environ is None else environ)
        self._loop: _LoopThread | None = None
        self._connections: dict[str, Connection] = {}
        self._restarted: set[str] = set()
        self._stopped: dict[str, str] = {}  # server -> why it is gone for good
        self._selected: dict[str, Tool] = {}  # by wire name
        self._lock = threading.Lock()
        self._closed = False
        atexit.register(self.close)

    def __enter__(self) -> Toolbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- starting servers ------------------------------------------------------------------

    def _server(self, name: str) -> McpServer:
        if name not in self._servers:
            if not self._servers:
                raise ConfigError(
                    f"unknown MCP server '{name}': the config has no [mcp.NAME] servers",
                    f"add one to config.toml, e.g. {CONFIG_EXAMPLE}",
                )
            raise ConfigError(
                f"unknown MCP server '{name}'", f"configured: {', '.join(sorted(self._servers))}"
            )
        return self._servers[name]

    def start(self, names: Sequence[str]) -> dict[str, ConfigError]:
        """Start the servers named that are not running, all at once; those that did not
        start, with why (an unknown name raises at once)."""
        servers = [self._server(name) for name in dict.fromkeys(names)]
        from deepseek_cli.tools.connection import Connection

        with self._lock:
            if self._closed:
                raise RuntimeError("the toolbox is closed")
            if self._loop is None:
                self._loop = _LoopThread()
            loop = self._loop
            stale = [
                self._connections[s.name]
                for s in servers
                if s.name in self._connections and not self._connections[s.name].alive
            ]
            starting = {
                s.name: Connection(s, self._environ)
                for s in servers
                if s.name not in self._connections or not self._connections[s.name].alive
            }
            # Known before they start, so that close() stops them even if Ctrl-C cuts the
            # start short.
            self._connections.update(starting)

        async def start_all() -> list[BaseException | None]:
            await asyncio.gather(*(c.stop() for c in stale), return_exceptions=True)
            return await asyncio.gather(
                *(c.start() for c in starting.values()), return_exceptions=True
            )

        failed: dict[str, ConfigError] = {}
        for name, outcome in zip(starting, loop.run(start_all()), strict=True):
            if isinstance(outcome, ConfigError):
                # It did not start and is stopped already.
                self._connections.pop(name, None)
                failed[name] = outcome
            elif outcome is not None:
                raise outcome
        return failed

    def _connection(self, name: str) -> Connection:
        failed = self.start([name])
        if name in failed:
            raise failed[name]
        return self._connections[name]

    def tools_of(self, server: str) -> tuple[Tool, ...]:
        """Every tool of ``server``, starting it if need be (``ConfigError`` if it cannot)."""
        connection = self._connection(server)
        return tuple(
            Tool(server, t.name, t.description or "", dict(t.input_schema))
            for t in connection.tools
        )

    def select(self, names: Sequence[str]) -> tuple[Tool, ...]:
        """The tools ``names`` stand for ("calc": all of its tools, "calc.add": one), which
        :meth:`find` then knows; duplicates collapse."""
        wanted = [name.strip().partition(".")[0] for name in names]
        failed = self.start(wanted)
        for server in wanted:
            if server in failed:
                raise failed[server]
        chosen: dict[str, Tool] = {}
        for name in names:
            server, dot, tool_name = name.strip().partition(".")
            tools = self.tools_of(server)
            if dot:
                match = [t for t in tools if t.name == tool_name]
                if not match:
                    known = ", ".join(t.qualified for t in tools) or "none"
                    raise ConfigError(
                        f"MCP server '{server}' has no tool '{tool_name}'", f"its tools: {known}"
                    )
                tools = tuple(match)
            for tool in tools:
                chosen.setdefault(tool.qualified, tool)
        for tool in chosen.values():
            other = self._selected.get(tool.wire_name)
            if other is not None and other.qualified != tool.qualified:
                raise ConfigError(
                    f"MCP tools {other.qualified} and {tool.qualified} have the same "
                    f"function name '{tool.wire_name}'",
                    "select only one of them",
                )
            self._selected[tool.wire_name] = tool
        return tuple(chosen.values())

    def stopped(self, server: str) -> str | None:
        """Why ``server`` is gone for good (it died again after its restart), or ``None``."""
        return self._stopped.get(server)

    def find(self, wire_name: str) -> Tool | None:
        """A tool selected so far, by the name the model called it by."""
        return self._selected.get(wire_name)

    # -- calling tools ---------------------------------------------------------------------

    def call(self, tool: Tool, arguments: dict[str, Any]) -> ToolResult:
        """Run one tool call, blocking. The tool's own trouble (an error result, an
        exception, a timeout, a server that died) is an error result, never an exception."""
        if tool.server in self._stopped:
            return ToolResult(self._stopped[tool.server], True)
        try:
            connection = self._connection(tool.server)
        except ConfigError as exc:  # a restart that failed: "did not start: ..."
            self._stopped[tool.server] = f"{exc.message}; its tools are unavailable"
            return ToolResult(self._stopped[tool.server], True)
        assert self._loop is not None
        from deepseek_cli.tools.calls import call_once

        outcome = self._loop.run(call_once(connection, tool, arguments))
        if outcome is not None:
            return outcome
        # The server died under the call: restart it once and retry, then give up on it.
        if tool.server in self._restarted:
            said = connection.stderr_line()
            why = f"it exited during {tool.qualified}, also after a restart"
            return self._gone(tool.server, why + (f" (its last words: {said})" if said else ""))
        self._restarted.add(tool.server)
        with contextlib.suppress(Exception):
            self._loop.run(connection.stop())
        self._connections.pop(tool.server, None)
        return self.call(tool, arguments)

    def _gone(self, server: str, why: str) -> ToolResult:
        text = f"MCP server '{server}' stopped: {why}; its tools are unavailable"
        self._stopped[server] = text
        return ToolResult(text, True)

    # -- stopping --------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every server started so far; safe to call twice, and after Ctrl-C."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, self._loop = self._loop, None
        atexit.unregister(self.close)
        if loop is None:
            return
        connections = list(self._connections.values())
        self._connections.clear()

        async def stop_all() -> None:
            await asyncio.gather(*(c.stop() for c in connections), return_exceptions=True)

        with contextlib.suppress(concurrent.futures.TimeoutError, Exception):
            loop.run(stop_all(), timeout=_CLOSE_WAIT)
        loop.stop()
