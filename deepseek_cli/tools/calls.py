"""One tool call on a started server, and every way it can go wrong, as a result for the model.

Why apart from the Toolbox: this is the part that speaks the SDK (its exceptions and error
codes), and it runs on the toolbox's loop; the Toolbox decides what to do when a server died.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

from deepseek_cli.tools.connection import Connection
from deepseek_cli.tools.content import result_text

if TYPE_CHECKING:
    from deepseek_cli.tools.toolbox import ToolResult


def _result(text: str, is_error: bool) -> ToolResult:
    from deepseek_cli.tools.toolbox import ToolResult

    return ToolResult(text, is_error)


async def call_once(
    connection: Connection, tool: Any, arguments: dict[str, Any]
) -> ToolResult | None:
    """The call's result; ``None`` when the server is gone (the caller may restart it)."""
    session = connection.session
    if session is None or not connection.alive:
        return None
    timeout = connection.server.timeout
    try:
        result = await session.call_tool(tool.name, arguments, read_timeout_seconds=timeout)
    except MCPError as exc:
        if exc.code == REQUEST_TIMEOUT:
            return _result(f"{tool.qualified} timed out after {timeout:g} s", True)
        if exc.code == CONNECTION_CLOSED or not connection.alive:
            return None
        return _result(f"{tool.qualified} failed: {exc.message}", True)
    except Exception as exc:
        if not connection.alive:
            return None
        return _result(f"{tool.qualified} failed: {exc or type(exc).__name__}", True)
    text = result_text(list(result.content), result.structured_content)
    if result.is_error:
        return _result(text or f"{tool.qualified} failed", True)
    return _result(text, False)
