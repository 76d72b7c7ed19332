"""The tools one ``ask`` or ``chat`` has in use: which, how calls are approved and shown.

``--tool NAME`` (or the profile's ``tools``) names MCP servers (all their tools) or
``SERVER.TOOL``; chat's ``/tool NAME`` and ``/tool -NAME`` change the selection as the chat
goes. Servers start on demand when first selected (``toolbox.Toolbox``) and stop with the
command. The ``mcp`` SDK is imported only here and below, so a command without tools never
pays for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deepseek_cli.config.mcp import McpServer
from deepseek_cli.events import Message, ToolCall
from deepseek_cli.render import stderr as say
from deepseek_cli.tools.approval import Approval, terminal_asker
from deepseek_cli.tools.execute import CallRecord, run_calls
from deepseek_cli.tools.toolbox import Tool, Toolbox


class ToolSession:
    """The selected tools (in the order chosen), the toolbox that runs them, and the rules
    for approving and showing their calls."""

    def __init__(
        self,
        toolbox: Toolbox,
        approval: Approval,
        *,
        show: bool,
    ) -> None:
        self.toolbox = toolbox
        self.approval = approval
        self.show = show
        self.tools: tuple[Tool, ...] = ()
        self._reported: set[str] = set()  # servers whose end was said on stderr

    @classmethod
    def open(
        cls,
        servers: Mapping[str, McpServer],
        *,
        yes: bool,
        patterns: Sequence[str],
        show: bool,
    ) -> ToolSession:
        """No tools yet: :meth:`add` starts the servers as tools are chosen."""
        return cls(Toolbox(servers), Approval(yes, patterns, terminal_asker()), show=show)

    def add(self, name: str) -> tuple[Tool, ...]:
        """Select ``name`` (a server or SERVER.TOOL); the tools it added. Raises
        ``ConfigError`` for an unknown name or a server that does not start."""
        chosen = self.toolbox.select([name])
        new = tuple(t for t in chosen if t not in self.tools)
        self.tools = (*self.tools, *new)
        return new

    def remove(self, name: str) -> tuple[Tool, ...]:
        """Deselect a server (all its tools) or one SERVER.TOOL; the tools removed."""
        gone = tuple(t for t in self.tools if name in (t.server, t.qualified))
        self.tools = tuple(t for t in self.tools if t not in gone)
        return gone

    def qualified(self, wire_name: str) -> str:
        """What the user calls a tool the model called ``wire_name`` (``calc__add``)."""
        names = {t.wire_name: t.qualified for t in self.tools}
        return names.get(wire_name, wire_name)

    def specs(self) -> tuple[dict[str, Any], ...]:
        """The selected tools as the API's function tools."""
        return tuple(t.spec() for t in self.tools)

    def run(self, calls: Sequence[ToolCall]) -> list[tuple[Message, CallRecord]]:
        """Run a model turn's calls (only among the selected tools), showing each as one
        line when asked to."""
        selected = {t.wire_name: t for t in self.tools}
        done = run_calls(calls, selected, self.toolbox, self.approval, say.notice)
        if self.show:
            for _, record in done:
                say.dim(record.line())
        for server in dict.fromkeys(t.server for t in self.tools):
            why = self.toolbox.stopped(server)
            if why is not None and server not in self._reported:
                self._reported.add(server)  # said once; the model hears it on every call
                say.warning(why)
        return done

    def close(self) -> None:
        self.toolbox.close()
