"""``batch run`` from start to finish: settings, files, validation, resume, the job, the exit.

Why its own module: the command stays glue, and the order of these steps is what makes the
guarantees hold:

1. settings and key first (a config problem exits 78 before any file is touched);
2. lock the output and errors files, repairing a torn last line (a second job exits 75 at
   once, before reading a million input lines);
3. validate the whole input before anything is sent (exit 65 with line numbers, nothing sent,
   and the files this run created are removed again); under ``--max-cost``, check that
   every model it uses has a price in the budget's currency (exit 78) and read what earlier
   runs on the same output spent (``budget``);
4. rebuild the done-set from the files themselves, never from a separate checkpoint that could
   run ahead of them: an input line is done when the output or errors file holds its id's
   record (``recorded``), decided during validation and kept as one bit per line;
5. run the job, then turn how it ended into the summary and the exit code.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import hashlib
import os
import shlex
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from deepseek_cli.backends import Backend, make_backend
from deepseek_cli.batch.budget import Budget, MaxCost, models_to_check, open_budget
from deepseek_cli.batch.input.ids import InputIds, give_back_freed_memory
from deepseek_cli.batch.input.scan import MAX_LINE_BYTES, InputScan, iter_lines, scan
from deepseek_cli.batch.input.source import InputSource, check_input
from deepseek_cli.batch.ledger_feed import LedgerFeed
from deepseek_cli.batch.limits import Limits
from deepseek_cli.batch.planner import Planner
from deepseek_cli.batch.recorded import read_done
from deepseek_cli.batch.scheduler.lifecycle import Job, JobOptions
from deepseek_cli.batch.scheduler.stop_reason import StopReason
from deepseek_cli.batch.stats import Stats
from deepseek_cli.batch.writer import OutputChoice, OutputFiles
from deepseek_cli.config.profiles import Timeouts
from deepseek_cli.config.settings import RequestFlags, Settings, load
from deepseek_cli.errors import (
    ApiError,
    CliError,
    ExitCode,
    InputDataError,
    ServerError,
    UsageError,
)
from deepseek_cli.render import stderr as say
from deepseek_cli.render.progress import make_progress, print_summary

DEFAULT_CONCURRENCY = 8
DEFAULT_MAX_ATTEMPTS = 6


class JobStopped(CliError):
    """The job stopped early and can be resumed; the exit code says why."""

    def __init__(self, message: str, code: ExitCode, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.exit_code = code


@dataclass(frozen=True)
class RunOptions:
    input: str
    files: OutputChoice = field(default_factory=OutputChoice)
    lenient: bool = False
    retry_errors: bool = False
    concurrency: int | None = None
    rpm: int | None = None
    tpm: int | None = None
    max_attempts: int | None = None
    grace: float = 8.0
    max_wait: float | None = None
    outage_budget: float = 600.0
    ramp: float = 10.0
    backoff: float = 1.0
    max_line_bytes: int = MAX_LINE_BYTES
    stream: bool = False
    json_summary: bool = False
    max_cost: MaxCost | None = None


def batch_timeouts(settings: Settings) -> Timeouts:
    """The profile's deadlines, with batch's longer defaults where nothing was configured."""
    return settings.profile.timeouts.for_batch()


def run(flags: RequestFlags, options: RunOptions) -> None:
    """Run (or resume) a batch job; raises a ``CliError`` for every non-zero exit."""
    settings = load(flags, os.environ)
    if options.input == "-" and options.files.output is None:
        raise UsageError("reading the input from stdin needs -o OUTPUT")
    output, errors = options.files.paths(
        options.input, why_a_file="the output must be a file so the job can resume"
    )
    check_input(options.input)
    files = OutputFiles(output, errors)
    files.open()
    for text in files.notices:
        say.notice(text)
    source: InputSource | None = None
    try:
        source, found, before = _read_input(options, files, output)
        batch_id = _batch_id(files, output)
        budget = None
        if options.max_cost is not None:
            models = models_to_check(found, source, options.max_line_bytes)
            budget = open_budget(settings, options.max_cost, models, batch_id)
    except BaseException:
        if source is not None:
            source.close()
        files.discard_unused()  # nothing happened: leave no new empty files behind
        files.close()
        raise
    try:
        _execute(
            settings, options, files, (source, found, before), (output, errors), batch_id, budget
        )
    finally:
        files.close()
        source.close()


@dataclass
class Before:
    """What earlier runs left: input lines recorded as unusable, unreadable records."""

    recorded_lines: set[int]
    unreadable: int


def _read_input(
    options: RunOptions, files: OutputFiles, output: Path
) -> tuple[InputSource, InputScan, Before]:
    """Open the input (spooling stdin), read back the records of earlier runs, and validate
    every line, noting which are done; raises on unusable input."""
    # Also through stdin: ``batch run - -o in.jsonl < in.jsonl`` would append to its input.
    if files.same_file_as(0 if options.input == "-" else Path(options.input)):
        raise UsageError("the input file is also the output or errors file")
    try:
        source = InputSource(
            options.input, spool_dir=output.resolve().parent, max_line_bytes=options.max_line_bytes
        )
    except OSError as exc:
        raise UsageError(f"cannot read {options.input}: {exc.strerror or exc}") from None
    try:
        # --retry-errors clears the errors file later, once the input is known to be usable.
        done = read_done(files, skip_errors=options.retry_errors)
        found = scan(source, options.max_line_bytes, done.recorded.find)
    except BaseException as exc:
        source.close()
        if isinstance(exc, OSError):
            raise UsageError(f"cannot read {options.input}: {exc.strerror or exc}") from None
        raise
    # The digests of the input and of the records have done their work: give their memory
    # back before the job (and the SDK) starts.
    found.ids = InputIds()
    before = Before(done.lines, done.unreadable)
    del done
    give_back_freed_memory()
    if found.bad_lines and not options.lenient:
        source.close()
        raise InputDataError(
            found.message(), "fix those lines, or run with --lenient to record them as errors"
        )
    return source, found, before


def _batch_id(files: OutputFiles, output: Path) -> str:
    """The job's id: its output file's identity (ledger rows and request ids carry it)."""
    st = os.fstat(files.output.fd)
    return _identity_id(output, st.st_dev, st.st_ino)


def batch_id_of(output: Path) -> str | None:
    """The id of the job that writes ``output`` (``None`` while the file does not exist):
    what its ledger rows carry, for a command that reads a finished job's rows."""
    try:
        st = output.stat()
    except FileNotFoundError:
        return None
    return _identity_id(output, st.st_dev, st.st_ino)


def _identity_id(output: Path, dev: int, ino: int) -> str:
    identity = f"{output.resolve()}:{dev}:{ino}"
    return "b" + hashlib.sha256(identity.encode()).hexdigest()[:12]


def _execute(
    settings: Settings,
    options: RunOptions,
    files: OutputFiles,
    read: tuple[InputSource, InputScan, Before],
    paths: tuple[Path, Path],
    batch_id: str,
    budget: Budget | None,
) -> None:
    source, found, before = read
    output, errors = paths
    recorded_lines = before.recorded_lines
    if options.retry_errors:
        files.clear_errors()
    if before.unreadable:
        say.warning(f"{before.unreadable} unreadable line(s) in the output files ignored")

    profile = settings.profile
    defaults = profile.batch_defaults
    concurrency = options.concurrency or defaults.get("concurrency") or DEFAULT_CONCURRENCY
    rpm = options.rpm if options.rpm is not None else defaults.get("rpm")
    tpm = options.tpm if options.tpm is not None else defaults.get("tpm")
    max_attempts = options.max_attempts or defaults.get("max_attempts") or DEFAULT_MAX_ATTEMPTS
    limits = Limits(
        rpm=rpm or None,
        tpm=tpm or None,
        ramp=options.ramp,
        backoff=options.backoff,
        breaker_items=min(3, 2 * concurrency),
    )
    job_options = JobOptions(
        concurrency=concurrency,
        max_attempts=max_attempts,
        limits=limits,
        grace=options.grace,
        max_wait=options.max_wait,
        outage_budget=options.outage_budget,
        force_stream=options.stream,
        fmt=options.files.fmt,
    )
    stats = Stats(total=found.valid, done_before=found.done_lines.count, budget=budget)
    timeouts = batch_timeouts(settings)
    api_key = settings.api_key.value if settings.api_key else None
    backend_profile = dataclasses.replace(profile, timeouts=timeouts)
    progress = make_progress()
    planner = Planner(settings, progress.notice, budget.currency if budget else None)
    feed = LedgerFeed(settings.ledger_path)
    job: Job | None = None
    try:
        if found.valid > found.done_lines.count or found.bad_lines > len(recorded_lines):
            feed.open()
            backend: Backend = make_backend(backend_profile, api_key)
            job = Job(
                settings=settings,
                backend=backend,
                options=job_options,
                files=files,
                lines=iter_lines(source, found, options.max_line_bytes),
                recorded_lines=recorded_lines,
                planner=planner,
                stats=stats,
                progress=progress,
                feed=feed,
                batch_id=batch_id,
                timeouts=timeouts,
                budget=budget,
            )
            _run_loop(job)
    finally:
        stats.ended = time.monotonic()
        progress.close(stats)
        feed.close()
    _finish(job, options, stats, batch_id, output, errors, found.failed_before, found.bad_lines)


def _run_loop(job: Job) -> None:
    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    saved = {signum: signal.getsignal(signum) for signum in handled}
    # The SDK allocates thousands of short-lived objects per request, so the cyclic collector
    # runs constantly, and each full pass walks every module, type and schema loaded at
    # start-up. Freezing those (they live as long as the process) and collecting less often
    # saves ~0.15 ms of CPU per request (measured); garbage cycles are still collected.
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    try:
        asyncio.run(job.run())
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        for signum, handler in saved.items():
            if handler is not None:
                signal.signal(signum, handler)


def _resume_command() -> str:
    return shlex.join(["deepseek", *sys.argv[1:]])


def _finish(
    job: Job | None,
    options: RunOptions,
    stats: Stats,
    batch_id: str,
    output: Path,
    errors: Path,
    failed_before: int,
    bad_lines: int,
) -> None:
    reason = job.stop_reason if job is not None else None
    error = job.stop_error if job is not None else None
    failed = stats.failed + failed_before
    unusable = bad_lines  # recorded as errors (by this run or an earlier one) under --lenient
    had_errors = failed + unusable > 0
    if reason is None:
        status, code = ("partial", ExitCode.PARTIAL) if had_errors else ("completed", ExitCode.OK)
    else:
        status, code = ("interrupted" if reason.interrupted else "stopped"), reason.exit_code
    summary = stats.summary(
        status=status,
        exit_code=int(code),
        batch_id=batch_id,
        input=options.input,
        output=str(output),
        errors_file=str(errors),
    )
    print_summary(summary, stats, as_json=options.json_summary)
    resume = f"run the same command to resume: {_resume_command()}"
    if options.input == "-":
        resume += " (with the same input on stdin)"
    progress_text = f"{stats.done:,}/{stats.total:,} done"
    if reason is None:
        if had_errors:
            parts = [f"{failed:,} item(s) failed"] if failed else []
            if unusable:
                parts.append(f"{unusable:,} input line(s) were unusable")
            raise JobStopped(
                " and ".join(parts),
                ExitCode.PARTIAL,
                f"see {errors}" + (" (--retry-errors runs failed items again)" if failed else ""),
            )
        return
    if reason is StopReason.CRASH and error is not None:
        raise error
    if reason.interrupted:
        raise JobStopped(f"interrupted: {progress_text}", code, resume)
    if reason is StopReason.AUTH and isinstance(error, ApiError):
        error.hint = (
            f"{error.hint + '; ' if error.hint else ''}nothing was recorded for unfinished "
            f"items ({progress_text}); fix it and {resume}"
        )
        raise error
    if reason is StopReason.UNAVAILABLE:
        last = error.message if isinstance(error, ApiError) else "no successful response"
        raise ServerError(
            f"provider unavailable for over {options.outage_budget:g} s ({last}); {progress_text}",
            hint=f"try again later: {resume}",
        )
    if reason is StopReason.TEMPFAIL and isinstance(error, ApiError):
        raise JobStopped(
            f"rate limited: the provider asked to wait {error.retry_after:g} s, more than "
            f"--max-wait {options.max_wait:g} s; {progress_text}",
            ExitCode.TEMPFAIL,
            f"try again later: {resume}",
        )
    if reason is StopReason.OUTPUT and isinstance(error, CliError):
        raise error
    if reason is StopReason.BUDGET and stats.budget is not None:
        raise JobStopped(
            stats.budget.reached_text(stats.total - stats.done),
            code,
            "raise --max-cost to go on (the same command resumes)",
        )
    raise JobStopped(f"batch stopped ({reason}): {progress_text}", code, resume)
