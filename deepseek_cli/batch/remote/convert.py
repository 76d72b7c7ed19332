"""The provider's result lines -> the records ``batch run`` writes, one part at a time.

Why it is built this way:

- **Same shapes.** Each provider line ``{id, custom_id, response{status_code, request_id,
  body}, error}`` becomes the record ``batch run`` would have written for that id (through
  ``batch.records``, with ``--format native`` or ``openai``). The answer is read by the same
  code that reads a real-time call's (``openai_compat.read_completion``), and the provider's
  error codes are mapped by ``backends.error_map`` like any other call's, so downstream tools
  cannot tell a fetched file from a local run's, except that ``latency_ms`` is unknown (null).
- **Merged by ``custom_id``, never by order** (RELIABILITY J3): a part's output file wins
  over its error file; an id that is in neither (the batch expired, was cancelled, or failed
  validation) gets an error record of kind ``not_processed``, so, as after ``batch run``,
  every input id is in exactly one of the two files. Validation errors name the input line
  they came from (the part file maps the provider's line back).
- **Nothing depends on when it runs**: a cost uses the price in force when the provider
  answered, so converting twice gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deepseek_cli.backends.error_map import map_error
from deepseek_cli.backends.openai_compat import read_completion
from deepseek_cli.batch import records
from deepseek_cli.batch.eligibility import BATCH_PRICE_FACTOR
from deepseek_cli.batch.remote.downloads import ResultKind
from deepseek_cli.batch.remote.jobs import JobStore, Part, RemoteJob
from deepseek_cli.batch.remote.ledger_rows import PartRows, site_of
from deepseek_cli.batch.remote.summary import Tally
from deepseek_cli.batch.writer import MAX_RECORD_BYTES
from deepseek_cli.catalog.models import Catalog
from deepseek_cli.catalog.price_book import PriceBook
from deepseek_cli.catalog.pricing import Cost, cost_of
from deepseek_cli.config.settings import Settings
from deepseek_cli.conversation import Reply
from deepseek_cli.errors import ApiError, TruncatedError
from deepseek_cli.events import Usage
from deepseek_cli.ledger import store as ledger
from deepseek_cli.safefile import AtomicWriter, read_lines

# The batch's own end, for an answer without a time of its own, in order of preference.
_END_KEYS = ("completed_at", "expired_at", "cancelled_at", "failed_at", "created_at")
# Why an id has no answer, by the state its batch ended in.
_UNANSWERED = {
    "expired": ("batch_expired", "the batch expired before this request ran"),
    "cancelled": ("batch_cancelled", "the batch was cancelled before this request ran"),
    "failed": ("batch_failed", "the batch failed validation"),
}


class NotProcessed(ApiError):
    """The provider never answered this request (the batch expired, was cancelled, or
    failed validation): an error record, not an exception anyone raises."""

    kind = "not_processed"
    what = "not processed"


class Converter:
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
        # A test may price against its own catalog; the config's prices still win.
        self.prices = PriceBook(catalog, settings.prices.overrides) if catalog else settings.prices
        self.site = site_of(job, settings.log_prompts)

    def part(
        self,
        store: JobStore,
        part: Part,
        files: dict[ResultKind, Path],
        out: AtomicWriter,
        err: AtomicWriter,
    ) -> PartRows:
        """Write the part's records (answers to ``out``, the rest to ``err``); its ledger rows."""
        ids, prompts = self._part_ids(store.job_dir(self.job.id) / part.file)
        wanted = set(ids)
        seen: set[str] = set()
        rows = PartRows(part.batch_id or "")
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
                if self.site.log_prompts:
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
            for key in _END_KEYS:
                value = part.remote.get(key)
                if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                    created = value
                    break
        if created is None:
            return datetime.fromisoformat(self.job.created_at)
        return datetime.fromtimestamp(created, UTC)

    def _cost(self, model: str, usage: Usage | None, when: datetime) -> Cost | None:
        if usage is None:
            return None
        job = self.job
        price = self.prices.price(
            job.provider, model, job.region, when, self.settings.profile.currency
        )
        return cost_of(usage, price, factor=BATCH_PRICE_FACTOR)

    def _one(
        self,
        part: Part,
        obj: dict[str, Any],
        out: AtomicWriter,
        err: AtomicWriter,
        rows: PartRows,
        prompt: str | None,
    ) -> None:
        item_id: str = obj["custom_id"]
        raw_response = obj.get("response")
        response: dict[str, Any] = raw_response if isinstance(raw_response, dict) else {}
        body = response.get("body")
        status = response.get("status_code")
        given_id = response.get("request_id") or obj.get("id")
        request_id = str(given_id) if given_id else None
        when = self._when(part, body)
        reply = Reply(started=0.0)
        error: ApiError | None = None
        completion = read_completion(body) if status == 200 and isinstance(body, dict) else None
        if completion is not None and completion.choices:
            choice = completion.choices[0]
            reply.answer_parts = [choice.answer] if choice.answer is not None else []
            reply.thinking_parts = [choice.thinking] if choice.thinking is not None else []
            reply.tool_calls = choice.tool_calls
            reply.usage = completion.usage
            reply.finish_reason = choice.finish_reason
            reply.request_id = request_id
            reply.served_model = completion.model
            if not reply.finish_reason:
                error = TruncatedError("the batch answer has no finish reason", code="truncated")
        else:
            error = self._error(obj, body, status, request_id)
        cost = self._cost(part.model, reply.usage, when) if error is None else None
        if error is None:
            self.tally.succeeded += 1
            self.tally.spend.add(cost)
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
        # One attempt (the provider's), dated when it answered, with no timings: the Batch
        # service does not say how long a request took.
        row = self.site.row(
            part.model,
            "ok" if error is None else error.kind,
            reply,
            cost,
            1,
            prompt=prompt,
            request_id=request_id,
            batch_id=part.batch_id,
            timed=False,
            ts=ledger.ledger_time(when),
        )
        rows.rows.append(row)

    def _error(
        self, obj: dict[str, Any], body: Any, status: Any, request_id: str | None
    ) -> ApiError:
        """The provider's error for a line without an answer, as our error class."""
        detail = obj.get("error")
        if not isinstance(detail, dict) and isinstance(body, dict):
            detail = body.get("error")
        detail = detail if isinstance(detail, dict) else {}
        code = detail.get("code")
        return map_error(
            provider=self.job.provider,
            status=status if isinstance(status, int) and status != 200 else None,
            code=str(code) if code is not None else None,
            message=detail.get("message") or "the provider gave no reason",
            request_id=request_id,
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

    def _missing(self, part: Part, missing: list[str], ids: list[str], err: AtomicWriter) -> None:
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
        default_code, default_text = _UNANSWERED.get(
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
