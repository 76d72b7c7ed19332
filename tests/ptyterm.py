"""Runs the CLI in a pseudo-terminal and replays its output through a terminal emulator.

pexpect gives the program a real pty (so ``isatty()`` is true and Rich's live region is
drawn with cursor movements); pyte plays the bytes like a terminal with unlimited scrollback,
so a test can read back exactly what a user would find on screen and in scrollback.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field

import pexpect
import pyte

ROWS, COLS = 24, 80


@dataclass
class Terminal:
    rows: int = ROWS
    cols: int = COLS
    raw: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        self.screen = pyte.HistoryScreen(self.cols, self.rows, history=1_000_000, ratio=0.5)
        self.stream = pyte.ByteStream(self.screen)

    def feed(self, data: bytes) -> None:
        self.raw += data
        self.stream.feed(data)

    def lines(self) -> list[str]:
        """Scrollback plus screen, trailing blank lines dropped, right-stripped."""

        def text(line: dict[int, pyte.screens.Char]) -> str:
            return "".join(line[x].data for x in range(self.cols)).rstrip()

        out = [text(line) for line in self.screen.history.top]
        out += [line.rstrip() for line in self.screen.display]
        while out and not out[-1]:
            out.pop()
        return out

    def cursor_visible(self) -> bool:
        return not self.screen.cursor.hidden


def spawn(argv: list[str], env: dict[str, str], cwd: str, term: Terminal) -> pexpect.spawn:
    return pexpect.spawn(
        argv[0],
        argv[1:],
        env={**env, "TERM": "xterm-256color", "COLUMNS": str(term.cols), "LINES": str(term.rows)},
        cwd=cwd,
        dimensions=(term.rows, term.cols),
    )


def pump(
    child: pexpect.spawn, term: Terminal, until: float | None = None, stop: str | None = None
) -> None:
    """Read output into the terminal until EOF, a deadline, or a text appears. When ``stop``
    is given it must appear: reaching the deadline or EOF first is a failure, not a return
    (the caller is about to act on the text, e.g. send a signal mid-answer)."""

    def seen() -> bool:
        return stop is not None and stop in "\n".join(term.lines())

    def missed(why: str) -> None:
        if stop is not None:
            tail = "\n".join(term.lines()[-5:])
            raise AssertionError(f"{stop!r} never appeared ({why}); screen ends with: {tail!r}")

    while True:
        if until is not None and time.monotonic() > until:
            missed("deadline")
            return
        try:
            data = child.read_nonblocking(65536, timeout=0.05)
        except pexpect.TIMEOUT:
            if seen():
                return
            continue
        except pexpect.EOF:
            if not seen():
                missed("end of output")
            return
        term.feed(data)
        if seen():
            return


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)")


def python() -> str:
    return sys.executable
