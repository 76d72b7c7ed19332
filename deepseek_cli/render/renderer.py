"""The renderer protocol a streaming reply is shown through, and the choice of renderer.

Live on a terminal (``live``), the exact answer bytes in a pipe (``plain``), nothing while
streaming for ``--json`` (``plain.SilentRenderer``). The turn engine only knows this protocol.
"""

from __future__ import annotations

from typing import Protocol

from deepseek_cli.conversation import Reply
from deepseek_cli.events import Event
from deepseek_cli.render.terminal import stderr_is_terminal, stdout_is_terminal


class Renderer(Protocol):
    def on_event(self, event: Event) -> None: ...

    def on_notice(self, text: str) -> None: ...

    def tick(self) -> None:
        """Called a few times a second while a request runs, also when nothing arrives."""
        ...

    def close(self, reply: Reply, *, complete: bool, interrupted: bool = False) -> None: ...


def choose_renderer(
    *, show_thinking: bool | None, quiet: bool = False, label: str = "", tools: bool = False
) -> Renderer:
    """Live on a terminal, plain otherwise; ``quiet`` (``--json``) shows nothing while streaming.
    ``tools``: a pipe gets only the final answer, not the text of turns that called tools."""
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
    return PlainRenderer(show_thinking=thinking, hold_answer=tools)
