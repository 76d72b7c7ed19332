"""``batch submit``: input lines -> provider Batch files -> uploads -> batches, crash-safe.

The order is what makes it safe to run again after any failure or kill (RELIABILITY J1):

1. settings, key and refusals first (exit 78 or 2 before the input is read);
2. the same validation as ``batch run`` (exit 65 with line numbers, nothing sent);
3. every line planned exactly as ``batch run`` plans it (catalog, profile defaults, flags,
   per-line options, ``backends.params``), written as a provider Batch line
   ``{custom_id, method, url, body}`` into part files in a private staging directory: one
   model per file (the provider rejects mixed files with ``mismatched_model``), a new file
   before one would pass ``--max-lines`` (50,000) or ``--max-bytes`` (100 MB). Thinking is
   set explicitly on hybrid models: v4 models think by default and thinking is billed;
4. the job is identified by a fingerprint of what would be sent (part hashes, endpoint host,
   window). A job with the same fingerprint is the same job: running the command again
   finishes an interrupted submission, or just prints the job id of a finished one (``--new``
   submits again on purpose);
5. the record is written **before** the first call, then after every call: upload (file id),
   intent to create (``create_sent``), create (batch id). A part whose create may have been
   sent is first looked for among the provider's batches (by ``metadata.local_job_id`` and
   part number, or its input file id) and adopted, so a kill between create and its answer
   never makes a second billed batch. An upload whose answer was lost is simply uploaded
   again (an unused file costs nothing; the files API has no metadata to find it by).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from deepseek_cli.batch import eligibility
from deepseek_cli.batch.input.grammar import RequestLine
from deepseek_cli.batch.input.scan import MAX_LINE_BYTES, iter_lines, scan
from deepseek_cli.batch.input.source import InputSource, check_input
from deepseek_cli.batch.planner import Planned, Planner
from deepseek_cli.batch.remote.client import find_batch, open_api
from deepseek_cli.batch.remote.jobs import JobStore, Part, RemoteJob, job_view, new_job_id
from deepseek_cli.config.settings import RequestFlags, Settings, load
from deepseek_cli.errors import ApiError, InputDataError, UsageError
from deepseek_cli.render import remote as show
from deepseek_cli.render import stderr as say
from deepseek_cli.safefile import AtomicWriter, file_sha256
from deepseek_cli.timestamps import utc_iso

MAX_LINES = 50_000
MAX_BYTES = 100 * 1024 * 1024
SUBMIT_LOCK = "submit"
_WINDOW_UNITS = {"h": 1, "d": 24}
# Fields that make no sense in a Batch body (the provider answers each line once, whole).
_NOT_IN_BODY = ("stream", "stream_options")


@dataclass(frozen=True)
class SubmitOptions:
    input: str
    window: str = "24h"
    name: str | None = None
    max_lines: int = MAX_LINES
    max_bytes: int = MAX_BYTES
    max_line_bytes: int = MAX_LINE_BYTES
    new: bool = False
    json_output: bool = False


def check_window(window: str) -> str:
    """``24h`` or ``7d`` style, sent as hours (the form every Batch API takes); DashScope
    documents 24 h to 336 h (14 days)."""
    text = window.strip().lower()
    if len(text) >= 2 and text[:-1].isdigit() and text[-1] in _WINDOW_UNITS:
        hours = int(text[:-1]) * _WINDOW_UNITS[text[-1]]
        if 24 <= hours <= 336:
            return f"{hours}h"
    raise UsageError(f"--window must be a duration from 24h to 336h (or 1d to 14d), not '{window}'")


def submit(flags: RequestFlags, options: SubmitOptions) -> None:
    settings = load(flags, os.environ)
    profile = settings.profile
    eligibility.check_profile(profile)
    window = check_window(options.window)
    check_input(options.input)
    store = JobStore(os.environ)
    staging = store.staging_dir()
    try:
        built = _build_parts(settings, options, staging)
        job = _adopt_or_create(store, settings, options, window, staging, built)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with store.locked(job.id, "submitting it"):
        job = store.load(job.id)
        if not job.submitted:
            _send(store, settings, job)
    show.submitted(job_view(job), requests=job.requests, as_json=options.json_output)


@dataclass
class _Built:
    parts: list[Part]
    input_sha256: str
    input_bytes: int
    requests: int


class _PartWriter:
    """The open part file of one model (private, whole or absent); the caller rolls over
    to a new one at the line and byte limits."""

    def __init__(self, part: Part, staging: Path) -> None:
        self.part = part
        self.file = AtomicWriter(staging / part.file)
        self.closed = False

    def write(self, data: bytes, input_line: int) -> None:
        self.file.write(data)
        self.part.lines += 1
        self.part.bytes += len(data)
        self.part.add_line(input_line)

    def close(self) -> None:
        self.file.replace()
        self.part.sha256 = self.file.sha256
        self.closed = True

    def discard(self) -> None:
        self.file.discard()
        self.closed = True


def _build_parts(settings: Settings, options: SubmitOptions, staging: Path) -> _Built:
    try:
        source = InputSource(
            options.input, spool_dir=staging, max_line_bytes=options.max_line_bytes
        )
    except OSError as exc:
        raise UsageError(f"cannot read {options.input}: {exc.strerror or exc}") from None
    try:
        found = scan(source, options.max_line_bytes)
        if found.bad_lines:
            raise InputDataError(found.message(), "fix those lines and submit again")
        if not found.valid:
            raise InputDataError(f"{source.name}: no requests in the input, nothing sent")
        planner = Planner(settings, say.notice)
        parts: list[Part] = []
        open_parts: dict[str, _PartWriter] = {}
        checked: set[str] = set()
        problems: list[str] = []
        try:
            for parsed in iter_lines(source, found, options.max_line_bytes):
                if not isinstance(parsed, RequestLine):
                    continue  # cannot happen after a clean scan; never sent anyway
                try:
                    planned = planner.plan(parsed)
                except UsageError as exc:
                    problems.append(f"{source.name}:{parsed.line}: {exc.message}")
                    continue
                if planned.model not in checked:
                    checked.add(planned.model)
                    eligibility.check_model(settings.profile, planned.model)
                    if warning := eligibility.unlisted_warning(settings.profile, planned.model):
                        say.warning(warning)
                data = _batch_line(parsed, planned, planner)
                if len(data) > options.max_bytes:
                    raise InputDataError(
                        f"{source.name}:{parsed.line}: the request is {len(data):,} bytes, more "
                        f"than one batch file may hold ({options.max_bytes:,})"
                    )
                writer = open_parts.get(planned.model)
                if writer is not None and (
                    writer.part.lines + 1 > options.max_lines
                    or writer.part.bytes + len(data) > options.max_bytes
                ):
                    writer.close()
                    writer = None
                if writer is None:
                    index = len(parts) + 1
                    part = Part(index, planned.model, f"part-{index:03d}.jsonl", 0, 0, "")
                    parts.append(part)
                    writer = open_parts[planned.model] = _PartWriter(part, staging)
                writer.write(data, parsed.line)
            for writer in open_parts.values():
                if not writer.closed:
                    writer.close()
        finally:
            for writer in open_parts.values():
                if not writer.closed:
                    writer.discard()  # the whole staging directory goes anyway
        if problems:
            more = f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
            raise InputDataError(
                f"{len(problems)} line(s) cannot run as a batch, nothing sent: "
                + "; ".join(problems[:10])
                + more
            )
        digest, size = _hash(source)
        return _Built(parts, digest, size, found.valid)
    finally:
        source.close()


def _hash(source: InputSource) -> tuple[str, int]:
    """The input's SHA-256 and size (the record says exactly what was submitted)."""
    with source.open() as fh:
        # A buffered binary file either way (the input file or the stdin spool).
        digest = file_sha256(cast(io.BufferedIOBase, fh))
        return digest, fh.tell()


def _batch_line(spec: RequestLine, planned: Planned, planner: Planner) -> bytes:
    """The provider Batch line: every option in the body, thinking explicit where it can be."""
    params = {k: v for k, v in planned.params.items() if k not in _NOT_IN_BODY}
    info = planned.info
    provider = planner.provider
    if provider == "dashscope" and "enable_thinking" not in params:
        if info is not None and info.thinking == "hybrid":
            # Said outright: v4 models think by default, and thinking tokens are billed.
            thinking = planned.request.thinking
            params["enable_thinking"] = info.thinking_default if thinking is None else thinking
        elif info is None and planned.request.thinking is None:
            planner.say_once(
                f"{planned.model} is not in the catalog: thinking is left to the provider's "
                "default (thinking tokens are billed; --think/--no-think sets it)"
            )
    body: dict[str, Any] = {
        "model": planned.model,
        "messages": [m.to_wire() for m in planned.request.messages],
        **params,
    }
    # As the real-time backends send them: the tools only when there are some.
    if planned.request.tools:
        body["tools"] = list(planned.request.tools)
        if planned.request.tool_choice is not None:
            body["tool_choice"] = planned.request.tool_choice
    line = {
        "custom_id": spec.id,
        "method": "POST",
        "url": eligibility.endpoint_for(planned.model),
        "body": body,
    }
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _fingerprint(settings: Settings, window: str, parts: list[Part]) -> str:
    """Same requests to the same service = same job (names and times do not count)."""
    hasher = hashlib.sha256()
    hasher.update(f"{settings.profile.base_url}\n{window}\n".encode())
    for part in parts:
        hasher.update(f"{part.model}\n{part.sha256}\n".encode())
    return hasher.hexdigest()


def _adopt_or_create(
    store: JobStore,
    settings: Settings,
    options: SubmitOptions,
    window: str,
    staging: Path,
    built: _Built,
) -> RemoteJob:
    fingerprint = _fingerprint(settings, window, built.parts)
    # One submit at a time decides "same job or new job" (the calls happen outside this lock).
    with store.lock(SUBMIT_LOCK, wait=True):
        existing = None if options.new else store.with_fingerprint(fingerprint)
        if existing is not None:
            if existing.submitted:
                say.notice(
                    f"this input was already submitted as job {existing.id} (same requests, "
                    "same service); use --new to submit it again"
                )
            else:
                say.notice(f"finishing the interrupted submission of job {existing.id}")
            return existing
        job_id = new_job_id()
        while store.record_path(job_id).exists() or store.job_dir(job_id).exists():
            job_id = new_job_id()
        profile = settings.profile
        job = RemoteJob(
            id=job_id,
            created_at=utc_iso(),
            input_path="<stdin>" if options.input == "-" else str(Path(options.input).resolve()),
            input_sha256=built.input_sha256,
            input_bytes=built.input_bytes,
            requests=built.requests,
            profile=profile.name,
            provider=profile.provider,
            region=profile.region,
            base_url=profile.base_url,
            endpoint=eligibility.endpoint_for(built.parts[0].model),
            window=window,
            fingerprint=fingerprint,
            name=options.name,
            parts=built.parts,
        )
        for leftover in staging.iterdir():
            if not leftover.name.startswith("part-"):
                leftover.unlink()  # the stdin spool, if any
        staging.rename(store.job_dir(job_id))
        store.save(job)  # before any call: the intent is on disk
        return job


def _send(store: JobStore, settings: Settings, job: RemoteJob) -> None:
    api = open_api(settings, job.base_url)
    try:
        count = len(job.parts)
        for part in job.parts:
            if part.batch_id is not None or part.local_cancel:
                continue
            if part.file_id is None:
                uploaded = api.upload(store.job_dir(job.id) / part.file, f"{job.id}-{part.file}")
                part.file_id = str(uploaded["id"])
                store.save(job)
            if part.create_sent:
                found = find_batch(api, job, part)
                if found is not None:
                    part.take(found)
                    store.save(job)
                    continue
            part.create_sent = True
            store.save(job)
            metadata = {
                "ds_name": job.name or f"deepseek-cli {job.id}",
                "ds_description": f"deepseek-cli job {job.id}, part {part.index} of {count}",
                "local_job_id": job.id,
                "local_part": str(part.index),
            }
            try:
                created = api.create(
                    part.file_id, eligibility.endpoint_for(part.model), job.window, metadata
                )
            except ApiError as exc:
                if not exc.retryable:
                    raise
                # The create may have reached the provider and only its answer was lost.
                found = find_batch(api, job, part)
                if found is None:
                    exc.hint = (exc.hint + "; " if exc.hint else "") + (
                        "run the same command again: it resumes without creating a batch twice"
                    )
                    raise
                created = found
            part.take(created)
            store.save(job)
    finally:
        api.close()
