"""``batch fetch``: the provider's result files -> the records ``batch run`` writes.

Why it is built this way:

- **Same shapes.** Each provider line ``{id, custom_id, response{status_code, request_id,
  body}, error}`` becomes the record ``batch run`` would have written for that id (through
  ``batch.records``, with ``--format native`` or ``openai``), with the provider's error codes
  mapped by ``backends.error_map`` like any other call. Downstream tools cannot tell a fetched
  file from a local run's, except that ``latency_ms`` is unknown (null).
- **Merged by ``custom_id``, never by order** (RELIABILITY J3): a part's output file wins
  over its error file; an id that is in neither (the batch expired, was cancelled, or failed
  validation) gets an error record of kind ``not_processed``, so, as after ``batch run``,
  every input id is in exactly one of the two files, and the count is reported. Validation
  errors name the input line they came from (the part file maps the provider's line back).
- **Idempotent.** Downloads land in the job directory (complete or not at all), the files
  are rebuilt from them and replaced atomically, and nothing in a record depends on when
  it was fetched (costs use the price in force when the provider answered), so fetching
  twice gives byte-identical files and an interrupted fetch leaves the previous files (or
  none) until a repeat completes them. An existing file this job did not write is not
  replaced without ``--force``: it may hold results paid for elsewhere.
- **Ledger exactly once.** Each part's rows go in with one transaction that first checks
  for that batch id (``ledger.insert_once``), at the Batch price (half the catalog's
  real-time price; unknown stays unknown).

Exit codes: 0 every request answered; 4 some failed or were not processed; 75 the job is
still running (try again later, or ``batch status JOB --wait``); 2 not fully submitted.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from deepseek_cli.backends.error_map import map_error
from deepseek_cli.backends.openai_compat import usage_from_openai
from deepseek_cli.batch import records
from deepseek_cli.batch.input import read_lines
from deepseek_cli.batch.job import default_output
from deepseek_cli.batch.remote.eligibility import BATCH_PRICE_FACTOR
from deepseek_cli.batch.remote.jobs import JobStore, Part, RemoteJob, now_iso
from deepseek_cli.batch.remote.status import open_api, refresh, settings_for
from deepseek_cli.batch.writer import MAX_RECORD_BYTES, default_errors_path
from deepseek_cli.catalog.models import Catalog, load_catalog
from deepseek_cli.catalog.pricing import Cost, cost_of, price_at
from deepseek_cli.config.settings import Settings
from deepseek_cli.conversation import Reply
from deepseek_cli.errors import (
    ApiError,
    CliError,
    ExitCode,
    InvalidRequestError,
    LockedError,
    NetworkError,
    TruncatedError,
    UsageError,
)
from deepseek_cli.events import Usage
from deepseek_cli.ledger import store as ledger
from deepseek_cli.render import remote as show
from deepseek_cli.render import stderr as say
from deepseek_cli.safefile import fsync_dir

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class NotFinished(CliError):
    """Parts are still running: nothing to fetch yet (exit 75, try again later)."""

    exit_code = ExitCode.TEMPFAIL


class FetchedWithErrors(CliError):
    exit_code = ExitCode.PARTIAL


class NotProcessed(ApiError):
    """The provider never answered this request (the batch expired, was cancelled, or
    failed validation): an error record, not an exception anyone raises."""

    kind = "not_processed"
    what = "not processed"


@dataclass(frozen=True)
class FetchOptions:
    job: str
    output: Path | None = None
    errors: Path | None = None
    fmt: str = "native"
    force: bool = False
    json_output: bool = False
    config: Path | None = None


@dataclass
class Tally:
    succeeded: int = 0
    failed: int = 0
    not_processed: int = 0
    unknown_ids: int = 0
    unreadable: int = 0
    cost: float = 0.0
    currency: str | None = None
    cost_known: bool = True
    ledger_new: int = 0
    ledger_already: int = 0
    validation: list[dict[str, Any]] = field(default_factory=list)

    def add_cost(self, cost: Cost | None) -> None:
        if cost is None:
            self.cost_known = False
            return
        if self.currency not in (None, cost.currency):
            self.cost_known = False
        self.currency = cost.currency
        self.cost += cost.amount


def fetch(options: FetchOptions) -> None:
    store = JobStore(os.environ)
    job = store.find(options.job)
    with store.locked(job.id, "fetch"):
        job = store.load(job.id)
        output, errors = _paths(job, options)
        settings = settings_for(job, options.config)
        _ready(job, running_too=False)
        # A finished job whose files are here already is fetched again without the network.
        needs_api = not job.finished or any(_needs_download(p, store, job) for p in job.parts)
        api = open_api(settings, job.base_url) if needs_api else None
        try:
            if api is not None:
                job = refresh(store, api, job, locked=True)
            _ready(job, running_too=True)
            downloads = {part.index: _download(store, api, job, part) for part in job.parts}
        finally:
            if api is not None:
                api.close()
        tally = Tally()
        out, err = _Out(output), _Out(errors)
        try:
            converter = _Converter(settings, job, options.fmt, tally)
            rows = [
                converter.part(store, part, downloads[part.index], out, err) for part in job.parts
            ]
            out.finish()
            err.finish()
            _install(job, out, output, err, errors, force=options.force)
        finally:
            out.discard()
            err.discard()
        _record_usage(settings, rows, tally)
        job.fetched = {
            "at": now_iso(),
            "format": options.fmt,
            "output": str(output.resolve()),
            "output_sha256": out.sha256,
            "errors": str(errors.resolve()),
            "errors_sha256": err.sha256 if err.count else None,
            "succeeded": tally.succeeded,
            "failed": tally.failed,
            "not_processed": tally.not_processed,
        }
        store.save(job)
    show.fetched(_summary(job, tally, output, errors, err.count > 0), as_json=options.json_output)
    if tally.failed or tally.not_processed:
        parts = []
        if tally.failed:
            parts.append(f"{tally.failed:,} request(s) failed")
        if tally.not_processed:
            parts.append(f"{tally.not_processed:,} were not processed")
        raise FetchedWithErrors(" and ".join(parts), f"see {errors}")


def _paths(job: RemoteJob, options: FetchOptions) -> tuple[Path, Path]:
    if options.output is not None and str(options.output) == "-":
        raise UsageError("-o - is not supported: fetch writes files (atomically)")
    if options.output is None:
        if job.input_path == "<stdin>":
            raise UsageError(f"job {job.id} was submitted from stdin: pass -o OUTPUT")
        output = default_output(job.input_path)
    else:
        output = options.output
    errors = options.errors or default_errors_path(output)
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


# ------------------------------------------------------------------------------------------
# Downloads


def _cache_name(part: Part, kind: str, file_id: str) -> str:
    return f"{part.file.removesuffix('.jsonl')}.{kind}.{_SAFE.sub('_', file_id)}.jsonl"


def _result_files(store: JobStore, job: RemoteJob, part: Part) -> Iterator[tuple[str, str, Path]]:
    for kind, key in (("output", "output_file_id"), ("errors", "error_file_id")):
        file_id = part.remote.get(key)
        if file_id:
            yield kind, str(file_id), store.job_dir(job.id) / _cache_name(part, kind, str(file_id))


def _needs_download(part: Part, store: JobStore, job: RemoteJob) -> bool:
    return any(not path.is_file() for _, _, path in _result_files(store, job, part))


def _download(store: JobStore, api: Any, job: RemoteJob, part: Part) -> dict[str, Path]:
    """The part's result files, downloaded once into the job directory."""
    found: dict[str, Path] = {}
    for kind, file_id, path in _result_files(store, job, part):
        if not path.is_file():
            expected = None
            with contextlib.suppress(InvalidRequestError):
                expected = api.file_info(str(file_id)).get("bytes")
            size = api.download(str(file_id), path)
            if isinstance(expected, int) and expected > 0 and size != expected:
                path.unlink(missing_ok=True)
                raise NetworkError(
                    f"the download of {file_id} stopped at {size:,} of {expected:,} bytes",
                    hint="fetch again",
                )
        found[kind] = path
    return found


# ------------------------------------------------------------------------------------------
# Conversion


class _Out:
    """A records file being built next to its destination (0600, fsync'd, then renamed)."""

    def __init__(self, dest: Path) -> None:
        parent = dest.resolve().parent
        if not parent.is_dir():
            raise UsageError(f"cannot write {dest}: no directory {parent}")
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=parent)
        os.fchmod(fd, 0o600)
        self.tmp = Path(name)
        self.handle: IO[bytes] = os.fdopen(fd, "wb")
        self.hasher = hashlib.sha256()
        self.count = 0

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.hasher.update(data)
        self.count += 1

    def finish(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()

    @property
    def sha256(self) -> str:
        return self.hasher.hexdigest()

    def discard(self) -> None:
        if not self.handle.closed:
            self.handle.close()
        self.tmp.unlink(missing_ok=True)


@dataclass
class _PartRows:
    batch_id: str
    rows: list[ledger.LedgerRow] = field(default_factory=list)


class _Converter:
    def __init__(
        self,
        settings: Settings,
        job: RemoteJob,
        fmt: str,
        tally: Tally,
        catalog: Catalog | None = None,
    ) -> None:
        self.settings = settings
        self.job = job
        self.fmt = fmt
        self.tally = tally
        self.catalog = catalog or load_catalog()
        self.log_prompts = settings.log_prompts

    def part(
        self, store: JobStore, part: Part, files: dict[str, Path], out: _Out, err: _Out
    ) -> _PartRows:
        ids, prompts = self._part_ids(store.job_dir(self.job.id) / part.file)
        wanted = set(ids)
        seen: set[str] = set()
        rows = _PartRows(part.batch_id or "")
        for kind in ("output", "errors"):
            path = files.get(kind)
            if path is None:
                continue
            for obj in self._lines(path):
                item_id = obj.get("custom_id")
                if not isinstance(item_id, str) or item_id not in wanted:
                    self.tally.unknown_ids += 1
                    continue
                if item_id in seen:
                    continue
                seen.add(item_id)
                self._one(part, obj, out, err, rows, prompts.get(item_id))
        self._missing(part, [i for i in ids if i not in seen], ids, err)
        return rows

    def _part_ids(self, path: Path) -> tuple[list[str], dict[str, str]]:
        """The ids the part asked for, in order (and their prompts when the ledger logs them)."""
        ids: list[str] = []
        prompts: dict[str, str] = {}
        with path.open("rb") as fh:
            for _, raw in read_lines(fh, MAX_RECORD_BYTES):
                if raw is None or not raw.strip():
                    continue
                line = json.loads(raw)
                ids.append(line["custom_id"])
                if self.log_prompts:
                    messages = line.get("body", {}).get("messages") or []
                    users = [m.get("content") for m in messages if m.get("role") == "user"]
                    if users and isinstance(users[-1], str):
                        prompts[line["custom_id"]] = users[-1]
        return ids, prompts

    def _lines(self, path: Path) -> Iterator[dict[str, Any]]:
        with path.open("rb") as fh:
            for _, raw in read_lines(fh, MAX_RECORD_BYTES):
                if raw is None or not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                except ValueError:
                    obj = None
                if not isinstance(obj, dict):
                    self.tally.unreadable += 1
                    continue
                yield obj

    def _when(self, part: Part, body: Any) -> datetime:
        """When the provider answered: the response's own time, else the batch's end."""
        created = body.get("created") if isinstance(body, dict) else None
        if not isinstance(created, int | float) or isinstance(created, bool):
            created = None
            for key in ("completed_at", "expired_at", "cancelled_at", "failed_at", "created_at"):
                value = part.remote.get(key)
                if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                    created = value
                    break
        if created is None:
            return datetime.fromisoformat(self.job.created_at.replace("Z", "+00:00"))
        return datetime.fromtimestamp(created, UTC)

    def _cost(self, model: str, usage: Usage | None, when: datetime) -> Cost | None:
        info = self.catalog.find(self.job.provider, model)
        if usage is None or info is None:
            return None
        price = price_at(info, self.settings.provider_info, when, self.settings.profile.currency)
        return cost_of(usage, price, factor=BATCH_PRICE_FACTOR)

    def _one(
        self,
        part: Part,
        obj: dict[str, Any],
        out: _Out,
        err: _Out,
        rows: _PartRows,
        prompt: str | None,
    ) -> None:
        item_id: str = obj["custom_id"]
        raw_response = obj.get("response")
        response: dict[str, Any] = raw_response if isinstance(raw_response, dict) else {}
        body = response.get("body")
        status = response.get("status_code")
        request_id = response.get("request_id") or obj.get("id")
        when = self._when(part, body)
        usage = None
        if isinstance(body, dict) and isinstance(body.get("usage"), dict):
            usage = usage_from_openai(body["usage"])
        error: ApiError | None = None
        reply = Reply(started=0.0)
        choices = body.get("choices") if isinstance(body, dict) else None
        if status == 200 and isinstance(choices, list) and choices:
            choice = choices[0] if isinstance(choices[0], dict) else {}
            raw_message = choice.get("message")
            message: dict[str, Any] = raw_message if isinstance(raw_message, dict) else {}
            answer = message.get("content")
            thinking = message.get("reasoning_content") or message.get("reasoning")
            reply.answer_parts = [answer] if isinstance(answer, str) else []
            reply.thinking_parts = [thinking] if isinstance(thinking, str) else []
            reply.usage = usage
            reply.finish_reason = choice.get("finish_reason")
            reply.request_id = str(request_id) if request_id else None
            if not reply.finish_reason:
                error = TruncatedError("the batch answer has no finish reason", code="truncated")
        else:
            detail = obj.get("error")
            if not isinstance(detail, dict) and isinstance(body, dict):
                detail = body.get("error")
            detail = detail if isinstance(detail, dict) else {}
            code = detail.get("code")
            error = map_error(
                provider=self.job.provider,
                status=status if isinstance(status, int) and status != 200 else None,
                code=str(code) if code is not None else None,
                message=detail.get("message") or "the provider gave no reason",
                request_id=str(request_id) if request_id else None,
            )
        cost = self._cost(part.model, usage, when) if error is None else None
        if error is None:
            self.tally.succeeded += 1
            self.tally.add_cost(cost)
            if self.fmt == "openai":
                out.write(self._passthrough(obj))
            else:
                out.write(records.remote_success(item_id, part.model, reply, cost))
        else:
            self.tally.failed += 1
            if self.fmt == "openai":
                err.write(self._passthrough(obj))
            else:
                err.write(records.failure("native", item_id, error, 1))
        rows.rows.append(
            ledger.call_row(
                command="batch",
                profile=self.job.profile,
                provider=self.job.provider,
                region=self.job.region,
                model=part.model,
                outcome="ok" if error is None else error.kind,
                reply=reply,
                cost=cost,
                attempts=1,
                log_prompts=self.log_prompts,
                prompt=prompt,
                request_id=str(request_id) if request_id else None,
                batch_id=part.batch_id,
                timed=False,
                ts=ledger.ledger_time(when),
            )
        )

    @staticmethod
    def _passthrough(obj: dict[str, Any]) -> bytes:
        """The provider's line as ``--format openai`` records are written (id field first)."""
        return records.encode(
            {
                "custom_id": obj["custom_id"],
                "id": obj.get("id"),
                "response": obj.get("response"),
                "error": obj.get("error"),
            }
        )

    def _missing(self, part: Part, missing: list[str], ids: list[str], err: _Out) -> None:
        if not missing:
            return
        by_line: dict[str, dict[str, Any]] = {}
        for found in part.validation_errors():
            line = found["line"]
            if line is not None and 1 <= line <= len(ids):
                by_line.setdefault(ids[line - 1], found)
            shown = dict(found, part=part.index, batch_id=part.batch_id)
            self.tally.validation.append(shown)
        state = part.status
        reasons = {
            "expired": ("batch_expired", "the batch expired before this request ran"),
            "cancelled": ("batch_cancelled", "the batch was cancelled before this request ran"),
            "failed": ("batch_failed", "the batch failed validation"),
        }
        default_code, default_text = reasons.get(
            state, ("batch_" + state, f"the batch ended ({state}) without an answer")
        )
        for item_id in missing:
            code, text = default_code, default_text
            problem = by_line.get(item_id)
            if problem is not None:
                code = str(problem["code"] or default_code)
                where = f" (input line {problem['input_line']})" if problem["input_line"] else ""
                text = f"rejected by batch validation: {problem['message']}{where}"
            elif state == "failed" and part.validation_errors():
                text += " (see the errors of the other lines of its part)"
            self.tally.not_processed += 1
            if self.fmt == "openai":
                digest = hashlib.sha256(f"{part.batch_id}\n{item_id}".encode()).hexdigest()
                err.write(
                    records.encode(
                        {
                            "custom_id": item_id,
                            "id": f"batch_req_{digest[:32]}",
                            "response": None,
                            "error": {"code": code, "message": text},
                        }
                    )
                )
            else:
                err.write(records.failure("native", item_id, NotProcessed(text, code=code), 0))


# ------------------------------------------------------------------------------------------
# Installing the files and the usage


def _existing_sha(path: Path) -> str | None:
    """The hash of the file now at ``path`` (None when there is none); exit 75 when a
    ``batch run`` holds it (its lock is on the file itself)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(
                f"{path} is in use by a batch job", "wait for it to finish, or use -o"
            ) from None
        hasher = hashlib.sha256()
        with os.fdopen(os.dup(fd), "rb") as fh:
            while chunk := fh.read(1 << 20):
                hasher.update(chunk)
        return hasher.hexdigest()
    finally:
        os.close(fd)


def _ours(job: RemoteJob, which: str, path: Path) -> str | None:
    """The hash of the file this job's last fetch wrote at ``path``, if it wrote one there."""
    done = job.fetched or {}
    if done.get(which) == str(path.resolve()):
        value = done.get(f"{which}_sha256")
        return str(value) if value else None
    return None


def _install(
    job: RemoteJob, out: _Out, output: Path, err: _Out, errors: Path, *, force: bool
) -> None:
    """Both files replaced, or neither: every check comes before the first rename."""
    plans = [(out, output, "output", True), (err, errors, "errors", err.count > 0)]
    for new, dest, which, keep in plans:
        existing = _existing_sha(dest)
        allowed = {_ours(job, which, dest), new.sha256 if keep else None} - {None}
        if existing is not None and existing not in allowed and not force:
            raise UsageError(
                f"{dest} exists and was not written by this job's last fetch (it may hold "
                "other results)",
                "use --force to replace it, or -o another file",
            )
    for new, dest, _, keep in plans:
        if keep:
            new.tmp.replace(dest)
        else:
            dest.unlink(missing_ok=True)  # no errors now: no stale errors file either
    fsync_dir(output.resolve().parent)
    if errors.resolve().parent != output.resolve().parent:
        fsync_dir(errors.resolve().parent)


def _record_usage(settings: Settings, parts: list[_PartRows], tally: Tally) -> None:
    todo = [p for p in parts if p.rows and p.batch_id]
    if not todo:
        return
    try:
        conn = ledger.connect(settings.ledger_path)
        try:
            for part in todo:
                if ledger.insert_once(conn, part.rows, part.batch_id):
                    tally.ledger_new += len(part.rows)
                else:
                    tally.ledger_already += len(part.rows)
        finally:
            conn.close()
    except (sqlite3.Error, OSError) as exc:
        say.warning(f"usage not recorded: {exc} (fetch again to record it)")


def _summary(
    job: RemoteJob, tally: Tally, output: Path, errors: Path, has_errors: bool
) -> dict[str, Any]:
    ok = not (tally.failed or tally.not_processed)
    return {
        "job": job.id,
        "name": job.name,
        "status": "completed" if ok else "partial",
        "exit_code": int(ExitCode.OK if ok else ExitCode.PARTIAL),
        "input": job.input_path,
        "output": str(output),
        "errors_file": str(errors) if has_errors else None,
        "total": job.requests,
        "succeeded": tally.succeeded,
        "failed": tally.failed,
        "not_processed": tally.not_processed,
        "unknown_ids": tally.unknown_ids,
        "unreadable_lines": tally.unreadable,
        "parts": {p.index: p.status for p in job.parts},
        "cost": (
            {"amount": round(tally.cost, 8), "currency": tally.currency, "price": "batch"}
            if tally.cost_known and tally.currency is not None
            else None
        ),
        "ledger": {"recorded": tally.ledger_new, "already_recorded": tally.ledger_already},
        "validation_errors": tally.validation,
    }
