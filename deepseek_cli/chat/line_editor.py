"""Line input for ``deepseek chat``: the only module that imports prompt_toolkit.

On a terminal: persistent history (a private file) with Ctrl-R reverse search, Alt-Enter (or
Esc Enter) for a new line, bracketed paste so pasted text arrives whole instead of as many
turns, and completion of slash commands and their arguments (models, profiles, effort
levels, sessions, paths). ``$EDITOR`` composition for ``/edit``. When stdin is not a terminal
each line is simply one input.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from deepseek_cli.chat.prompt_input import MAX_INPUT_BYTES, decode_text
from deepseek_cli.errors import InputDataError, UsageError
from deepseek_cli.safefile import TooLarge, ensure_private_dir, read_limited, size_text


class SlashCompleter(Completer):
    def __init__(
        self,
        commands: Iterable[str],
        arguments: dict[str, Callable[[], Iterable[str]]],
    ) -> None:
        self.commands = sorted(commands)
        self.arguments = arguments
        self.paths = PathCompleter(expanduser=True)

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        text = document.text_before_cursor
        if not text.startswith("/") or "\n" in text:
            return
        name, space, arg = text[1:].partition(" ")
        if not space:
            for command in self.commands:
                if command.startswith(name):
                    yield Completion(command, start_position=-len(name))
            return
        if name == "file":
            yield from self.paths.get_completions(Document(arg, len(arg)), complete_event)
            return
        values = self.arguments.get(name)
        if values is None:
            return
        for value in values():
            if value.startswith(arg):
                yield Completion(value, start_position=-len(arg))


def edit_in_editor(initial: str) -> str | None:
    """Let the user compose text in $VISUAL/$EDITOR; ``None`` when none is set."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        return None
    # mkstemp: the draft is private (0600) like everything else the user types.
    fd, name = tempfile.mkstemp(prefix="deepseek-", suffix=".md")
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(initial)
        subprocess.run([*shlex.split(editor), str(path)], check=False)
        try:
            return decode_text(read_limited(path, MAX_INPUT_BYTES), "the edited message")
        except TooLarge:
            raise UsageError(
                f"the edited message is larger than {size_text(MAX_INPUT_BYTES)}; not sent"
            ) from None
    finally:
        path.unlink(missing_ok=True)


class TerminalLines:
    def __init__(self, history_file: Path, completer: Completer) -> None:
        ensure_private_dir(history_file.parent)
        # Created 0600 before prompt_toolkit appends to it; appending keeps the mode.
        os.close(os.open(history_file, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600))
        bindings = KeyBindings()

        @bindings.add("escape", "enter")
        def _newline(event: KeyPressEvent) -> None:
            event.current_buffer.insert_text("\n")

        self.session: PromptSession[str] = PromptSession(
            history=FileHistory(str(history_file)),
            completer=completer,
            complete_while_typing=True,
            key_bindings=bindings,
            multiline=False,
        )

    def read(self, prompt: str) -> str:
        return self.session.prompt(prompt)

    def edit(self, initial: str) -> str | None:
        return edit_in_editor(initial)


class PipedLines:
    """Each line of a non-terminal stdin is one input: ``printf 'q1\\nq2\\n' | deepseek chat``.

    A line is read with a bound (``chat < /dev/zero`` must end, not fill memory): a longer
    one ends the input, since what follows it cannot be told apart from it. A line that is
    not UTF-8 is a failed turn (exit 65 at the end), and the next line is read as usual.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.lineno = 0
        self.ended = False

    def read(self, prompt: str) -> str:
        if self.ended:
            raise EOFError
        line = self.stream.readline(MAX_INPUT_BYTES + 1)
        if not line:
            raise EOFError
        self.lineno += 1
        if len(line) > MAX_INPUT_BYTES and not line.endswith(b"\n"):
            self.ended = True
            raise InputDataError(
                f"stdin line {self.lineno} is longer than {size_text(MAX_INPUT_BYTES)} "
                "(the limit for a prompt); it and the rest of stdin are not sent"
            )
        return decode_text(line, f"stdin line {self.lineno}")

    def edit(self, initial: str) -> str | None:
        return None
