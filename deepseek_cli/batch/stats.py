"""Counters of a batch job, shared by the running job, the progress display and the summary.

Why separate: the progress display (in ``render``) reads these and must not depend on the
job; the summary (``--json`` and the final line) is derived from the same numbers, so what
the bar said and what the summary says never disagree. Money is a ``Spend``: the summary's
``cost`` is a total only when every success was priced, in one currency.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from deepseek_cli.batch.budget import Budget
from deepseek_cli.catalog.pricing import Spend


@dataclass
class Stats:
    total: int = 0  # valid ids in the input
    done_before: int = 0  # already recorded by an earlier run
    ok: int = 0
    failed: int = 0  # ids with an error record written by this run
    invalid: int = 0  # unusable input lines recorded by this run
    retries: int = 0
    cut: int = 0  # successes cut off at max_tokens (finish_reason "length")
    attempts: int = 0
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    spend: Spend = field(default_factory=Spend)  # of this run's successes
    budget: Budget | None = None  # --max-cost: its account, shown with the progress
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    @property
    def done(self) -> int:
        return self.done_before + self.ok + self.failed

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        """Items finished per second by this run."""
        elapsed = self.elapsed
        return (self.ok + self.failed) / elapsed if elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        rate = self.rate
        remaining = self.total - self.done
        if remaining <= 0:
            return 0.0
        return remaining / rate if rate > 0 else None

    def summary(self, **extra: Any) -> dict[str, Any]:
        return {
            **extra,
            "total": self.total,
            "done": self.done,
            "done_before": self.done_before,
            "succeeded": self.ok,
            "failed": self.failed,
            "invalid_lines": self.invalid,
            "cut_at_max_tokens": self.cut,
            "retries": self.retries,
            "attempts": self.attempts,
            "input_tokens": self.input_tokens,
            "cached_tokens": self.cached_tokens,
            "output_tokens": self.output_tokens,
            # Null unless every success was priced, in one currency: never a partial sum.
            "cost": self.spend.total_json(),
            "budget": self.budget.to_json() if self.budget is not None else None,
            "elapsed_s": round(self.elapsed, 3),
            "requests_per_s": round(self.rate, 2),
        }
