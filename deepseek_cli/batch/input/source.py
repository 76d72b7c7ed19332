"""The batch input as something that can be read from the start more than once.

Why: the input is read twice (a validation pass before anything is sent, then the dispatch
pass), and stdin can be read only once, so stdin is spooled to an anonymous file first. The
spool lives next to the output (where there is room for the output anyway), is unlinked from
the start and is private to this process.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import IO


class InputSource:
    """The input file, or stdin spooled to an anonymous file so it can be read twice."""

    def __init__(self, path: str, spool_dir: Path | None = None) -> None:
        self.path = path
        self.is_stdin = path == "-"
        self.name = "<stdin>" if self.is_stdin else path
        self._spool: IO[bytes] | None = None
        if self.is_stdin:
            # Closed in close(): it must outlive both passes.
            self._spool = tempfile.TemporaryFile(dir=spool_dir)  # noqa: SIM115
            shutil.copyfileobj(sys.stdin.buffer, self._spool, 1 << 20)

    def open(self) -> AbstractContextManager[IO[bytes]]:
        """The input from its first byte; closing it leaves the spool open for the next pass."""
        if self._spool is not None:
            self._spool.seek(0)
            return nullcontext(self._spool)
        return Path(self.path).open("rb")

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None
