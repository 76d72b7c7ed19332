"""Putting a fetch's two record files in place: both replaced, or neither.

Why it is careful: the output and errors files are rebuilt from scratch on every fetch, next
to where they go (private, fsync'd: ``safefile.AtomicWriter``), and only when both are
complete and every check has passed is the first one renamed, so an interrupted or refused
fetch leaves the previous pair (or none), never a new output beside an old errors file. The
checks: a file this job's last fetch did not write is not replaced without ``--force`` (it
may hold results paid for elsewhere), and one a running ``batch run`` holds (its lock is on
the file itself) is not touched at all (exit 75). No errors this time means no errors file:
a stale one is removed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from deepseek_cli.batch.remote.jobs import RemoteJob
from deepseek_cli.errors import LockedError, UsageError
from deepseek_cli.safefile import AtomicWriter, file_sha256, flock, fsync_dir

Which = Literal["output", "errors"]


def new_file(dest: Path) -> AtomicWriter:
    """A records file being built for ``dest``; exit 2 when its directory does not exist."""
    parent = dest.resolve().parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {dest}: no directory {parent}")
    return AtomicWriter(dest)


def install(
    job: RemoteJob,
    out: AtomicWriter,
    output: Path,
    err: AtomicWriter,
    errors: Path,
    *,
    force: bool,
) -> None:
    """Both files replaced, or neither: every check comes before the first rename."""
    out.close()
    err.close()
    plans: list[tuple[AtomicWriter, Path, Which, bool]] = [
        (out, output, "output", True),
        (err, errors, "errors", err.size > 0),
    ]
    for new, dest, which, keep in plans:
        existing = existing_sha256(dest)
        allowed = {_ours(job, which, dest), new.sha256 if keep else None} - {None}
        if existing is not None and existing not in allowed and not force:
            raise UsageError(
                f"{dest} exists and was not written by this job's last fetch (it may hold "
                "other results)",
                "use --force to replace it, or -o another file",
            )
    for new, dest, _, keep in plans:
        if keep:
            new.replace()
        else:
            dest.unlink(missing_ok=True)
            fsync_dir(dest.parent)


def existing_sha256(path: Path) -> str | None:
    """The hash of the file now at ``path`` (None when there is none); exit 75 when a
    ``batch run`` holds it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:  # closing it drops the lock
        if not flock(fh.fileno(), shared=True, wait=False):
            raise LockedError(
                f"{path} is in use by a batch job", "wait for it to finish, or use -o"
            )
        return file_sha256(fh)


def _ours(job: RemoteJob, which: Which, path: Path) -> str | None:
    """The hash of the file this job's last fetch wrote at ``path``, if it wrote one there."""
    done = job.fetched or {}
    if done.get(which) == str(path.resolve()):
        value = done.get(f"{which}_sha256")
        return str(value) if value else None
    return None
