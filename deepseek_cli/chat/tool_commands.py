"""``/tools`` and ``/tool NAME|-NAME`` in chat: see and change the tools the model may call.

Kept apart from ``slash_commands`` (which registers them) because they are the chat's only
commands that start processes: ``/tool calc`` starts the MCP server ``calc`` at once, so a
server that does not start is a warning now, not a surprise at the next prompt.
"""

from __future__ import annotations

from deepseek_cli.chat.repl import Repl
from deepseek_cli.errors import CliError, error_line
from deepseek_cli.render import stderr as say


def show_tools(repl: Repl, args: str) -> None:
    if repl.tools is None or not repl.tools.tools:
        say.notice("no tools in use; /tool NAME adds an MCP server's tools ([mcp.NAME] in config)")
        return
    for tool in repl.tools.tools:
        asks = not repl.tools.approval.approved_without_asking(tool.qualified)
        say.write_line(
            "plain", f"  {tool.qualified:<24} {'asks' if asks else 'runs'}  {tool.summary[:60]}"
        )


def change_tools(repl: Repl, args: str) -> None:
    name = args.strip()
    if not name or " " in name or name == "-":
        say.warning("usage: /tool NAME (an [mcp.NAME] server, or SERVER.TOOL); /tool -NAME")
        return
    if name.startswith("-"):
        gone = repl.tools.remove(name[1:]) if repl.tools is not None else ()
        if not gone:
            say.warning(f"{name[1:]} is not in use; /tools lists what is")
            return
        say.notice(f"removed {', '.join(t.qualified for t in gone)}")
        return
    try:
        if repl.tools is None:
            if repl.start_tools is None:
                say.warning("tools cannot be used here")
                return
            repl.tools = repl.start_tools(repl.settings)
        added = repl.tools.add(name)
    except CliError as exc:
        say.warning(error_line(exc))
        return
    if added:
        say.notice(f"added {', '.join(t.qualified for t in added)}")
    else:
        say.notice(f"{name}: already in use")
