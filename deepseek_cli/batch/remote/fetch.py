"""``batch fetch``: the provider's result files -> the records ``batch run`` writes.

Why it exists: it is the order of the steps, each of them in its own module, that makes a
fetch safe to repeat and to interrupt:

1. under the job's lock, the job must be fully submitted (exit 2) and finished (exit 75, try
   again later or ``batch status JOB --wait``); a finished job whose result files are in
   the cache is fetched again without the network;
2. ``downloads``: the result files, once, whole or not at all;
3. ``convert``: every part's lines to records, merged by ``custom_id``, into new files
   built beside the destinations;
4. ``install``: both files replaced or neither (and never a file this job did not write,
   without ``--force``);
5. ``ledger_rows``: usage at the Batch price, exactly once per part;
6. the record says what was written (its hashes: the next fetch may replace it), and
   ``summary`` what happened.

So fetching twice gives byte-identical files, and an interrupted fetch leaves the previous
files (or none) until a repeat completes them.

Exit codes: 0 every request answered; 4 some failed or were not processed; 75 the job is
still running; 2 not fully submitted.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from deepseek_cli.batch.remote.client import open_api, refresh, settings_for
from deepseek_cli.batch.remote.convert import Converter
from deepseek_cli.batch.remote.downloads import download, needs_download
from deepseek_cli.batch.remote.install import install, new_file
from deepseek_cli.batch.remote.jobs import JobStore, RemoteJob
from deepseek_cli.batch.remote.ledger_rows import record_usage
from deepseek_cli.batch.remote.summary import Tally, summary
from deepseek_cli.batch.writer import OutputChoice
from deepseek_cli.errors import CliError, ExitCode, UsageError
from deepseek_cli.render import remote as show
from deepseek_cli.timestamps import utc_iso


class NotFinished(CliError):
    """Parts are still running: nothing to fetch yet (exit 75, try again later)."""

    exit_code = ExitCode.TEMPFAIL


class FetchedWithErrors(CliError):
    exit_code = ExitCode.PARTIAL


@dataclass(frozen=True)
class FetchOptions:
    job: str
    files: OutputChoice = field(default_factory=OutputChoice)
    force: bool = False
    json_output: bool = False
    config: Path | None = None


def fetch(options: FetchOptions) -> None:
    store = JobStore(os.environ)
    job = store.find(options.job)
    with store.locked(job.id, "fetch"):
        job = store.load(job.id)
        output, errors = _paths(job, options)
        settings = settings_for(job, options.config)
        _ready(job, running_too=False)
        # A finished job whose files are here already is fetched again without the network.
        needs_api = not job.finished or any(needs_download(store, job, p) for p in job.parts)
        api = open_api(settings, job.base_url) if needs_api else None
        try:
            if api is not None:
                job = refresh(store, api, job, locked=True)
            _ready(job, running_too=True)
            downloads = {part.index: download(store, api, job, part) for part in job.parts}
        finally:
            if api is not None:
                api.close()
        tally = Tally()
        with contextlib.ExitStack() as cleanup:  # the new files, unless installed
            out = new_file(output)
            cleanup.callback(out.discard)
            err = new_file(errors)
            cleanup.callback(err.discard)
            converter = Converter(settings, job, options.files.fmt, tally)
            rows = [
                converter.part(store, part, downloads[part.index], out, err) for part in job.parts
            ]
            install(job, out, output, err, errors, force=options.force)
        record_usage(settings, rows, tally)
        job.fetched = {
            "at": utc_iso(),
            "format": options.files.fmt,
            "output": str(output.resolve()),
            "output_sha256": out.sha256,
            "errors": str(errors.resolve()),
            "errors_sha256": err.sha256 if err.size else None,
            "succeeded": tally.succeeded,
            "failed": tally.failed,
            "not_processed": tally.not_processed,
        }
        store.save(job)
    show.fetched(summary(job, tally, output, errors, err.size > 0), as_json=options.json_output)
    problems = tally.problems()
    if problems is not None:
        raise FetchedWithErrors(problems, f"see {errors}")


def _paths(job: RemoteJob, options: FetchOptions) -> tuple[Path, Path]:
    if options.files.output is None and job.input_path == "<stdin>":
        raise UsageError(f"job {job.id} was submitted from stdin: pass -o OUTPUT")
    output, errors = options.files.paths(
        job.input_path, why_a_file="fetch writes files (atomically)"
    )
    if output.resolve() == errors.resolve():
        raise UsageError("the output and errors files are the same file")
    return output, errors


def _ready(job: RemoteJob, *, running_too: bool) -> None:
    missing = [p for p in job.parts if p.batch_id is None and not p.local_cancel]
    if missing:
        raise UsageError(
            f"job {job.id} was not fully submitted ({len(missing)} part(s) have no batch)",
            "run the same `deepseek batch submit` command again to finish it, or "
            f"`deepseek batch cancel {job.id}`",
        )
    if not running_too:
        return
    running = [p for p in job.parts if not p.terminal]
    if running:
        total, completed, failed = job.counts()
        states = ", ".join(sorted({p.status for p in running}))
        raise NotFinished(
            f"job {job.id} is still running: {len(running)} of {len(job.parts)} part(s) "
            f"{states}, {completed + failed:,}/{total:,} requests done",
            f"wait for it: deepseek batch status {job.id} --wait",
        )
