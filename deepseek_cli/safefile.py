"""Private directories, atomic file writes, file locks, bounded reads and file hashes.

Anything that may hold a key, a prompt or an answer is created 0600 inside a 0700 directory
from its first byte (never chmod-ed afterwards), and replaced atomically so a crash leaves
either the old file or the new one, never a torn one. Every writer of such a file goes
through :class:`AtomicWriter` (or :func:`write_atomic` for bytes in hand), and every
advisory lock through :func:`flock`/:func:`locked`/:func:`locked_directory`, so the rules
are written once.

Every read of something a user names (a file, a device, a pipe, stdin) goes through
:func:`read_limited` or :func:`read_lines`, which never hold more than a stated limit:
``-f /dev/zero`` or ``chat < /dev/zero`` must end with a clear line, not with the kernel
killing the process.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

MiB = 1024 * 1024


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) as 0700 if missing; existing directories are left alone."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable; filesystems that cannot sync a
    directory are tolerated."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def is_private(path: Path) -> bool:
    """True when neither group nor others can read the file."""
    return (path.stat().st_mode & 0o077) == 0


def link_target(path: Path) -> Path:
    """The file a write to ``path`` should change: a symlink is followed, so a dotfiles
    manager's link stays a link and its target changes."""
    return path.resolve() if path.is_symlink() else path


def _sha256() -> Any:
    # Imported here, not at the top: loading OpenSSL costs ~5 ms, and ``usage`` or ``models``
    # import this module without ever hashing anything.
    import hashlib

    return hashlib.sha256()


class AtomicWriter:
    """A file written in pieces that appears at ``dest`` whole or not at all.

    The bytes go to a private temp file beside the destination; :meth:`close` makes them
    durable, :meth:`replace` renames them over ``dest`` and syncs the directory, and
    :meth:`discard` (or leaving a ``with`` block by an exception) removes them. Closing and
    replacing are separate so that a caller can finish several files before the first one
    replaces anything. ``sha256`` is the digest of what was written.
    """

    def __init__(self, dest: Path, mode: int = 0o600, *, suffix: str = ".tmp") -> None:
        self.dest = link_target(dest)
        fd, name = tempfile.mkstemp(
            prefix=f".{self.dest.name}.", suffix=suffix, dir=self.dest.parent
        )
        self.tmp = Path(name)
        try:
            os.fchmod(fd, mode)
        except BaseException:
            os.close(fd)
            self.tmp.unlink(missing_ok=True)
            raise
        self._handle: BinaryIO = os.fdopen(fd, "wb")
        self._hasher = _sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._handle.write(data)
        self._hasher.update(data)
        self.size += len(data)

    def restart(self) -> None:
        """Forget everything written so far (a download that starts over)."""
        self._handle.seek(0)
        self._handle.truncate()
        self._hasher = _sha256()
        self.size = 0

    @property
    def sha256(self) -> str:
        digest: str = self._hasher.hexdigest()
        return digest

    def close(self) -> None:
        """Flush and fsync the temp file; nothing is visible at ``dest`` yet."""
        if not self._handle.closed:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()

    def replace(self) -> None:
        """Put the file in place (temp file renamed over ``dest``, directory synced)."""
        self.close()
        self.tmp.replace(self.dest)
        fsync_dir(self.dest.parent)

    def discard(self) -> None:
        if not self._handle.closed:
            self._handle.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> AtomicWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self.replace()
        else:
            self.discard()


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` (creating its directory 0700 if needed)."""
    ensure_private_dir(link_target(path).parent)
    with AtomicWriter(path, mode) as writer:
        writer.write(data)


def flock(fd: int, *, shared: bool = False, wait: bool = True) -> bool:
    """Take an advisory lock on ``fd``'s file; ``False`` when ``wait`` is off and another
    process holds it. The kernel drops the lock when the descriptor is closed or the process
    dies (even by SIGKILL), so there is never a stale lock to clean up."""
    operation = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    try:
        fcntl.flock(fd, operation | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def locked(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on the lock file ``path`` (created 0600 in a private directory);
    yields ``False`` when ``wait`` is off and another process holds it."""
    ensure_private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        yield flock(fd, wait=wait)
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def locked_directory(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the directory ``path`` itself. For a file that is replaced by
    rename (each write a new inode, which a lock on the file would not survive) this is the
    lock that leaves nothing behind: no lock file beside the user's file, none to go stale."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        flock(fd)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def file_sha256(handle: io.BufferedIOBase) -> str:
    """The SHA-256 of a file opened for binary reading, from its current position."""
    import hashlib

    return hashlib.file_digest(handle, "sha256").hexdigest()


class TooLarge(Exception):
    """A file or stream holds more than its reader's limit; ``limit`` is that limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {size_text(limit)}")
        self.limit = limit


def size_text(size: int) -> str:
    """A limit as people write it: ``8 MiB``, ``64 KiB``, ``100 bytes``."""
    for unit, name in ((1 << 30, "GiB"), (MiB, "MiB"), (1024, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"


def read_limited(source: Path | BinaryIO, limit: int) -> bytes:
    """All of a file (or of an open binary stream), or :class:`TooLarge` when it holds more
    than ``limit`` bytes. A regular file is measured before it is read; anything else (a
    device that never ends, a pipe) is read up to ``limit + 1`` bytes and no further."""
    if not isinstance(source, Path):
        data: bytes = source.read(limit + 1)
    else:
        with source.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                raise TooLarge(limit)
            data = handle.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(limit)
    return data


def read_lines(fh: Any, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, bytes)`` for every line; ``None`` for a line longer than ``limit``.

    Why not ``for line in f``: it buffers a whole line however long it is, and a batch input
    (or an output file being resumed, a provider's result file, a piped chat) can be a 2 GiB
    file with no newline at all. Every line is read with ``readline(limit + 1)``; a longer
    one is consumed in bounded pieces and reported as too long, never kept. At most
    ``limit + 1`` bytes of any line are held at once.
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
