"""Private directories and atomic, private file writes.

Anything that may hold a key, a prompt or an answer is created 0600 inside a 0700 directory
from its first byte (never chmod-ed afterwards), and replaced atomically so a crash leaves
either the old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


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


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data``: temp file in the same directory, fsync, rename, fsync dir.

    A symlink is followed, so a dotfiles manager's link stays a link and its target changes.
    """
    target = path.resolve() if path.is_symlink() else path
    ensure_private_dir(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


def is_private(path: Path) -> bool:
    """True when neither group nor others can read the file."""
    return (path.stat().st_mode & 0o077) == 0
