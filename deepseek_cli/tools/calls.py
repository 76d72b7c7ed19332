"""One tool call on a started server, and every way it can go wrong, as a result for the model.

Why apart from the Toolbox: this is the part that speaks the SDK (its exceptions and error
codes), and it runs on the toolbox's loop; the Toolbox decides what to do when a server died.
"""

from __future__ import annotations

from typing import Any

from mcp.shared.exceptions import MCPError
from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT

from deepseek_cli.tools.connection import Connection
from deepseek_cli.tools.content import result_text
from deepseek_cli.tools.tool import Tool, ToolResult


async def call_once(
    connection: Connection, tool: Tool, arguments: dict[str, Any]
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
            return ToolResult(f"{tool.qualified} timed out after {timeout:g} s", True)
        if exc.code == CONNECTION_CLOSED or not connection.alive:
            return None
        return ToolResult(f"{tool.qualified} failed: {exc.message}", True)
    except Exception as exc:
        if not connection.alive:
            return None
        return ToolResult(f"{tool.qualified} failed: {exc or type(exc).__name__}", True)
    text = result_text(list(result.content), result.structured_content)
    if result.is_error:
        return ToolResult(text or f"{tool.qualified} failed", True)
    return ToolResult(text, False)
