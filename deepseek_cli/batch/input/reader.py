"""Reading a file line by line without ever holding more than a bounded piece of a line.

Why not ``for line in f``: it buffers a whole line however long it is, and a batch input (or
an output file being resumed, or a provider's result file) can be a 2 GiB file with no
newline at all. Every line is read with ``readline(limit + 1)``; a longer one is consumed in
bounded pieces and reported as too long, never kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def read_lines(fh: Any, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, bytes)`` for every line; ``None`` for a line longer than ``limit``.

    At most ``limit + 1`` bytes of any line are held at once.
    """
    lineno = 0
    while True:
        chunk: bytes = fh.readline(limit + 1)
        if not chunk:
            return
        lineno += 1
        if len(chunk) > limit and not chunk.endswith(b"\n"):
            while True:
                rest: bytes = fh.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield lineno, None
            continue
        yield lineno, chunk
