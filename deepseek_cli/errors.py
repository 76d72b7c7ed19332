"""Exit codes and the error classes that carry them.

Every failure the user can act on is one of these classes: it knows its exit code, a one-line
message and a hint. Exactly one place (``cli.boundary``) turns them into output and an exit
status, so commands never print errors themselves.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1
    USAGE = 2
    PARTIAL = 4
    DATA = 65
    UNAVAILABLE = 69
    IOERR = 74
    TEMPFAIL = 75
    NOPERM = 77
    CONFIG = 78
    SIGINT = 130
    SIGTERM = 143


class CliError(Exception):
    """Base of every expected failure: a message, a hint and an exit code."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(CliError):
    exit_code = ExitCode.USAGE


class ConfigError(CliError):
    exit_code = ExitCode.CONFIG


class InputDataError(CliError):
    """Input we were given cannot be used (batch lines, stdin that is not text)."""

    exit_code = ExitCode.DATA


class NoAnswerError(CliError):
    """The request succeeded but produced no answer: max_tokens ran out first."""

    exit_code = ExitCode.DATA


class LockedError(CliError):
    exit_code = ExitCode.TEMPFAIL


class LocalIOError(CliError):
    """Our own file could not be written or read: disk full, a read-only directory. The
    provider is fine, and the work can be resumed once there is room."""

    exit_code = ExitCode.IOERR


@contextlib.contextmanager
def local_io(what: str) -> Iterator[None]:
    """Turn an ``OSError`` on our own files inside the block into exit 74 saying ``what``
    failed (``cannot write the config file``) and where."""
    try:
        yield
    except OSError as exc:
        raise io_error(exc, what) from None


def io_error(exc: OSError, what: str) -> LocalIOError:
    """The error for an ``OSError`` on one of our own files: ``what`` failed, and why."""
    name = str(exc.filename) if exc.filename else ""
    where = f" ({name})" if name and name not in what else ""
    return LocalIOError(f"{what}: {exc.strerror or exc}{where}", _IO_HINTS.get(exc.errno or 0))


_IO_HINTS = {
    errno.ENOSPC: "free some disk space and run it again",
    errno.EDQUOT: "free some disk space (quota) and run it again",
    errno.EROFS: "choose a writable place",
    errno.EACCES: "check the permissions of that path",
    errno.EPERM: "check the permissions of that path",
}

# The errors that say "our own file cannot be written here", not "we have a bug".
LOCAL_IO_ERRNOS = frozenset(_IO_HINTS) | {errno.EIO, errno.EFBIG, errno.EISDIR, errno.ENOTDIR}


class Interrupted(CliError):
    exit_code = ExitCode.SIGINT


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM so cleanup runs; exits 143.

    A ``BaseException`` for the same reason ``KeyboardInterrupt`` is: library code that catches
    ``Exception`` must not swallow it.
    """


class ApiError(CliError):
    """A request to a provider failed.

    ``retryable`` says whether sending the same request again may succeed; ``retry_after`` is
    the server's requested wait in seconds when it gave one.
    """

    exit_code = ExitCode.UNAVAILABLE
    kind = "api"
    what = "request failed"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.retry_after = retry_after

    def to_record(self) -> dict[str, object]:
        """The ``error`` object written to batch error files and JSON output."""
        return {
            "kind": self.kind,
            "status": self.status,
            "code": self.code,
            "message": self.message,
        }


class AuthError(ApiError):
    """401/403, insufficient balance, arrears: a human has to act."""

    exit_code = ExitCode.NOPERM
    kind = "auth"
    what = "not permitted"


class InvalidRequestError(ApiError):
    """400/404/422 or content inspection: the same request will fail again."""

    exit_code = ExitCode.DATA
    kind = "invalid_request"
    what = "request rejected"


class TransientError(ApiError):
    """A failure that sending the same request again may not repeat: it is retried."""

    retryable = True


class RateLimitError(TransientError):
    kind = "rate_limit"
    what = "rate limited"


class ServerError(TransientError):
    kind = "server"
    what = "provider error"


class NetworkError(TransientError):
    """Connection failures and our own deadlines (connect, first token, idle, total)."""

    kind = "network"
    what = "network error"


class TlsError(NetworkError):
    """The server's certificate was not accepted. Never retried, never downgraded."""

    kind = "tls"
    what = "TLS failed"
    retryable = False


class TimeoutExpired(NetworkError):
    kind = "timeout"
    what = "timed out"


class TruncatedError(TransientError):
    """The stream ended without a finish reason, or with ``insufficient_system_resource``."""

    kind = "truncated"
    what = "answer cut off"


def error_line(exc: CliError) -> str:
    """The one-line message for an expected failure: what, the provider's words, the hint."""
    if isinstance(exc, ApiError):
        # A code that only repeats the status (llama.cpp, LiteLLM) says nothing more.
        code = exc.code if exc.code != str(exc.status) else None
        details = [x for x in (f"HTTP {exc.status}" if exc.status else None, code) if x]
        if exc.request_id:
            details.append(f"request {exc.request_id}")
        text = f"{exc.what}: {exc.message}"
        if details:
            text += f" ({', '.join(details)})"
    else:
        text = exc.message
    if exc.hint:
        text += f"; {exc.hint}"
    return text
