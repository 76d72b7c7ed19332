"""The single place where failures become a message and an exit code.

Every command is wrapped by :func:`guarded`. Expected failures (``CliError``) print one line
with what happened, the provider's message and request id, and a hint. Ctrl-C exits 130 and
SIGTERM 143. An ``OSError`` that says one of our own files cannot be written (disk full,
read-only, permissions) exits 74 with the file and the reason. Anything else is a bug: exit 1
with a pointer to ``--debug``, which prints the traceback (redacted, no local variables).
"""

from __future__ import annotations

import functools
import signal
import sys
import traceback
from collections.abc import Callable
from typing import NoReturn, ParamSpec, TypeVar

import typer

from deepseek_cli.errors import (
    LOCAL_IO_ERRNOS,
    CliError,
    ExitCode,
    Terminated,
    error_line,
    io_error,
)
from deepseek_cli.redaction import redact
from deepseek_cli.render import stderr

P = ParamSpec("P")
R = TypeVar("R")

debug_mode = {"on": False}


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


def _print_traceback(exc: BaseException) -> None:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    sys.stderr.write(redact("".join(lines)))


def guarded(func: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        debug = bool(kwargs.get("debug")) or debug_mode["on"]
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except CliError as exc:
            if debug:
                _print_traceback(exc)
            stderr.error(error_line(exc))
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            stderr.notice("interrupted")
            raise typer.Exit(int(ExitCode.SIGINT)) from None
        except Terminated:
            stderr.notice("terminated")
            raise typer.Exit(int(ExitCode.SIGTERM)) from None
        except OSError as exc:
            if exc.errno not in LOCAL_IO_ERRNOS:
                return _internal(exc, debug)
            # A file of ours that no layer below named (disk full, read-only): exit 74.
            if debug:
                _print_traceback(exc)
            stderr.error(error_line(io_error(exc, "cannot use a file")))
            raise typer.Exit(int(ExitCode.IOERR)) from None
        except Exception as exc:
            return _internal(exc, debug)
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper


def _internal(exc: Exception, debug: bool) -> NoReturn:
    """Anything else is a bug: exit 1, the traceback with --debug."""
    if debug:
        _print_traceback(exc)
        stderr.error(f"internal error: {type(exc).__name__}: {exc}")
    else:
        stderr.error(
            f"internal error: {type(exc).__name__}: {exc} "
            "(a bug; run with --debug for the traceback)"
        )
    raise typer.Exit(int(ExitCode.INTERNAL)) from None
