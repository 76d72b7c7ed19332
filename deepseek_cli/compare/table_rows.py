"""The summary as words: each ``VariantSummary`` turned into the strings the table and
``report.md`` show.

Kept apart from the arithmetic (``summary``) and from the drawing (``render.compare_table``)
so that the terminal, the pipe and the page word every number the same way: money as every
command writes it, per currency; an unknown cost as unknown, never 0; a baseline's cost as
``-`` (it sends nothing).
"""

from __future__ import annotations

from collections.abc import Mapping

from deepseek_cli.compare.results import Comparison, Judging
from deepseek_cli.compare.summary import JudgeCounts, VariantSummary, summarize
from deepseek_cli.render.compare_table import SummaryRow, print_summary_table
from deepseek_cli.render.numbers import money
from deepseek_cli.render.stdout import emit

NONE = "-"
UNKNOWN = "unknown"


def print_summary(c: Comparison, *, terminal: bool | None = None) -> None:
    """The summary on stdout (a table on a terminal, aligned text in a pipe), then the judge
    and its own cost on a line of their own: kept out of every variant's numbers."""
    print_summary_table(summary_rows(c), judged=c.judging is not None, terminal=terminal)
    if c.judging is not None:
        judging = c.judging
        emit(
            f"\njudge: {judging.label} against {judging.reference} (W/T/L: wins, ties, losses); "
            f"judge cost {judge_cost_text(judging)}\n"
        )


def summary_rows(c: Comparison) -> list[SummaryRow]:
    reference = c.judging.reference if c.judging else None
    return [row_of(summary, reference=summary.label == reference) for summary in summarize(c)]


def row_of(s: VariantSummary, *, reference: bool = False) -> SummaryRow:
    baseline = s.kind == "baseline"
    return SummaryRow(
        variant=s.label,
        items=f"{s.items:,}",
        answered=f"{s.answered:,}",
        errors=f"{s.errors:,}",
        missing=f"{s.missing:,}",
        pass_rate=pass_text(s),
        latency_p50=ms_text(s.latency_p50_ms),
        latency_p95=ms_text(s.latency_p95_ms),
        ttft_p50=ms_text(s.ttft_p50_ms),
        input_tokens=NONE if baseline else f"{s.input_tokens:,}",
        cached_tokens=NONE if baseline else f"{s.cached_tokens:,}",
        output_tokens=NONE if baseline else f"{s.output_tokens:,}",
        reasoning_tokens=NONE if s.reasoning_tokens is None else f"{s.reasoning_tokens:,}",
        cost=NONE if baseline else cost_text(s.cost, s.unpriced),
        cost_per_item=NONE if baseline else amounts_text(s.cost_per_item),
        projected=NONE if baseline else amounts_text(s.projected),
        judge="reference" if reference else judge_text(s.judge),
    )


def pass_text(s: VariantSummary) -> str:
    if s.pass_rate is None:
        return NONE
    return f"{s.pass_rate:.0%} ({s.passed}/{s.checked})"


def ms_text(value: int | None) -> str:
    return NONE if value is None else f"{value:,}ms"


def amounts_text(amounts: Mapping[str, float]) -> str:
    """Each currency's amount (``$0.01 + ¥0.07``); ``unknown`` when none is known."""
    if not amounts:
        return UNKNOWN
    return " + ".join(money(amount, currency) for currency, amount in sorted(amounts.items()))


def cost_text(amounts: Mapping[str, float], unpriced: int) -> str:
    """The known sums and how many answers had no price: a partial sum is never the total."""
    parts = [money(amount, currency) for currency, amount in sorted(amounts.items())]
    if unpriced:
        parts.append(f"unknown ({unpriced} {'answer' if unpriced == 1 else 'answers'})")
    return " + ".join(parts) if parts else "0"


def judge_text(counts: JudgeCounts | None) -> str:
    if counts is None:
        return NONE
    text = f"{counts.wins}/{counts.ties}/{counts.losses}"
    extra = []
    if counts.unparsed:
        extra.append(f"{counts.unparsed} unparsed")
    if counts.errors:
        extra.append(f"{counts.errors} failed")
    return f"{text} ({', '.join(extra)})" if extra else text


def judge_cost_text(judging: Judging) -> str:
    """The judge's own cost: each currency, and the calls with no known price."""
    parts = [money(amount, currency) for currency, amount in sorted(judging.cost.items())]
    if judging.unpriced:
        calls = "call" if judging.unpriced == 1 else "calls"
        parts.append(f"unknown ({judging.unpriced} {calls})")
    return " + ".join(parts) if parts else "0"
