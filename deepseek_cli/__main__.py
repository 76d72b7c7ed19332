"""Entry point for the ``deepseek`` console script and ``python -m deepseek_cli``.

The Typer app is imported inside :func:`main` so that importing the package stays free.

Before anything else, a closed standard stream (``2>&-``, ``>&-``, a daemon without fds) is
given /dev/null: otherwise the first file we open (the ledger, a session, a batch output)
would get descriptor 1 or 2, and whatever is printed would land inside it. A closed stderr
then silently drops messages (the work goes on: sessions, ledger rows and batch records are
still written); a closed stdout behaves as a reader that has gone (``| head``), which every
command already handles by ending quietly.
"""

from __future__ import annotations

import errno
import io
import os
import sys


class _GoneBytes(io.RawIOBase):
    """stdout's bytes whose descriptor was closed: every write fails as on a closed pipe."""

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        raise BrokenPipeError(errno.EPIPE, "stdout is closed")

    def fileno(self) -> int:
        return 1


class _GoneStdout(io.TextIOBase):
    """stdout whose descriptor was closed, as text."""

    encoding = "utf-8"
    buffer = _GoneBytes()

    def write(self, text: str) -> int:
        raise BrokenPipeError(errno.EPIPE, "stdout is closed")

    def fileno(self) -> int:
        return 1

    def isatty(self) -> bool:
        return False


def _guard_standard_streams() -> None:
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            if fd == 0:
                sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
            elif fd == 1:
                sys.stdout = _GoneStdout()
            else:
                sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115


def main() -> None:
    _guard_standard_streams()
    from deepseek_cli.cli.app import app

    app(prog_name="deepseek")


if __name__ == "__main__":
    main()
