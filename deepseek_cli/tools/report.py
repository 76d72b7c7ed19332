"""What ``deepseek tools`` and ``config doctor`` say about the configured MCP servers.

Why one place: both start every server and report each one alone (a server that fails is one
line, the rest are still listed), and both must say the same thing about it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deepseek_cli.config.mcp import CONFIG_EXAMPLE, McpServer
from deepseek_cli.errors import ConfigError
from deepseek_cli.tools.toolbox import Tool, Toolbox

NO_SERVERS_HINT = f"no MCP servers configured; add one to config.toml, e.g. {CONFIG_EXAMPLE}"


@dataclass(frozen=True)
class ServerReport:
    server: McpServer
    tools: tuple[Tool, ...]
    error: ConfigError | None

    @property
    def ok(self) -> bool:
        return self.error is None


def survey(servers: Mapping[str, McpServer]) -> list[ServerReport]:
    """Start every server (all at once, then stop them) and list its tools."""
    reports: list[ServerReport] = []
    with Toolbox(servers) as toolbox:
        failed = toolbox.start(sorted(servers))
        for name in sorted(servers):
            if name in failed:
                reports.append(ServerReport(servers[name], (), failed[name]))
            else:
                reports.append(ServerReport(servers[name], toolbox.tools_of(name), None))
    return reports


def is_selected(tool: Tool, wanted: Sequence[str]) -> bool:
    """Whether a profile's ``tools`` (server names or SERVER.TOOL) takes this tool."""
    return tool.server in wanted or tool.qualified in wanted


def report_json(reports: Sequence[ServerReport], wanted: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {
            "server": r.server.name,
            "command": r.server.command_line,
            "ok": r.ok,
            "error": r.error.message if r.error else None,
            "tools": [
                {
                    "name": t.qualified,
                    "description": t.description,
                    "input_schema": t.input_schema,
                    "selected": is_selected(t, wanted),
                }
                for t in r.tools
            ],
        }
        for r in reports
    ]


def report_text(reports: Sequence[ServerReport], wanted: Sequence[str], profile: str) -> str:
    lines: list[str] = []
    for r in reports:
        count = len(r.tools)
        status = f"{count} tool{'' if count == 1 else 's'}" if r.ok else "FAILED"
        lines.append(f"{r.server.name}  ({status})  {r.server.command_line}")
        if r.error is not None:
            lines.append(f"  {r.error.message}")
            continue
        width = max((len(t.qualified) for t in r.tools), default=0)
        for t in r.tools:
            mark = "*" if is_selected(t, wanted) else " "
            lines.append(f"  {mark} {t.qualified.ljust(width)}  {t.summary}".rstrip())
    if any(is_selected(t, wanted) for r in reports for t in r.tools):
        lines.append(f"* used by profile '{profile}' (its tools setting)")
    return "\n".join(lines) + "\n"


def failed_error(reports: Sequence[ServerReport]) -> ConfigError | None:
    """One error for the servers that failed (exit 78), after they were all listed."""
    failed = [r.server.name for r in reports if not r.ok]
    if not failed:
        return None
    if len(failed) == 1:
        first = reports[[r.server.name for r in reports].index(failed[0])].error
        assert first is not None
        return ConfigError(first.message, first.hint)
    return ConfigError(
        f"{len(failed)} MCP servers did not start: {', '.join(failed)}", "see the lines above"
    )
