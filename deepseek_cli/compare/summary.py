"""One line of numbers per variant: what the report's table, ``report.json`` and ``report.md``
all say about a variant, computed once from a ``Comparison``.

Pure arithmetic over the result values, so the three outputs cannot disagree. Two rules run
through it: an unknown cost is counted (``unpriced``), never added as 0, and money is kept per
currency (dollars and yuan do not add up). A failed or missing answer never passes a check
and never wins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from deepseek_cli.compare.results import Answer, Comparison, Judging, Variant, VariantKind


@dataclass(frozen=True)
class JudgeCounts:
    """The judge's verdicts on one variant against the reference."""

    wins: int = 0
    ties: int = 0
    losses: int = 0
    unparsed: int = 0  # the judge answered, but not in a form we could read: never a win
    errors: int = 0  # the judge call failed


@dataclass(frozen=True)
class VariantSummary:
    label: str
    kind: VariantKind
    items: int
    answered: int  # answers with text
    errors: int  # answers without text (the error took its place)
    missing: int  # items this variant has no answer for at all
    checked: int  # items with checks
    passed: int  # checked items whose answer passed every check
    pass_rate: float | None  # passed / checked; None when nothing is checked
    latency_p50_ms: int | None
    latency_p95_ms: int | None
    ttft_p50_ms: int | None
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    reasoning_tokens: int | None  # the sum of the known; None when no answer said
    cost: dict[str, float] = field(default_factory=dict)  # per currency, known costs only
    unpriced: int = 0  # answered items whose cost is unknown
    cost_per_item: dict[str, float] = field(default_factory=dict)  # per priced answered item
    # The whole input (not only the sample) at the observed cost per priced answered item,
    # per currency; empty when nothing has a known cost.
    projected: dict[str, float] = field(default_factory=dict)
    judge: JudgeCounts | None = None  # None: no judge, or this is the reference


def percentile(values: Sequence[int], p: float) -> int | None:
    """The nearest-rank percentile (``p`` in 0..100): always one of the values, never an
    interpolation between two calls that did not happen. ``None`` for no values."""
    if not values:
        return None
    if not 0 <= p <= 100:
        raise ValueError(f"percentile {p} is not between 0 and 100")
    ordered = sorted(values)
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


def summarize(c: Comparison) -> list[VariantSummary]:
    """One summary per variant, in the comparison's order."""
    return [_summary(c, variant) for variant in c.variants]


def _summary(c: Comparison, variant: Variant) -> VariantSummary:
    present = [variant.answers[item.id] for item in c.items if item.id in variant.answers]
    answered = [a for a in present if a.text is not None]
    checked = [item for item in c.items if item.checks]
    passed = sum(1 for item in checked if _passed(variant.answers.get(item.id), len(item.checks)))
    # Latency over answered items only: a fast failure would make a variant look quick.
    latencies = [a.latency_ms for a in answered if a.latency_ms is not None]
    ttfts = [a.ttft_ms for a in answered if a.ttft_ms is not None]
    reasoning = [n for a in present if (n := _tokens(a, "reasoning_tokens")) is not None]
    cost, unpriced, per_item = _money(variant, answered)
    return VariantSummary(
        label=variant.label,
        kind=variant.kind,
        items=len(c.items),
        answered=len(answered),
        errors=len(present) - len(answered),
        missing=len(c.items) - len(present),
        checked=len(checked),
        passed=passed,
        pass_rate=passed / len(checked) if checked else None,
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        ttft_p50_ms=percentile(ttfts, 50),
        input_tokens=sum(_tokens(a, "input_tokens") or 0 for a in present),
        cached_tokens=sum(_tokens(a, "cached_tokens") or 0 for a in present),
        output_tokens=sum(_tokens(a, "output_tokens") or 0 for a in present),
        reasoning_tokens=sum(reasoning) if reasoning else None,
        cost=cost,
        unpriced=unpriced,
        cost_per_item=per_item,
        projected={currency: cost * c.total_lines for currency, cost in per_item.items()},
        judge=_judge(c.judging, variant.label),
    )


def _passed(answer: Answer | None, checks: int) -> bool:
    if answer is None or answer.text is None:
        return False
    return len(answer.passed) == checks and all(answer.passed)


def _tokens(answer: Answer, key: str) -> int | None:
    value = (answer.usage or {}).get(key)
    # bool is an int in Python; a record saying ``true`` is not a token count.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _money(
    variant: Variant, answered: list[Answer]
) -> tuple[dict[str, float], int, dict[str, float]]:
    """Known cost per currency, the unpriced count, and cost per priced answered item."""
    if variant.kind == "baseline":
        return {}, 0, {}  # the baseline sends nothing: nothing to price
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    unpriced = 0
    for answer in answered:
        cost = answer.cost
        amount = cost.get("amount") if cost else None
        currency = cost.get("currency") if cost else None
        if not isinstance(amount, int | float) or isinstance(amount, bool):
            unpriced += 1
            continue
        if not isinstance(currency, str) or not currency:
            unpriced += 1
            continue
        totals[currency] = totals.get(currency, 0.0) + float(amount)
        counts[currency] = counts.get(currency, 0) + 1
    per_item = {currency: totals[currency] / counts[currency] for currency in totals}
    return totals, unpriced, per_item


def _judge(judging: Judging | None, label: str) -> JudgeCounts | None:
    if judging is None or label == judging.reference:
        return None
    tally = {"win": 0, "tie": 0, "loss": 0, "unparsed": 0, "error": 0}
    for verdict in judging.verdicts:
        if verdict.variant == label:
            tally[verdict.outcome] += 1
    return JudgeCounts(
        wins=tally["win"],
        ties=tally["tie"],
        losses=tally["loss"],
        unparsed=tally["unparsed"],
        errors=tally["error"],
    )
