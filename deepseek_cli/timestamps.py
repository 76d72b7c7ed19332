"""UTC timestamps as the tool writes them in records and JSON: ``2026-11-30T09:30:00Z``.

One format for everything a user or a script reads (job records, session files, ``--json``
times), whether the moment is now, a ``datetime`` or a provider's epoch seconds. The usage
ledger keeps its own sortable millisecond form (``ledger.store.ledger_time``). Parsing needs
no helper: ``datetime.fromisoformat`` reads ``Z`` since Python 3.11.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def utc_iso(moment: datetime | None = None) -> str:
    """``moment`` (default now) in UTC, to the second, with a ``Z``."""
    when = (moment or datetime.now(UTC)).astimezone(UTC)
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


def epoch_iso(value: Any) -> str | None:
    """Epoch seconds as :func:`utc_iso` writes them; ``None`` for anything that is not a
    positive number (providers send 0 or null for "not yet")."""
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        return None
    return utc_iso(datetime.fromtimestamp(value, UTC))
