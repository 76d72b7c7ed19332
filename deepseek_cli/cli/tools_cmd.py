"""``deepseek tools``: every configured MCP server, started, with its tools.

Glue only: starting the servers and the report's wording live in ``tools.report``.
"""

from __future__ import annotations

from deepseek_cli.cli.boundary import guarded
from deepseek_cli.cli.options import JsonOpt, ProfileChoice, profile_options

EPILOG = """\b
Examples:
  deepseek tools                      # servers, their tools; * marks the profile's
  deepseek tools -p work --json | jq -r '.[].tools[].name'

\b
Servers come from [mcp.NAME] tables in config.toml; a profile's tools = ["calc"]
selects some for ask and chat. A server that cannot start is listed as FAILED
and the command exits 78 after listing the rest.
"""


@guarded
@profile_options()
def tools(*, choice: ProfileChoice, json_output: JsonOpt = False) -> None:
    """List the configured MCP servers and their tools (starts each server)."""
    from deepseek_cli.config.mcp import mcp_servers
    from deepseek_cli.render.stderr import notice
    from deepseek_cli.render.stdout import emit, emit_json
    from deepseek_cli.tools.report import (
        NO_SERVERS_HINT,
        failed_error,
        report_json,
        report_text,
        survey,
    )

    loaded, profile = choice.load()
    servers = mcp_servers(loaded.data)
    if not servers:
        if json_output:
            emit_json([])
            notice(NO_SERVERS_HINT)
        else:
            emit(NO_SERVERS_HINT + "\n")
        return
    reports = survey(servers)
    if json_output:
        emit_json(report_json(reports, profile.tools), indent=2)
    else:
        emit(report_text(reports, profile.tools, profile.name))
    error = failed_error(reports)
    if error is not None:
        raise error
