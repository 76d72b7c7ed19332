"""Whether stdout and stderr are terminals: the one test that picks live or plain output.

By ``isatty()`` and ``TERM != dumb``, never by Rich's forced-terminal variables
(``FORCE_COLOR``), which would put escape codes into a pipe; pipes get the exact answer bytes.
"""

from __future__ import annotations

import os
import sys


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


def stderr_columns() -> int | None:
    """How wide the terminal on stderr is (``COLUMNS`` first, as usual); ``None`` when stderr
    is not a terminal, whose lines are nobody's to wrap."""
    if not stderr_is_terminal():
        return None
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns or None
    except (OSError, ValueError):
        return None
