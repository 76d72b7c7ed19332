"""Terminal output: thinking dimmed under its own heading, then the answer.

A plain streaming view; the block-commit live Markdown renderer replaces it.
"""

from __future__ import annotations

from rich.console import Console

from ..events import AnswerDelta, Event, ThinkingDelta
from ..session import Reply


class TerminalRenderer:
    def __init__(self, *, show_thinking: bool, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self.show_thinking = show_thinking
        self._state = "idle"

    def on_event(self, event: Event) -> None:
        if isinstance(event, ThinkingDelta) and self.show_thinking:
            if self._state == "idle":
                self.console.rule("thinking", style="dim", align="left")
                self._state = "thinking"
            self.console.print(event.text, end="", style="dim", markup=False)
        elif isinstance(event, AnswerDelta):
            if self._state == "thinking":
                self.console.print()
                self.console.rule(style="dim")
            self._state = "answer"
            self.console.print(event.text, end="", markup=False)

    def on_notice(self, text: str) -> None:
        from .stderr import notice

        notice(text)

    def close(self, reply: Reply, *, complete: bool) -> None:
        if self._state != "idle":
            self.console.print()
