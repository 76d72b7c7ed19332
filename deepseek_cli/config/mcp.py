"""``[mcp.NAME]`` tables in config.toml: the MCP servers that ``--tool`` may start.

Why here: a server's table is checked when the config is read, like every other key (exit 78
naming the file and table), so a typo never waits until the model's first tool call. Starting
the servers is ``tools``' job; this module only turns the tables into :class:`McpServer`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepseek_cli.errors import ConfigError

MCP_KEYS = ("command", "args", "env", "cwd", "timeout")
DEFAULT_TOOL_TIMEOUT = 60.0
SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
# One line, as hints are: the table, then its lines.
CONFIG_EXAMPLE = '[mcp.calc]  command = "python3"  args = ["calc_server.py"]'


@dataclass(frozen=True)
class McpServer:
    name: str
    command: str
    args: tuple[str, ...] = ()
    # The server's own variables; it gets these besides PATH, HOME, LANG and TMPDIR.
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    timeout: float = DEFAULT_TOOL_TIMEOUT  # seconds per tool call

    @property
    def command_line(self) -> str:
        """The command as a user would type it, for listings and errors."""
        import shlex

        return shlex.join([self.command, *self.args])


def check_mcp(table: Any, path: str) -> None:
    """Raise ``ConfigError`` for the first bad ``[mcp.NAME]`` table."""
    if not isinstance(table, dict):
        raise ConfigError(
            f"{path}: 'mcp' must be tables such as [mcp.calc]", f"e.g. {CONFIG_EXAMPLE}"
        )
    for name, entry in table.items():
        where = f"{path} [mcp.{name}]"
        if not SERVER_NAME.match(name):
            raise ConfigError(
                f"{where}: a server name may hold only letters, digits, '_' and '-'",
                "it is how --tool and a profile's tools name the server",
            )
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a table with a command", f"e.g. {CONFIG_EXAMPLE}")
        _check_entry(entry, where)


def _check_entry(entry: Mapping[str, Any], where: str) -> None:
    for key, value in entry.items():
        if key not in MCP_KEYS:
            raise ConfigError(f"{where}: unknown key '{key}'", f"known keys: {', '.join(MCP_KEYS)}")
        if key in ("command", "cwd"):
            if not isinstance(value, str):
                raise ConfigError(f"{where}: '{key}' must be a string")
            if not value.strip():
                raise ConfigError(
                    f"{where}: '{key}' is empty", "give it a value or remove the line"
                )
        elif key == "args":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: 'args' must be a list of strings")
        elif key == "env":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise ConfigError(
                    f"{where}: 'env' must be a table of strings", 'e.g. env = { MODE = "exact" }'
                )
        elif key == "timeout" and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise ConfigError(f"{where}: 'timeout' must be a number of seconds above 0")
    if "command" not in entry:
        raise ConfigError(f"{where}: 'command' is missing", f"e.g. {CONFIG_EXAMPLE}")


def mcp_servers(data: Mapping[str, Any]) -> dict[str, McpServer]:
    """The config's servers by name (the config is already validated)."""
    servers: dict[str, McpServer] = {}
    for name, entry in data.get("mcp", {}).items():
        cwd = entry.get("cwd")
        servers[name] = McpServer(
            name=name,
            command=entry["command"],
            args=tuple(entry.get("args", ())),
            env=dict(entry.get("env", {})),
            cwd=Path(cwd).expanduser() if cwd else None,
            timeout=float(entry.get("timeout", DEFAULT_TOOL_TIMEOUT)),
        )
    return servers
