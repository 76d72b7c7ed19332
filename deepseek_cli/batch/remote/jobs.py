"""The local record of a remote batch job, and where records live.

Why a local record at all: the provider knows batches and files, not our jobs. A job is one
input file split into parts (one provider batch each); the record ties them together and
remembers what each part needs next, so every command can be re-run after a crash:

- it is written **before** any call that creates something remotely, and again after each
  one, so a crash between two calls leaves a record that says which calls may have happened
  (``create_sent`` means "a create may have reached the provider": the next run looks for
  that batch, by the ``local_job_id`` we put in its metadata, before creating another);
- the part files (the exact bytes uploaded) stay in the job's directory: they map the
  provider's per-line validation errors back to input line numbers, and give ``fetch`` the
  ids each part should have answered, without trusting the input file to be unchanged.

Layout under ``<data dir>/batches/``: ``<job>.json`` (the record, 0600, replaced atomically),
``<job>.lock`` (flock: one process changes a job at a time) and ``<job>/`` (0700: part files
and the downloaded result files).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepseek_cli.config import paths
from deepseek_cli.errors import ConfigError, LockedError, UsageError
from deepseek_cli.safefile import (
    MiB,
    TooLarge,
    ensure_private_dir,
    locked,
    read_limited,
    write_atomic,
)
from deepseek_cli.timestamps import epoch_iso

# A job record lists its parts and their ids; far larger than this is not one of ours.
MAX_JOB_RECORD_BYTES = 64 * MiB

if TYPE_CHECKING:
    from deepseek_cli.render.remote import JobView, PartView

RECORD_VERSION = 1
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
# Non-terminal states in the order a batch passes through them.
ACTIVE = ("validating", "in_progress", "finalizing", "cancelling")
# The fields of a provider batch object worth keeping in the record.
SNAPSHOT_KEYS = (
    "status",
    "request_counts",
    "output_file_id",
    "error_file_id",
    "errors",
    "created_at",
    "in_progress_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
    "expires_at",
)
TIME_KEYS = SNAPSHOT_KEYS[5:]


def new_job_id() -> str:
    """``20261130-3fa9c1``: sorts by day, short enough to type, random enough not to clash."""
    return time.strftime("%Y%m%d", time.gmtime()) + "-" + secrets.token_hex(3)


@dataclass
class Part:
    """One provider batch: one uploaded file, one model, at most the provider's limits."""

    index: int
    model: str
    file: str  # the part file's name in the job directory
    lines: int
    bytes: int
    sha256: str
    # Input line numbers of the part's lines, in order, as [first, last] runs.
    input_lines: list[list[int]] = field(default_factory=list)
    file_id: str | None = None
    batch_id: str | None = None
    create_sent: bool = False
    local_cancel: bool = False  # cancelled before a batch was created: never create it
    remote: dict[str, Any] = field(default_factory=dict)  # the last batch object seen

    @property
    def status(self) -> str:
        if self.batch_id is None:
            return "cancelled" if self.local_cancel else "not_submitted"
        return str(self.remote.get("status") or "unknown")

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def input_line(self, part_line: int) -> int | None:
        """The input line number of the part file's line ``part_line`` (1-based)."""
        offset = part_line
        for first, last in self.input_lines:
            span = last - first + 1
            if offset <= span:
                return first + offset - 1
            offset -= span
        return None

    def add_line(self, input_line: int) -> None:
        if self.input_lines and self.input_lines[-1][1] + 1 == input_line:
            self.input_lines[-1][1] = input_line
        else:
            self.input_lines.append([input_line, input_line])

    def take(self, batch: Mapping[str, Any]) -> None:
        """Remember a batch object the provider returned."""
        self.batch_id = str(batch.get("id") or self.batch_id)
        self.remote = {k: batch.get(k) for k in SNAPSHOT_KEYS}

    def counts(self) -> tuple[int, int, int]:
        """(total, completed, failed); the total is the part's lines until the provider says."""
        rc = self.remote.get("request_counts") or {}
        total = int(rc.get("total") or 0) or self.lines
        return total, int(rc.get("completed") or 0), int(rc.get("failed") or 0)

    def validation_errors(self) -> list[dict[str, Any]]:
        """The provider's per-line errors, each with the input line it came from."""
        errors = self.remote.get("errors") or {}
        found = []
        for item in errors.get("data") or ():
            if not isinstance(item, dict):
                continue
            line = item.get("line")
            number = line if isinstance(line, int) and not isinstance(line, bool) else None
            found.append(
                {
                    "code": item.get("code"),
                    "message": item.get("message"),
                    "param": item.get("param"),
                    "line": number,
                    "input_line": self.input_line(number) if number else None,
                }
            )
        return found


@dataclass
class RemoteJob:
    id: str
    created_at: str
    input_path: str
    input_sha256: str
    input_bytes: int
    requests: int
    profile: str
    provider: str
    region: str | None
    base_url: str
    endpoint: str
    window: str
    fingerprint: str
    name: str | None = None
    parts: list[Part] = field(default_factory=list)
    fetched: dict[str, Any] | None = None
    version: int = RECORD_VERSION

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(p.model for p in self.parts))

    @property
    def submitted(self) -> bool:
        return all(p.batch_id is not None or p.local_cancel for p in self.parts)

    @property
    def status(self) -> str:
        """All parts alike: their status; else the least advanced active one; else mixed."""
        statuses = [p.status for p in self.parts]
        if not statuses:
            return "unknown"
        if "not_submitted" in statuses:
            return "submitting"
        if len(set(statuses)) == 1:
            return statuses[0]
        for state in ACTIVE:
            if state in statuses:
                return state
        if "unknown" in statuses:
            return "unknown"
        return "mixed"

    @property
    def finished(self) -> bool:
        return all(p.terminal for p in self.parts)

    def counts(self) -> tuple[int, int, int]:
        totals = [p.counts() for p in self.parts]
        return (
            sum(t for t, _, _ in totals),
            sum(c for _, c, _ in totals),
            sum(f for _, _, f in totals),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RemoteJob:
        raw = dict(data)
        parts = [Part(**p) for p in raw.pop("parts", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in raw.items() if k in known}, parts=parts)


class JobStore:
    """The records under ``<data dir>/batches``."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.root = paths.data_dir(env) / "batches"

    def record_path(self, job_id: str) -> Path:
        return self.root / f"{job_id}.json"

    def job_dir(self, job_id: str) -> Path:
        return self.root / job_id

    def save(self, job: RemoteJob) -> None:
        data = json.dumps(job.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n"
        write_atomic(self.record_path(job.id), data.encode("utf-8"))

    def load(self, job_id: str) -> RemoteJob:
        path = self.record_path(job_id)
        try:
            return RemoteJob.from_json(json.loads(read_limited(path, MAX_JOB_RECORD_BYTES)))
        except FileNotFoundError:
            raise UsageError(
                f"no batch job '{job_id}'", "list them: deepseek batch status"
            ) from None
        except (OSError, ValueError, TypeError, KeyError, TooLarge) as exc:
            raise ConfigError(f"cannot read the batch job record {path}: {exc}") from None

    def all(self) -> list[RemoteJob]:
        if not self.root.is_dir():
            return []
        jobs = []
        for path in sorted(self.root.glob("*.json")):
            with contextlib.suppress(UsageError, ConfigError):
                jobs.append(self.load(path.stem))
        jobs.sort(key=lambda j: (j.created_at, j.id))
        return jobs

    def find(self, ref: str) -> RemoteJob:
        """A job by id, unique id prefix, or unique name."""
        if self.record_path(ref).is_file() and "/" not in ref:
            return self.load(ref)
        jobs = self.all()
        for candidates in (
            [j for j in jobs if j.id.startswith(ref)],
            [j for j in jobs if j.name == ref],
        ):
            if len(candidates) == 1:
                return candidates[0]
            if len(candidates) > 1:
                listed = ", ".join(j.id for j in candidates[:5])
                raise UsageError(f"'{ref}' matches several batch jobs: {listed}")
        raise UsageError(f"no batch job '{ref}'", "list them: deepseek batch status")

    def with_fingerprint(self, fingerprint: str) -> RemoteJob | None:
        for job in reversed(self.all()):
            if job.fingerprint == fingerprint:
                return job
        return None

    def staging_dir(self) -> Path:
        """A private directory for part files until the job exists (renamed into place)."""
        ensure_private_dir(self.root)
        self._sweep_staging()
        path = self.root / f".staging-{os.getpid()}-{secrets.token_hex(4)}"
        path.mkdir(mode=0o700)
        return path

    def _sweep_staging(self) -> None:
        """Remove staging left by a killed submit (a day old: never one still being written)."""
        cutoff = time.time() - 86400
        for path in self.root.glob(".staging-*"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    shutil.rmtree(path, ignore_errors=True)

    def lock(self, name: str, *, wait: bool) -> contextlib.AbstractContextManager[bool]:
        """The flock on ``<name>.lock``; yields False when ``wait`` is off and another
        process holds it (the caller decides whether that is an error)."""
        return locked(self.root / f"{name}.lock", wait=wait)

    @contextlib.contextmanager
    def locked(self, job_id: str, doing: str) -> Iterator[None]:
        """The job's lock, or exit 75 when another process is working on it."""
        with self.lock(job_id, wait=False) as got:
            if not got:
                raise LockedError(
                    f"batch job {job_id} is in use by another deepseek process ({doing})",
                    "wait for it to finish, then try again",
                )
            yield


def job_view(job: RemoteJob) -> JobView:
    """The job as ``status --json`` shows it (and as the tables are drawn from)."""
    total, completed, failed = job.counts()
    parts: list[PartView] = []
    for part in job.parts:
        p_total, p_completed, p_failed = part.counts()
        parts.append(
            {
                "index": part.index,
                "model": part.model,
                "status": part.status,
                "batch_id": part.batch_id,
                "input_file_id": part.file_id,
                "output_file_id": part.remote.get("output_file_id"),
                "error_file_id": part.remote.get("error_file_id"),
                "lines": part.lines,
                "bytes": part.bytes,
                "requests": {"total": p_total, "completed": p_completed, "failed": p_failed},
                "times": {
                    key.removesuffix("_at"): epoch_iso(part.remote.get(key))
                    for key in TIME_KEYS
                    if part.remote.get(key)
                },
                "validation_errors": part.validation_errors(),
            }
        )
    return {
        "id": job.id,
        "name": job.name,
        "status": job.status,
        "created_at": job.created_at,
        "profile": job.profile,
        "provider": job.provider,
        "region": job.region,
        "base_url": job.base_url,
        "models": job.models,
        "window": job.window,
        "input": {"path": job.input_path, "sha256": job.input_sha256, "bytes": job.input_bytes},
        "requests": {"total": total, "completed": completed, "failed": failed},
        "parts": parts,
        "fetched": job.fetched,
    }
