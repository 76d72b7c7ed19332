"""One-line messages on stderr: errors, warnings, notices.

Kept free of Rich so the error path and start-up stay cheap; colour only when stderr is a
terminal and ``NO_COLOR`` is unset. Every line passes through the redactor.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from deepseek_cli.redaction import redact

_STYLES = {"error": "\x1b[1;31m", "warning": "\x1b[33m", "notice": "\x1b[2m", "dim": "\x1b[2m"}


def use_color(stream: TextIO) -> bool:
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def write_line(level: str, text: str, stream: TextIO | None = None) -> None:
    stream = stream or sys.stderr
    label = f"{level}: " if level in ("error", "warning", "notice") else ""
    line = redact(label + text)
    if use_color(stream):
        line = f"{_STYLES.get(level, '')}{line}\x1b[0m"
    try:
        stream.write(line + "\n")
        stream.flush()
    except (BrokenPipeError, ValueError):
        pass


def error(text: str) -> None:
    write_line("error", text)


def warning(text: str) -> None:
    write_line("warning", text)


def notice(text: str) -> None:
    write_line("notice", text)


def dim(text: str) -> None:
    write_line("dim", text)
