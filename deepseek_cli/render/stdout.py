"""Writing results to stdout when the reader may already be gone.

``deepseek models | head -1`` closes the pipe after one line; the rest of the output must
then be dropped quietly, like ``cat`` does, instead of ending in a ``BrokenPipeError``
traceback or exit 1. Every command's stdout output (text, tables, JSON) goes through here.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO


class OutputClosed(Exception):
    """stdout went away (``| head``) while an answer streamed: stop quietly."""


def silence(stream: TextIO | Any) -> None:
    """Point the stream's descriptor at /dev/null, so the interpreter's final flush stays
    quiet after the reader has gone."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    finally:
        os.close(devnull)


def emit(text: str, out: TextIO | None = None) -> bool:
    """Write ``text`` to stdout and flush; ``False`` when the reader has gone."""
    stream = out or sys.stdout
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        silence(stream)
        return False
    return True


def emit_json(data: Any, *, indent: int | None = None, out: TextIO | None = None) -> bool:
    """One JSON document and a newline (UTF-8 as is, not ``\\u`` escapes)."""
    import json  # only the --json paths pay for it

    return emit(json.dumps(data, ensure_ascii=False, indent=indent) + "\n", out)
