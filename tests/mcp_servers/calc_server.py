"""A small MCP server over stdio for the tool tests, built with the official SDK.

Standalone (run with ``sys.executable``): each tool exercises one path of the client, from a
plain answer to an exception, a slow call, a look at the environment and a sudden death.
"""

from __future__ import annotations

import json
import os
import sys
import time

from mcp.server.mcpserver import MCPServer

server = MCPServer("calc")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two numbers.

    Returns a + b.
    """
    return a + b


@server.tool()
def multiply(a: int, b: int) -> int:
    """Multiply two numbers."""
    return a * b


@server.tool()
def fail() -> str:
    """Always raises, to test error results."""
    raise RuntimeError("the calculator is broken")


@server.tool()
def slow(seconds: float) -> str:
    """Sleep for a while, then answer."""
    time.sleep(seconds)
    return f"slept {seconds} s"


@server.tool()
def environment() -> str:
    """The sorted names of this server's environment variables, as JSON."""
    return json.dumps(sorted(os.environ))


@server.tool()
def env_value(name: str) -> str:
    """One environment variable's value (empty when unset)."""
    return os.environ.get(name, "")


@server.tool()
def die() -> str:
    """Exit the server process at once, for the restart test."""
    os._exit(3)


@server.tool()
def die_once(marker: str) -> str:
    """Exit at once the first time (creating the file ``marker``); answer from then on."""
    if not os.path.exists(marker):
        with open(marker, "w"):
            pass
        os._exit(3)
    return "survived"


@server.tool()
def pid() -> int:
    """This server's process id."""
    return os.getpid()


if __name__ == "__main__":
    print("calc server starting", file=sys.stderr)
    server.run("stdio")
