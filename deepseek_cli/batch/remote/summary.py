"""What one ``batch fetch`` found, counted while converting, and the summary it prints.

Why apart from the conversion: the counts are filled by three steps (conversion, the ledger,
the validation report) and read by two (the summary and the exit code), so they are one
object none of those steps owns. The cost follows the one rule for sums (``pricing.Spend``):
the summary names a total only when every answered request was priced, in one currency;
otherwise it says nothing (``null``) rather than a partial sum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepseek_cli.batch.remote.jobs import RemoteJob
from deepseek_cli.catalog.pricing import Spend
from deepseek_cli.errors import ExitCode

if TYPE_CHECKING:
    from deepseek_cli.render.remote import FetchSummary


@dataclass
class Tally:
    succeeded: int = 0
    failed: int = 0
    not_processed: int = 0
    unknown_ids: int = 0
    unreadable: int = 0
    spend: Spend = field(default_factory=Spend)  # of the answered requests only
    ledger_new: int = 0
    ledger_already: int = 0
    validation: list[dict[str, Any]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (self.failed or self.not_processed)

    def problems(self) -> str | None:
        """``3 request(s) failed and 2 were not processed``; None when there were none."""
        found = []
        if self.failed:
            found.append(f"{self.failed:,} request(s) failed")
        if self.not_processed:
            found.append(f"{self.not_processed:,} were not processed")
        return " and ".join(found) or None


def summary(
    job: RemoteJob, tally: Tally, output: Path, errors: Path, has_errors: bool
) -> FetchSummary:
    total = tally.spend.total_json()
    return {
        "job": job.id,
        "name": job.name,
        "status": "completed" if tally.complete else "partial",
        "exit_code": int(ExitCode.OK if tally.complete else ExitCode.PARTIAL),
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
        "cost": {**total, "price": "batch"} if total is not None else None,
        "ledger": {"recorded": tally.ledger_new, "already_recorded": tally.ledger_already},
        "validation_errors": tally.validation,
    }
