"""``config doctor``'s MCP checks: each configured server started, one line with its tool count.

Why here and not in ``backends.doctor``: starting a server is this layer's job (``tools`` sits
above ``backends``); the lines are ``backends.doctor.Check`` so the report reads as one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deepseek_cli.backends.doctor import Check
from deepseek_cli.config.mcp import mcp_servers
from deepseek_cli.redaction import redact


def mcp_checks(data: Mapping[str, Any]) -> list[Check]:
    """One check per ``[mcp.NAME]`` server of the config; none when there are none."""
    servers = mcp_servers(data)
    if not servers:
        return []
    from deepseek_cli.tools.report import survey

    checks = []
    for report in survey(servers):
        name = f"mcp {report.server.name}"
        if report.error is not None:
            checks.append(Check(name, "fail", redact(report.error.message), report.error))
            continue
        count = len(report.tools)
        detail = f"{count} tool{'' if count == 1 else 's'} ({report.server.command_line})"
        checks.append(Check(name, "ok", detail))
    return checks
