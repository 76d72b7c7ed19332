"""The batch job's output and errors files: locked, append-only, one whole record per write.

Why it exists: the output file is the job's only memory of what is done (an id is done exactly
when its complete record is in the output or errors file), so every way of losing or doubling
a record is closed here:

- **Lock**: an exclusive ``flock``, never waited for, on the output file's own descriptor,
  i.e. on its inode, never on a sidecar named after the path: a symlink, a hardlink or
  another relative path reaches the same inode and is refused (exit 75). The kernel drops
  the lock when the process dies, even by SIGKILL, so there is never a stale lock to delete.
  The errors file is locked the same way.
- **Torn tail**: a crash or a short write can leave a last line without its newline; it is
  truncated away on open, before anything is appended, and its id is simply redone.
- **One record per write()** on an ``O_APPEND`` descriptor held by the only writer. A short
  write (disk full, ``RLIMIT_FSIZE``) is finished if the rest goes through, else the partial
  record is truncated away and the job stops: a record is whole in the file or not there.
- **Durability**: fsync within about a second of a record being written (or after 100
  records), at exit, and the directory once after the file is created; a power cut redoes at
  most about a second of work.
- **Resume**: the keys of the records already written are read back at start (only each
  record's leading id field is decoded).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from deepseek_cli.batch.records import record_key
from deepseek_cli.errors import (
    LOCAL_IO_ERRNOS,
    CliError,
    ExitCode,
    LockedError,
    UsageError,
    io_error,
)
from deepseek_cli.safefile import flock, fsync_dir, read_lines

SYNC_AFTER_SECONDS = 0.75  # plus the ticker's period: every record is on disk within ~1 s
SYNC_AFTER_RECORDS = 100
MAX_RECORD_BYTES = 512 * 1024 * 1024  # resume scan: a longer line is not ours


class OutputError(CliError):
    """Writing a record failed (disk full, file size limit): the job stops, resumable. The
    provider is fine: exit 74, never "unavailable"."""

    exit_code = ExitCode.IOERR


@dataclass
class OutFile:
    path: Path
    fd: int
    size: int
    created: bool
    unsynced: int = 0
    dirty_since: float = 0.0
    records: int = 0  # written by this run
    cleared: bool = False


def default_output(input_path: str) -> Path:
    """``INPUT.out.jsonl``: ``questions.jsonl`` -> ``questions.out.jsonl``."""
    path = Path(input_path)
    name = path.name
    for suffix in (".jsonl", ".ndjson", ".json"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return path.with_name(f"{name}.out.jsonl")


def default_errors_path(output: Path) -> Path:
    """``OUTPUT.errors.jsonl`` next to the real output file (symlinks resolved, so every path
    to the same output finds the same errors file)."""
    real = output.resolve()
    stem = real.name[: -len(".jsonl")] if real.name.endswith(".jsonl") else real.name
    return real.with_name(f"{stem}.errors.jsonl")


def _holder(fd: int) -> str:
    """``" (pid N)"`` for the process holding a flock on ``fd``'s inode, when Linux says."""
    try:
        st = os.fstat(fd)
        wanted = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
        with Path("/proc/locks").open() as locks:
            for row in locks:
                fields = row.split()
                if len(fields) < 6 or fields[1] != "FLOCK":
                    continue
                major, minor, inode = fields[5].split(":")
                if (int(major, 16), int(minor, 16), int(inode)) == wanted:
                    return f" (pid {fields[4]})"
    except (OSError, ValueError):
        pass
    return ""


@dataclass(frozen=True)
class OutputChoice:
    """The output and errors files a command was asked for, and their record shape: what
    ``batch run`` and ``batch fetch`` both write."""

    output: Path | None = None
    errors: Path | None = None
    fmt: str = "native"

    def paths(self, input_path: str, *, why_a_file: str) -> tuple[Path, Path]:
        """The two paths, defaults filled in: ``INPUT.out.jsonl`` and ``OUTPUT.errors.jsonl``.
        ``-o -`` is refused (exit 2) with ``why_a_file``: both commands must write files."""
        if self.output is not None and str(self.output) == "-":
            raise UsageError(f"-o - is not supported: {why_a_file}")
        output = self.output or default_output(input_path)
        return output, self.errors or default_errors_path(output)


class OutputFiles:
    def __init__(
        self, output: Path, errors: Path, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.clock = clock
        self.output_path = output
        self.errors_path = errors
        self.files: list[OutFile] = []
        self.notices: list[str] = []

    @property
    def output(self) -> OutFile:
        return self.files[0]

    @property
    def errors(self) -> OutFile:
        return self.files[1]

    # -- opening
    def open(self) -> None:
        try:
            self.files.append(self._open_one(self.output_path))
            self._check_distinct()
            self.files.append(self._open_one(self.errors_path))
        except BaseException:
            self.discard_unused()
            self.close()
            raise

    def _check_distinct(self) -> None:
        """Checked before the errors file is opened: a second lock on the output's inode
        would fail and read as "in use by another batch job"."""
        if self.same_file_as(self.errors_path):
            raise UsageError("the output and errors files are the same file")

    def _open_one(self, path: Path) -> OutFile:
        flags = os.O_RDWR | os.O_APPEND | os.O_CLOEXEC
        try:
            try:
                fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o600)
                created = True
            except FileExistsError:
                fd = os.open(path, flags | os.O_CREAT, 0o600)
                created = False
        except OSError as exc:
            if exc.errno in LOCAL_IO_ERRNOS - {errno.EISDIR, errno.ENOTDIR}:
                raise io_error(exc, f"cannot open {path}") from None
            raise UsageError(f"cannot open {path}: {exc.strerror}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            # A device or a pipe cannot be read back to resume (``/dev/full`` reads as
            # endless zeros), nor locked per job.
            os.close(fd)
            raise UsageError(f"{path} is not a regular file; the output must be one to resume")
        try:
            got = flock(fd, wait=False)
        except OSError as exc:
            os.close(fd)
            raise UsageError(f"cannot lock {path}: {exc.strerror}") from None
        if not got:
            holder = _holder(fd)
            os.close(fd)
            raise LockedError(
                f"{path} is in use by another batch job{holder}",
                "wait for it to finish (or stop it), or write to another -o file",
            )
        if created:
            fsync_dir(path.resolve().parent)
        removed = self._repair(fd)
        if removed:
            self.notices.append(
                f"{path}: removed a torn last line ({removed} bytes) left by an interrupted "
                "run; its request will be redone"
            )
        return OutFile(path, fd, os.fstat(fd).st_size, created)

    @staticmethod
    def _repair(fd: int) -> int:
        """Truncate a last line that has no newline; returns the bytes removed."""
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return 0
        keep, pos = 0, size
        while pos > 0:
            start = max(0, pos - 65536)
            data = os.pread(fd, pos - start, start)
            index = data.rfind(b"\n")
            if index >= 0:
                keep = start + index + 1
                break
            pos = start
        os.ftruncate(fd, keep)
        os.fsync(fd)
        return size - keep

    def same_file_as(self, path: Path | int) -> bool:
        """Whether ``path`` (or the open descriptor ``path``) is the output or errors file:
        the same inode, whatever the path (a symlink, a hardlink)."""
        try:
            st = os.fstat(path) if isinstance(path, int) else path.stat()
        except OSError:
            return False
        return any(
            (os.fstat(f.fd).st_dev, os.fstat(f.fd).st_ino) == (st.st_dev, st.st_ino)
            for f in self.files
        )

    # -- resume
    def keys(
        self, which: OutFile
    ) -> Iterator[tuple[int, bytes, tuple[str | None, int | None] | str | None]]:
        """``(offset, line, key)`` of every record in ``which``: the key is ``None`` for an
        unreadable line (then the line is empty), ``records.INPUT_LINE`` for a batch input
        line."""
        fd = os.dup(which.fd)
        with os.fdopen(fd, "rb", buffering=1 << 20) as fh:
            fh.seek(0)
            offset = 0
            for _, raw in read_lines(fh, MAX_RECORD_BYTES):
                if raw is None:
                    yield offset, b"", None
                    offset = fh.tell()
                    continue
                yield offset, raw, record_key(raw)
                offset += len(raw)

    def clear_errors(self) -> None:
        """``--retry-errors``: every errored id is pending again, so their records go.

        Truncating in place keeps the lock (a replaced file would be a new, unlocked inode).
        Records of unusable input lines go too: they are written again as the lines are read.
        """
        os.ftruncate(self.errors.fd, 0)
        os.fsync(self.errors.fd)
        self.errors.size = 0
        self.errors.cleared = True

    # -- writing
    def write(self, which: OutFile, data: bytes) -> None:
        """Append one complete record, or leave the file as it was and raise ``OutputError``."""
        view = memoryview(data)
        written = 0
        reason = ""
        while written < len(data):
            # A short count (interrupted, or at a size limit) gets one more try for the rest;
            # the error that usually follows ends the record.
            try:
                n = os.write(which.fd, view[written:])
            except OSError as exc:
                reason = exc.strerror or str(exc)
                break
            if n <= 0:
                reason = "no progress"
                break
            written += n
        if reason:
            with contextlib.suppress(OSError):
                os.ftruncate(which.fd, which.size)
            if written:
                reason = f"short write ({written} of {len(data)} bytes), then {reason}"
            raise OutputError(
                f"cannot write {which.path}: {reason}",
                "free disk space (or raise the file size limit) and run the same command "
                "again to resume",
            ) from None
        which.size += written
        which.records += 1
        if not which.unsynced:
            which.dirty_since = self.clock()
        which.unsynced += 1
        if which.unsynced >= SYNC_AFTER_RECORDS:
            self._sync(which)

    def sync_due(self) -> None:
        """Called about four times a second: fsync what has waited long enough."""
        now = self.clock()
        for f in self.files:
            if f.unsynced and now - f.dirty_since >= SYNC_AFTER_SECONDS:
                self._sync(f)

    def _sync(self, which: OutFile) -> None:
        with contextlib.suppress(OSError):
            os.fsync(which.fd)
        which.unsynced = 0

    def close(self) -> None:
        if (
            len(self.files) == 2
            and self.errors.size == 0
            and (self.errors.created or self.errors.cleared)
        ):
            # No errors: leave no empty errors file behind (removed while still locked).
            with contextlib.suppress(OSError):
                if not self.errors.path.is_symlink():
                    self.errors.path.unlink()
        for f in self.files:
            if f.unsynced:
                self._sync(f)
            with contextlib.suppress(OSError):
                os.close(f.fd)  # also releases the lock
        self.files = []

    def discard_unused(self) -> None:
        """Remove files this run created and never wrote (invalid input: nothing happened).

        Done while the lock is still held, so no other job is using them.
        """
        for f in self.files:
            if f.created and f.size == 0:
                with contextlib.suppress(OSError):
                    f.path.unlink()
