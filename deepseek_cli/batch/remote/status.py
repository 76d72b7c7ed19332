"""``batch status`` (with ``--wait``) and ``batch cancel``: the remote state of local jobs.

Why it keeps a snapshot: a finished part never changes again, so it is stored in the job's
record and ``status`` asks the provider only about parts still running. Waiting polls with
a growing interval (x1.5, capped at ``MAX_POLL`` seconds: a 24-hour job needs no request a
second); ``--poll`` sets the first interval (0 in the tests: the fake service advances on
every request, so nothing sleeps). A provider hiccup while waiting (5xx, network) is waited
out for up to ``OUTAGE_BUDGET`` seconds, since a wait may run for hours; a key or request
problem ends it at once.

Exit codes: ``status`` 0; ``status --wait`` 0 when every part completed without failed
requests, 4 otherwise (failed validation, expired, cancelled, failed requests), like a
``batch run`` with errors. ``cancel`` 0.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepseek_cli.batch.remote.jobs import JobStore, Part, RemoteJob
from deepseek_cli.config.settings import RequestFlags, Settings, load
from deepseek_cli.errors import ApiError, CliError, ConfigError, ExitCode, UsageError, error_line
from deepseek_cli.render import remote as show
from deepseek_cli.render import stderr as say

if TYPE_CHECKING:
    from deepseek_cli.backends.batch_api import BatchApi

MAX_POLL = 60.0
OUTAGE_BUDGET = 600.0


class JobNotDone(CliError):
    """Finished with failures (exit 4), the same meaning as a ``batch run`` with errors."""

    exit_code = ExitCode.PARTIAL


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


def refresh(store: JobStore, api: BatchApi, job: RemoteJob, *, locked: bool = False) -> RemoteJob:
    """Ask the provider about every part not yet finished and save what changed.

    The record is re-read under the job's lock and only the snapshots are laid over it, so a
    status check never undoes what a concurrent submit or fetch wrote. When another process
    holds the lock, the fresh state is shown but not saved (the next check saves it).
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


def status(
    job_ref: str | None,
    *,
    config: Path | None,
    as_json: bool,
    wait: bool,
    poll: float,
) -> None:
    store = JobStore(os.environ)
    if job_ref is None:
        jobs = [_refreshed(store, job, config, tolerant=True) for job in store.all()]
        waited: list[RemoteJob] = []
        if wait:
            for i, job in enumerate(jobs):
                if job.submitted and not job.finished:
                    jobs[i] = _wait(store, job, config, poll)
                    waited.append(jobs[i])
        show.jobs(jobs, as_json=as_json)
        _check_outcome(waited)  # only the jobs waited for: an old failure is old news
        return
    job = store.find(job_ref)
    job = _wait(store, job, config, poll) if wait else _refreshed(store, job, config)
    show.job(job, as_json=as_json)
    if wait:
        _check_outcome([job])


def _refreshed(
    store: JobStore, job: RemoteJob, config: Path | None, *, tolerant: bool = False
) -> RemoteJob:
    """The job with its unfinished parts asked about. ``tolerant`` (the list of all jobs):
    a job that cannot be checked (its profile gone, its host down) is shown as last known,
    with a warning, rather than failing the whole list."""
    if job.finished or not any(p.batch_id for p in job.parts):
        return job
    try:
        api = open_api(settings_for(job, config), job.base_url)
        try:
            return refresh(store, api, job)
        finally:
            api.close()
    except (ApiError, ConfigError) as exc:
        if not tolerant:
            raise
        say.warning(f"job {job.id}: showing the last known state: {error_line(exc)}")
        return job


def _wait(store: JobStore, job: RemoteJob, config: Path | None, poll: float) -> RemoteJob:
    if not job.submitted:
        raise UsageError(
            f"job {job.id} was not fully submitted",
            "run the same `deepseek batch submit` command again to finish it",
        )
    if job.finished:
        return job
    api = open_api(settings_for(job, config), job.base_url)
    progress = show.WaitProgress(job)
    interval = poll
    failing_since: float | None = None
    try:
        while True:
            try:
                job = refresh(store, api, job)
                failing_since = None
            except ApiError as exc:
                if not exc.retryable:
                    raise
                now = time.monotonic()
                if failing_since is None:
                    failing_since = now
                    progress.notice(f"cannot check the job right now ({exc.message}); retrying")
                elif now - failing_since > OUTAGE_BUDGET:
                    raise
            progress.update(job)
            if job.finished:
                return job
            time.sleep(interval)
            interval = min(max(interval * 1.5, poll), max(MAX_POLL, poll))
    finally:
        progress.close()
        api.close()


def _check_outcome(jobs: list[RemoteJob]) -> None:
    troubled = []
    for job in jobs:
        _, _, failed = job.counts()
        if job.status != "completed" or failed:
            troubled.append(job)
    if troubled:
        names = ", ".join(f"{j.id} ({_outcome(j)})" for j in troubled[:5])
        raise JobNotDone(
            f"finished with problems: {names}",
            "see the details with `deepseek batch status JOB`; `deepseek batch fetch JOB` "
            "gets what was done",
        )


def _outcome(job: RemoteJob) -> str:
    _, _, failed = job.counts()
    if job.status == "completed":
        return f"{failed:,} failed request(s)"
    return job.status


def cancel(job_ref: str, *, config: Path | None, as_json: bool) -> None:
    store = JobStore(os.environ)
    job = store.find(job_ref)
    with store.locked(job.id, "cancel"):
        job = store.load(job.id)
        needs_api = any(not p.terminal and (p.batch_id or p.create_sent) for p in job.parts)
        api = open_api(settings_for(job, config), job.base_url) if needs_api else None
        cancelled: list[Part] = []
        try:
            for part in job.parts:
                if part.terminal:
                    continue
                if part.batch_id is None and part.create_sent and api is not None:
                    from deepseek_cli.batch.remote.submit import find_batch

                    found = find_batch(api, job, part)
                    if found is not None:
                        part.take(found)
                if part.batch_id is None:
                    part.local_cancel = True  # a later submit must not create it
                elif api is not None and not part.terminal:
                    part.take(_cancel_one(api, part))
                cancelled.append(part)
                store.save(job)
        finally:
            if api is not None:
                api.close()
        store.save(job)
    show.cancelled(job, cancelled, as_json=as_json)


def _cancel_one(api: BatchApi, part: Part) -> dict[str, Any]:
    assert part.batch_id is not None
    try:
        return api.cancel(part.batch_id)
    except ApiError as exc:
        # Finished meanwhile: the provider refuses to cancel it; its state says why.
        if exc.retryable:
            raise
        batch = api.retrieve(part.batch_id)
        if batch.get("status") in ("completed", "failed", "expired", "cancelled", "cancelling"):
            return batch
        raise
