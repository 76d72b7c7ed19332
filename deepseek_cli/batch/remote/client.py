"""The provider's Batch service as every remote command meets it: for one job, with its key.

Why one module: ``submit``, ``status``, ``cancel`` and ``fetch`` all need the same four things,
and each of them must be done one way only:

- the job's profile as configured now (:func:`settings_for`), since the key may have been
  rotated since the submit, while the job itself stays at the host it was created on;
- a :class:`~deepseek_cli.backends.batch_api.BatchApi` for that host with that key
  (:func:`open_api`; the openai SDK is imported only when one is built, never at start-up);
- the batch a create may have made although its answer was lost (:func:`find_batch`), so
  a part is adopted, never created (and billed) twice;
- the refresh of the parts still running (:func:`refresh`), which lays what the provider says
  over the record without undoing what a concurrent process wrote.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepseek_cli.batch.remote.jobs import JobStore, Part, RemoteJob
from deepseek_cli.config.settings import RequestFlags, Settings, load
from deepseek_cli.render import stderr as say

if TYPE_CHECKING:
    from deepseek_cli.backends.batch_api import BatchApi

# How far before the job's creation the provider's batch list is searched (clock skew).
_LIST_SLACK = 3600


def open_api(settings: Settings, base_url: str) -> BatchApi:
    """A client for the Batch service at ``base_url`` (where the job lives) with the
    profile's key; imports the openai SDK."""
    from deepseek_cli.backends.batch_api import BatchApi

    key = settings.api_key.value if settings.api_key else None
    return BatchApi(base_url, key, settings.profile.provider, settings.profile.timeouts)


def settings_for(job: RemoteJob, config: Path | None) -> Settings:
    """The job's profile (its key) as configured now."""
    settings = load(RequestFlags(profile=job.profile, config=config), os.environ)
    if settings.profile.base_url != job.base_url:
        say.notice(
            f"profile '{job.profile}' now points at {settings.profile.base_url}; "
            f"job {job.id} lives at {job.base_url} and is checked there"
        )
    return settings


def open_for(job: RemoteJob, config: Path | None) -> BatchApi:
    """A client for the job's host with its profile's key as configured now."""
    return open_api(settings_for(job, config), job.base_url)


def find_batch(api: BatchApi, job: RemoteJob, part: Part) -> dict[str, Any] | None:
    """The provider's batch for ``part`` if a create reached it (newest first; stops at
    batches made before the job)."""
    oldest = _epoch(job.created_at) - _LIST_SLACK
    for batch in api.batches():
        metadata = batch.get("metadata") or {}
        if (
            metadata.get("local_job_id") == job.id and metadata.get("local_part") == str(part.index)
        ) or (part.file_id is not None and batch.get("input_file_id") == part.file_id):
            return dict(batch)
        created = batch.get("created_at")
        if isinstance(created, int | float) and created < oldest:
            return None
    return None


def _epoch(iso: str) -> float:
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return 0.0


def refresh(store: JobStore, api: BatchApi, job: RemoteJob, *, locked: bool = False) -> RemoteJob:
    """Ask the provider about every part not yet finished and save what changed.

    The record is re-read under the job's lock and only the snapshots are laid over it, so a
    status check never undoes what a concurrent submit or fetch wrote. When another process
    holds the lock, the fresh state is shown but not saved (the next check saves it).
    ``locked``: the caller holds the lock already (the job is saved as it is).
    """
    seen: dict[int, dict[str, Any]] = {}
    for part in job.parts:
        if part.batch_id is None or part.terminal:
            continue
        batch = api.retrieve(part.batch_id)
        before = part.remote
        part.take(batch)
        if part.remote != before:
            seen[part.index] = batch
    if not seen:
        return job
    if locked:
        store.save(job)
        return job
    with store.lock(job.id, wait=False) as got:
        if not got:
            return job
        fresh = store.load(job.id)
        for part in fresh.parts:
            if part.index in seen and part.batch_id == seen[part.index].get("id"):
                part.take(seen[part.index])
        store.save(fresh)
        return fresh
