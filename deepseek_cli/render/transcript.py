"""The chat REPL's terminal view: one console for live answers, earlier turns and notes.

Earlier turns of a resumed session are shown the way they looked when they streamed
(thinking panel, then the Markdown answer).
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from deepseek_cli.render.live import LiveRenderer, render_complete


class ChatView:
    def __init__(self, *, show_thinking: bool, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self.show_thinking = show_thinking

    def renderer(self, label: str) -> LiveRenderer:
        return LiveRenderer(self.console, show_thinking=self.show_thinking, label=label)

    def turn(self, prompt: str, thinking: str, answer: str, *, interrupted: bool = False) -> None:
        self.console.print(Text("› ", style="bold cyan") + Text(prompt))
        render_complete(self.console, thinking, answer, show_thinking=self.show_thinking)
        if interrupted:
            self.console.print(Text("⏹ interrupted", style="dim"))

    def note(self, text: str) -> None:
        self.console.print(Text(text, style="dim"))

    def clear(self) -> None:
        self.console.clear()
