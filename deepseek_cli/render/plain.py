"""Output for pipes and files: stdout gets exactly the answer text, nothing else.

Each delta is written and flushed as it arrives so ``| tee`` shows progress; the output ends
with one newline. Thinking goes to stderr when asked. A closed pipe (``| head``) stops the
request quietly instead of printing a traceback. With tools (``hold_answer``) a model call's
text is held until the call ends: the text of a turn that asked for tools is not the answer,
and stdout must hold the final answer alone.
"""

from __future__ import annotations

import sys
from typing import BinaryIO, TextIO

from deepseek_cli.conversation import Reply
from deepseek_cli.events import AnswerDelta, Event, Finished, ThinkingDelta, ToolCalls
from deepseek_cli.render.stderr import use_color
from deepseek_cli.render.stdout import OutputClosed, silence


class PlainRenderer:
    def __init__(
        self,
        *,
        show_thinking: bool,
        out: BinaryIO | None = None,
        err: TextIO | None = None,
        hold_answer: bool = False,
    ) -> None:
        self.out = out or sys.stdout.buffer
        self.err = err or sys.stderr
        self.show_thinking = show_thinking
        self._dim = use_color(self.err)
        self._last_out = b""
        self._thinking_open = False
        self._held: list[str] | None = [] if hold_answer else None
        self._drop = False

    def _write(self, text: str) -> None:
        data = text.encode("utf-8")
        try:
            self.out.write(data)
            self.out.flush()
        except BrokenPipeError:
            silence(self.out)
            raise OutputClosed from None
        if data:
            self._last_out = data[-1:]

    def _end_thinking(self) -> None:
        if self._thinking_open:
            self.err.write(("\x1b[0m" if self._dim else "") + "\n\n")
            self.err.flush()
            self._thinking_open = False

    def on_event(self, event: Event) -> None:
        if isinstance(event, ThinkingDelta):
            if self.show_thinking:
                if not self._thinking_open and self._dim:
                    self.err.write("\x1b[2m")
                self._thinking_open = True
                self.err.write(event.text)
                self.err.flush()
        elif isinstance(event, AnswerDelta):
            self._end_thinking()
            if self._held is not None:
                self._held.append(event.text)
            else:
                self._write(event.text)
        elif isinstance(event, ToolCalls):
            self._held = []  # not the answer: the model goes on after the tools ran
            self._drop = True
        elif isinstance(event, Finished):
            self._release()

    def _release(self) -> None:
        """Write the held answer, once, unless the call turned out to ask for tools."""
        held, self._held = self._held, None
        if held and not self._drop:
            self._write("".join(held))

    def on_notice(self, text: str) -> None:
        from deepseek_cli.render.stderr import notice

        notice(text)

    def tick(self) -> None:
        return None

    def close(self, reply: Reply, *, complete: bool, interrupted: bool = False) -> None:
        self._end_thinking()
        if self._drop:
            return  # a turn that asked for tools: nothing of it is on stdout
        try:
            self._release()  # a cut or interrupted call's text, as without tools
        except OutputClosed:
            return
        # No answer because max_tokens ran out is a failure (exit 65), not an empty answer:
        # stdout stays empty rather than holding a lone newline.
        no_answer = not self._last_out and reply.finish_reason == "length"
        if ((complete and not no_answer) or self._last_out) and self._last_out != b"\n":
            self._write("\n")


class SilentRenderer:
    """For ``--json``: nothing while streaming; the JSON object is printed at the end."""

    def on_event(self, event: Event) -> None:
        return None

    def on_notice(self, text: str) -> None:
        from deepseek_cli.render.stderr import notice

        notice(text)

    def tick(self) -> None:
        return None

    def close(self, reply: Reply, *, complete: bool, interrupted: bool = False) -> None:
        return None
