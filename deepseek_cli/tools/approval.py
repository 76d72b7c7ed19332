"""Whether a tool call may run: ``--yes``, the profile's ``approve_tools``, or the user's word.

A tool can do anything its server can (write files, spend money), and the model chooses the
arguments, so nothing runs unless the user said so: by ``--yes`` for the whole command, by an
``approve_tools`` pattern (``"calc.*"``, fnmatch) for the tools it names, or by answering the
prompt ``run calc.add {"a": 2}? [y]es [n]o [a]lways`` on the terminal ("always" approves that
tool for the rest of the process). With no terminal to ask on and no approval, the call is not
run and the model is told why, so a script never hangs on a question nobody sees.
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

Decision = Literal["run", "refused", "no_terminal"]

# One line of the user's answer is plenty; a longer one is not an answer to this prompt.
_MAX_ANSWER = 256
PROMPT_SUFFIX = "? [y]es [n]o [a]lways "
_MAX_SHOWN = 4000

Asker = Callable[[str], str]


@dataclass
class Approval:
    """The approval rules of one command run; ``ask`` is ``None`` without a terminal."""

    yes: bool = False
    patterns: Sequence[str] = ()
    ask: Asker | None = None
    always: set[str] = field(default_factory=set)

    def approved_without_asking(self, qualified: str) -> bool:
        return (
            self.yes
            or qualified in self.always
            or any(fnmatch.fnmatchcase(qualified, p) for p in self.patterns)
        )

    def decide(self, qualified: str, arguments: str) -> Decision:
        """Run the call, or why not. Ctrl-C at the prompt propagates (the command stops)."""
        if self.approved_without_asking(qualified):
            return "run"
        if self.ask is None:
            return "no_terminal"
        try:
            answer = self.ask(f"run {qualified} {_shown(arguments)}{PROMPT_SUFFIX}")
        except EOFError:
            return "refused"
        choice = answer.strip().lower()
        if choice in ("a", "always"):
            self.always.add(qualified)
            return "run"
        return "run" if choice in ("y", "yes") else "refused"


def _shown(arguments: str) -> str:
    """The arguments as the user approves them: whole (a cut could hide what matters), up to
    a bound that keeps a runaway model from flooding the terminal."""
    if len(arguments) <= _MAX_SHOWN:
        return arguments
    return f"{arguments[:_MAX_SHOWN]}… ({len(arguments) - _MAX_SHOWN} more characters)"


def short(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def terminal_asker() -> Asker | None:
    """A prompt on the user's terminal, or ``None`` when there is none to ask on.

    The question goes to stderr, so stderr must be a terminal (a prompt nobody sees would
    hang a script). The answer comes from stdin when it is a terminal, else from the
    controlling terminal (``git diff | deepseek ask --tool ...`` still asks), as sudo does.
    """
    if not _isatty(sys.stderr):
        return None
    if _isatty(sys.stdin):
        return lambda question: _ask(question, sys.stdin)
    try:
        # Kept open for the process: every later call asks on it again.
        tty = Path("/dev/tty").open(encoding="utf-8", errors="replace")  # noqa: SIM115
    except OSError:
        return None
    return lambda question: _ask(question, tty)


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def _ask(question: str, source: TextIO) -> str:
    sys.stderr.write(question)
    sys.stderr.flush()
    line = source.readline(_MAX_ANSWER)
    if not line:
        raise EOFError
    return line
