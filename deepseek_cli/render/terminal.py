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
