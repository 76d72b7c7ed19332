"""The batch input as something that can be read from the start more than once.

Why: the input is read twice (a validation pass before anything is sent, then the dispatch
pass), and stdin can be read only once, so stdin is spooled to an anonymous file first; so is
an input path that is not a regular file (a FIFO, ``<(command)``, a device). The spool lives
next to the output (where there is room for the output anyway), is unlinked from the start
and is private to this process.

A stream has no size to check beforehand, and some never end (``< /dev/zero``), so spooling
is bounded twice: a line longer than the line limit is kept only as far as the validation
pass needs to see that it is too long (so a line without end costs no disk), and a stream
longer than :data:`MAX_STREAM_BYTES` is refused (exit 65): write such an input to a file.
"""

from __future__ import annotations

import stat
import sys
import tempfile
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import IO, BinaryIO

from deepseek_cli.errors import InputDataError, UsageError
from deepseek_cli.safefile import MiB, size_text

DEFAULT_MAX_LINE_BYTES = 8 * MiB
MAX_STREAM_BYTES = 4096 * MiB


def check_input(path: str) -> None:
    """Exit 2 unless ``path`` is ``-`` or something that can be read as an input."""
    if path != "-" and (not Path(path).exists() or Path(path).is_dir()):
        raise UsageError(f"cannot read {path}: no such file")


class InputSource:
    """The input file, or a stream (stdin, a FIFO, a device) spooled to an anonymous file
    so it can be read twice."""

    def __init__(
        self,
        path: str,
        spool_dir: Path | None = None,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self.path = path
        self.is_stdin = path == "-"
        self.name = "<stdin>" if self.is_stdin else path
        self._spool: IO[bytes] | None = None
        if self.is_stdin:
            self._spool_from(sys.stdin.buffer, spool_dir, max_line_bytes)
        elif not stat.S_ISREG(Path(path).stat().st_mode):
            with Path(path).open("rb") as stream:
                self._spool_from(stream, spool_dir, max_line_bytes)

    def _spool_from(self, stream: BinaryIO, spool_dir: Path | None, limit: int) -> None:
        # Closed in close(): it must outlive both passes.
        self._spool = tempfile.TemporaryFile(dir=spool_dir)  # noqa: SIM115
        total = 0
        while chunk := stream.readline(limit + 1):
            total += len(chunk)
            self._spool.write(chunk)
            if len(chunk) > limit and not chunk.endswith(b"\n"):
                # Kept as far as the validation pass needs to see it is too long.
                while rest := stream.readline(MiB):
                    total += len(rest)
                    self._check_total(total)
                    if rest.endswith(b"\n"):
                        break
                self._spool.write(b"\n")
            self._check_total(total)

    def _check_total(self, total: int) -> None:
        if total > MAX_STREAM_BYTES:
            self.close()
            raise InputDataError(
                f"{self.name} is larger than {size_text(MAX_STREAM_BYTES)} (the limit for "
                "input from a pipe or a device); nothing sent",
                "save it to a file and pass that file's path",
            )

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
