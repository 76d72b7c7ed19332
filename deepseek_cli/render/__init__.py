"""Everything the user sees of a streaming reply, and the choice of how to show it.

Only this package imports Rich. The live renderer is chosen by ``isatty()`` on stdout and
``TERM != dumb`` (not by Rich's forced-terminal variables, which would put escape codes into a
pipe); pipes get the exact answer bytes.
"""

from __future__ import annotations

import os
import sys
from typing import Protocol

from deepseek_cli.conversation import Reply
from deepseek_cli.events import Event


class OutputClosed(Exception):
    """stdout went away (``| head``): stop quietly."""


class Renderer(Protocol):
    def on_event(self, event: Event) -> None: ...

    def on_notice(self, text: str) -> None: ...

    def tick(self) -> None:
        """Called a few times a second while a request runs, also when nothing arrives."""
        ...

    def close(self, reply: Reply, *, complete: bool, interrupted: bool = False) -> None: ...


def stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def choose_renderer(
    *, show_thinking: bool | None, quiet: bool = False, label: str = ""
) -> Renderer:
    """Live on a terminal, plain otherwise; ``quiet`` (``--json``) shows nothing while streaming."""
    if quiet:
        from deepseek_cli.render.plain import SilentRenderer

        return SilentRenderer()
    if stdout_is_terminal():
        from rich.console import Console

        from deepseek_cli.render.live import LiveRenderer

        return LiveRenderer(
            Console(highlight=False), show_thinking=show_thinking is not False, label=label
        )
    from deepseek_cli.render.plain import PlainRenderer

    thinking = show_thinking if show_thinking is not None else stderr_is_terminal()
    return PlainRenderer(show_thinking=thinking)
