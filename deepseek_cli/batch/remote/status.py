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

from deepseek_cli.backends.backoff import backoff_delay
from deepseek_cli.batch.remote.client import find_batch, open_for, refresh
from deepseek_cli.batch.remote.jobs import JobStore, Part, RemoteJob, job_view
from deepseek_cli.errors import ApiError, CliError, ConfigError, ExitCode, UsageError, error_line
from deepseek_cli.render import remote as show
from deepseek_cli.render import stderr as say

if TYPE_CHECKING:
    from deepseek_cli.backends.batch_api import BatchApi

MAX_POLL = 60.0
POLL_GROWTH = 1.5
OUTAGE_BUDGET = 600.0


class JobNotDone(CliError):
    """Finished with failures (exit 4), the same meaning as a ``batch run`` with errors."""

    exit_code = ExitCode.PARTIAL


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
        show.jobs([job_view(job) for job in jobs], as_json=as_json)
        _check_outcome(waited)  # only the jobs waited for: an old failure is old news
        return
    job = store.find(job_ref)
    job = _wait(store, job, config, poll) if wait else _refreshed(store, job, config)
    show.job(job_view(job), as_json=as_json)
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
        api = open_for(job, config)
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
    api = open_for(job, config)
    progress = show.WaitProgress(job.id, job.requests)
    failing_since: float | None = None
    polls, cap = 0, max(MAX_POLL, poll)  # a --poll above the cap is taken as asked
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
            progress.update(job_view(job))
            if job.finished:
                return job
            polls += 1
            time.sleep(backoff_delay(polls, poll, cap, factor=POLL_GROWTH, jitter=0))
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
        api = open_for(job, config) if needs_api else None
        cancelled: list[int] = []
        try:
            for part in job.parts:
                if part.terminal:
                    continue
                if part.batch_id is None and part.create_sent and api is not None:
                    found = find_batch(api, job, part)
                    if found is not None:
                        part.take(found)
                if part.batch_id is None:
                    part.local_cancel = True  # a later submit must not create it
                elif api is not None and not part.terminal:
                    part.take(_cancel_one(api, part))
                cancelled.append(part.index)
                store.save(job)
        finally:
            if api is not None:
                api.close()
        store.save(job)
    show.cancelled(job_view(job), cancelled, as_json=as_json)


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
