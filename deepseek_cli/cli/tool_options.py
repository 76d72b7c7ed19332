"""The tool options ``ask`` and ``chat`` share (``--tool``, ``--yes``, ``--max-steps``,
``--show-tools``), and opening the tools they name.

Declared once so both commands spell and document them alike. As in ``cli.options``, no
``from __future__ import annotations``: the group's annotations are read at import.
"""

import functools
from typing import TYPE_CHECKING, Annotated

from deepseek_cli.cli.options import OptionGroup, option

if TYPE_CHECKING:
    from deepseek_cli.config.settings import Settings
    from deepseek_cli.tools.session import ToolSession

TOOLS_PANEL = "Tools (MCP)"
_tool_option = functools.partial(option, panel=TOOLS_PANEL)
DEFAULT_MAX_STEPS = 10


class ToolFlags(OptionGroup):
    tool: Annotated[
        list[str] | None,
        _tool_option(
            "--tool NAME",
            "Let the model use an MCP server's tools ([mcp.NAME] in the config) or one tool "
            "(SERVER.TOOL). Repeatable; default: the profile's tools.",
        ),
    ] = None
    yes: Annotated[
        bool, _tool_option("-y, --yes", "Run tool calls without asking for approval.")
    ] = False
    max_steps: Annotated[
        int,
        _tool_option("--max-steps N", "At most N model calls per prompt.", min=1, max=100),
    ] = DEFAULT_MAX_STEPS
    show_tools: Annotated[
        bool,
        _tool_option(
            "--show-tools", "A line per tool call on stderr (default when stderr is a terminal)."
        ),
    ] = False

    def names(self, settings: "Settings") -> list[str]:
        """The tools asked for: ``--tool`` when given, else the profile's ``tools``."""
        return list(self.tool) if self.tool else list(settings.profile.tools)

    def open(self, settings: "Settings") -> "ToolSession | None":
        """The tools asked for, their servers started (exit 78 when one cannot start);
        ``None`` when no tool is asked for, so a plain ask never imports the MCP SDK."""
        names = self.names(settings)
        if not names:
            return None
        session = self.start(settings)
        try:
            for name in names:
                session.add(name)
        except BaseException:
            session.close()
            raise
        return session

    def start(self, settings: "Settings") -> "ToolSession":
        """An empty set of tools with this command's approval and display rules."""
        from deepseek_cli.render.terminal import stderr_is_terminal
        from deepseek_cli.tools.session import ToolSession

        return ToolSession.open(
            settings.mcp_servers,
            yes=self.yes,
            patterns=settings.profile.approve_tools,
            show=self.show_tools or stderr_is_terminal(),
        )
