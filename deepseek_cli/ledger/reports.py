"""Usage reports over the ledger: calls, tokens and cost by day, model, profile or command.

The report sums what the ledger recorded at call time, and does not re-price anything. The
cost in each row was computed when the call ended, with the price in force then (DeepSeek's
peak/off-peak window and its cache-hit price included), which is what the provider billed;
re-pricing old calls with today's table would be wrong whenever prices change. A call whose
price was unknown (every DashScope call today, any model missing from the catalog) has a NULL
cost: it is counted as *unpriced*, never guessed and never summed as zero. Costs stay split by
currency; adding dollars to yuan means nothing.

Token columns follow the providers' usage objects: input includes the cached (cache-hit)
input tokens, and output includes the reasoning tokens. The cache hit rate is cached / input
tokens; the savings are what each call's cache hits saved against its uncached input price,
recorded with its cost (rows written before ledger schema 3 have none: they add nothing).

Times: the ledger stores UTC ISO timestamps written by ``store.ledger_time``, so range filters are
string comparisons that use the ``ts`` index. ``--by day`` groups by the local calendar day
(SQLite's ``'localtime'``, which follows ``TZ`` like Python does), and a bare date in
``--since``/``--until`` means local midnight, because that is the day a person means.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from deepseek_cli.catalog.pricing import Spend
from deepseek_cli.errors import UsageError
from deepseek_cli.ledger import store as ledger

GROUPS: dict[str, str] = {
    "day": "date(ts, 'localtime')",
    "model": "model",
    "profile": "profile",
    "command": "command",
}
# The same model id at two providers (deepseek-v4-pro on DashScope and on DeepSeek) is two
# models, priced and billed apart: --by model groups by provider and model.
WITH_PROVIDER = ("model",)
# Calls the user ended (Ctrl-C, a closed pipe) are not errors of the provider or the tool.
NOT_ERRORS = ("ok", "output_closed", "interrupted")
# Currencies that always get a CSV column, so a cron job's columns do not depend on the data.
CSV_CURRENCIES = ("USD", "CNY")

_RELATIVE = re.compile(r"^(\d+)\s*([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_when(text: str, *, now: datetime, end: bool = False) -> datetime | None:
    """``7d``/``12h``/``2w`` ago, ``today``, ``yesterday``, ``all``, a date or an ISO time.

    A bare date is local midnight; as an end (``--until``) it means the end of that day, so
    ``--since 2026-11-01 --until 2026-11-01`` is that whole day. Returns an aware datetime, or
    ``None`` for ``all``.
    """
    value = text.strip().lower()
    if value in ("all", ""):
        return None
    local_now = now.astimezone()
    if value in ("today", "yesterday"):
        day = local_now.date() - timedelta(days=1 if value == "yesterday" else 0)
        return _day_bound(day, end)
    if match := _RELATIVE.match(value):
        return now - int(match.group(1)) * _UNITS[match.group(2)]
    try:
        return _day_bound(date.fromisoformat(value), end)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"cannot read the time '{text}'",
            "use 7d, 12h, 2w, today, yesterday, all, 2026-11-01 or 2026-11-01T09:30",
        ) from None
    return moment if moment.tzinfo else moment.astimezone()


def time_range(
    since: str, until: str | None, *, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """``--since``/``--until`` as ``usage`` and ``usage calls`` read them; exit 2 when the end
    is not later than the start."""
    start = parse_when(since, now=now)
    end = parse_when(until, now=now, end=True) if until else None
    if start is not None and end is not None and end <= start:
        raise UsageError("--until must be later than --since")
    return start, end


def _day_bound(day: date, end: bool) -> datetime:
    if end:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day).astimezone()


@dataclass
class Totals:
    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    spend: Spend = field(default_factory=Spend)

    def merge(self, other: Totals) -> None:
        self.calls += other.calls
        self.errors += other.errors
        self.input_tokens += other.input_tokens
        self.cached_tokens += other.cached_tokens
        self.output_tokens += other.output_tokens
        self.reasoning_tokens += other.reasoning_tokens
        self.spend.merge(other.spend)

    @property
    def cache_hit_rate(self) -> float | None:
        """Cached / input tokens; ``None`` without input."""
        return self.cached_tokens / self.input_tokens if self.input_tokens else None

    def to_json(self) -> dict[str, Any]:
        rate = self.cache_hit_rate
        return {
            "calls": self.calls,
            "errors": self.errors,
            "input_tokens": self.input_tokens,
            "cached_tokens": self.cached_tokens,
            "output_tokens": self.output_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "cache_hit_rate": None if rate is None else round(rate, 4),
            "cost": self.spend.amounts_json(),
            "cache_saved": self.spend.saved_json(),
            "unpriced_calls": self.spend.unpriced,
        }


# A group's name, and its provider when the grouping is by provider too (see WITH_PROVIDER).
GroupKey = tuple[str, str | None]


@dataclass
class Report:
    by: str
    since: datetime | None
    until: datetime | None
    groups: list[tuple[GroupKey, Totals]]
    total: Totals

    @property
    def with_provider(self) -> bool:
        return self.by in WITH_PROVIDER

    def key_json(self, key: GroupKey) -> dict[str, Any]:
        name, provider = key
        return {self.by: name, "provider": provider} if self.with_provider else {self.by: name}

    def to_json(self) -> dict[str, Any]:
        return {
            "since": ledger.ledger_time(self.since) if self.since else None,
            "until": ledger.ledger_time(self.until) if self.until else None,
            "by": self.by,
            "groups": [{**self.key_json(key), **totals.to_json()} for key, totals in self.groups],
            "total": self.total.to_json(),
        }


def build_report(
    path: Path,
    *,
    by: str,
    since: datetime | None,
    until: datetime | None,
    profile: str | None = None,
    model: str | None = None,
) -> Report:
    """Sum the ledger at ``path`` (a missing ledger is an empty report; nothing is created)."""
    if by not in GROUPS:
        raise UsageError(f"--by must be one of {', '.join(GROUPS)}")
    groups: dict[GroupKey, Totals] = {}
    if path.exists():
        for key, totals in _query(path, by, since, until, profile, model):
            groups.setdefault(key, Totals()).merge(totals)
    total = Totals()
    for totals in groups.values():
        total.merge(totals)
    if by == "day":
        ordered = sorted(groups.items())
    else:
        ordered = sorted(
            groups.items(), key=lambda item: (-item[1].calls, item[0][0], item[0][1] or "")
        )
    return Report(by, since, until, ordered, total)


def _query(
    path: Path,
    by: str,
    since: datetime | None,
    until: datetime | None,
    profile: str | None,
    model: str | None,
) -> Iterable[tuple[GroupKey, Totals]]:
    where, args = ["1"], []
    if since is not None:
        where.append("ts >= ?")
        args.append(ledger.ledger_time(since))
    if until is not None:
        where.append("ts < ?")
        args.append(ledger.ledger_time(until))
    if profile is not None:
        where.append("profile = ?")
        args.append(profile)
    if model is not None:
        where.append("model = ?")
        args.append(model)
    not_errors = ", ".join(f"'{o}'" for o in NOT_ERRORS)
    # GROUPS holds the only SQL fragments interpolated here; values are bound parameters.
    provider = "provider" if by in WITH_PROVIDER else "NULL"
    sql = f"""
        SELECT {GROUPS[by]} AS key, {provider} AS provider, currency, COUNT(*),
               SUM(outcome NOT IN ({not_errors})),
               SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens), SUM(reasoning_tokens),
               SUM(cost),
               SUM(cost IS NULL AND (input_tokens > 0 OR output_tokens > 0)),
               SUM(cache_saved)
        FROM calls WHERE {" AND ".join(where)}
        GROUP BY key, provider, currency
    """
    with ledger.reading(path) as conn:
        rows = conn.execute(sql, args).fetchall()
    for (
        key,
        by_provider,
        currency,
        calls,
        errors,
        inp,
        cached,
        out,
        reasoning,
        cost,
        unpriced,
        saved,
    ) in rows:
        totals = Totals(
            calls=calls,
            errors=errors or 0,
            input_tokens=inp or 0,
            cached_tokens=cached or 0,
            output_tokens=out or 0,
            reasoning_tokens=reasoning or 0,
            spend=Spend(unpriced=unpriced or 0),
        )
        if currency is not None and cost is not None:
            totals.spend.amounts[currency] = float(cost)
            totals.spend.saved[currency] = float(saved or 0.0)
        name = "(none)" if key is None else str(key)
        yield (name, None if by_provider is None else str(by_provider)), totals


def write_csv(report: Report, out: TextIO) -> None:
    """One line per group (no total line: a total row would be summed twice by a spreadsheet)."""
    seen = {c for _, t in report.groups for c in t.spend.amounts}
    currencies = [*CSV_CURRENCIES, *sorted(seen - set(CSV_CURRENCIES))]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            report.by,
            *(["provider"] if report.with_provider else []),
            "calls",
            "errors",
            "input_tokens",
            "cached_tokens",
            "output_tokens",
            "reasoning_tokens",
            "cache_hit_rate",
            *(f"cost_{c.lower()}" for c in currencies),
            *(f"cache_saved_{c.lower()}" for c in currencies),
            "unpriced_calls",
        ]
    )
    for (name, provider), t in report.groups:
        writer.writerow(
            [
                name,
                *([provider or ""] if report.with_provider else []),
                t.calls,
                t.errors,
                t.input_tokens,
                t.cached_tokens,
                t.output_tokens,
                t.reasoning_tokens,
                "" if t.cache_hit_rate is None else f"{t.cache_hit_rate:.4f}",
                *(_amount(t.spend.amounts[c]) if c in t.spend.amounts else "" for c in currencies),
                *(_amount(t.spend.saved[c]) if c in t.spend.saved else "" for c in currencies),
                t.spend.unpriced,
            ]
        )


def _amount(value: float) -> str:
    """A decimal without float noise or exponent: ``0.00012345``, ``1.5``, ``0``."""
    return f"{value:.8f}".rstrip("0").rstrip(".")
