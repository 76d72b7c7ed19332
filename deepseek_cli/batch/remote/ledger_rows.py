"""The usage-ledger rows of a fetched job: one per answered (or failed) request, once.

Why per part: a part is one provider batch, and its batch id is what makes recording
idempotent. Each part's rows go in with one transaction that first checks for that batch id
(``ledger.insert_once``), so fetching again, or two fetches at once, never counts a request
twice, and a crash leaves all of a part's rows or none. The rows are dated when the provider
answered (not when we fetched) and priced at the Batch price by the converter. A ledger that
cannot be written warns and does not fail the fetch: the records are what the user came for,
and the next fetch records the usage.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from deepseek_cli.batch.remote.jobs import RemoteJob
from deepseek_cli.batch.remote.summary import Tally
from deepseek_cli.config.settings import Settings
from deepseek_cli.ledger import store as ledger
from deepseek_cli.render import stderr as say


@dataclass
class PartRows:
    batch_id: str
    rows: list[ledger.LedgerRow] = field(default_factory=list)


def site_of(job: RemoteJob, log_prompts: bool) -> ledger.CallSite:
    """Rows name the profile, provider and region the job was submitted with."""
    return ledger.CallSite("batch", job.profile, job.provider, job.region, log_prompts)


def record_usage(settings: Settings, parts: list[PartRows], tally: Tally) -> None:
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
