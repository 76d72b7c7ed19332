"""Writing a batch job's records and counting them, and stopping the job when a write fails.

Why one place: an item is done exactly when its record is written, so the counters move
only after a write went through, and after the first failed write (disk full, file size
limit) nothing more is written: the job stops and every item not recorded is redone on
resume.
"""

from __future__ import annotations

from collections.abc import Callable

from deepseek_cli.batch import records
from deepseek_cli.batch.input.grammar import BadLine
from deepseek_cli.batch.stats import Stats
from deepseek_cli.batch.writer import OutFile, OutputError, OutputFiles
from deepseek_cli.catalog.pricing import Cost
from deepseek_cli.conversation import Reply
from deepseek_cli.errors import ApiError


class Results:
    def __init__(
        self,
        files: OutputFiles,
        stats: Stats,
        fmt: str,
        on_write_error: Callable[[OutputError], None],
    ) -> None:
        self.files = files
        self.stats = stats
        self.fmt = fmt
        self._on_write_error = on_write_error
        self.failed = False

    def success(
        self, item_id: str, model: str, reply: Reply, cost: Cost | None, attempts: int
    ) -> None:
        line = records.success(self.fmt, item_id, model, reply, cost, attempts)
        if self._write(self.files.output, line):
            stats = self.stats
            stats.ok += 1
            if reply.finish_reason == "length":
                stats.cut += 1
            if reply.usage is not None:
                stats.input_tokens += reply.usage.input_tokens
                stats.cached_tokens += reply.usage.cached_tokens
                stats.output_tokens += reply.usage.output_tokens
            stats.spend.add(cost)

    def failure(self, item_id: str, error: ApiError, attempts: int) -> None:
        if self._write(self.files.errors, records.failure(self.fmt, item_id, error, attempts)):
            self.stats.failed += 1

    def bad_line(self, bad: BadLine) -> None:
        if self._write(self.files.errors, records.bad_line(self.fmt, bad)):
            self.stats.invalid += 1

    def _write(self, which: OutFile, line: bytes) -> bool:
        if self.failed:
            return False
        try:
            self.files.write(which, line)
        except OutputError as exc:
            self.failed = True
            self._on_write_error(exc)
            return False
        return True
