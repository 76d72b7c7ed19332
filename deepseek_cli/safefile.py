"""Private directories, atomic file writes, file locks and file hashes.

Anything that may hold a key, a prompt or an answer is created 0600 inside a 0700 directory
from its first byte (never chmod-ed afterwards), and replaced atomically so a crash leaves
either the old file or the new one, never a torn one. Every writer of such a file goes
through :class:`AtomicWriter` (or :func:`write_atomic` for bytes in hand), and every
advisory lock through :func:`flock`/:func:`locked`/:func:`locked_directory`, so the rules
are written once.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO


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
