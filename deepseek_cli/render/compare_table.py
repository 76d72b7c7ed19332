"""The ``deepseek compare`` summary on stdout: one row per variant, a Rich table on a terminal and
aligned plain text in a pipe.

Render sits below compare, so this module knows nothing of comparisons: compare turns its
summaries into a ``SummaryRow`` of finished strings, and this decides only the columns, their
order and alignment. ``report.md`` uses the same headers and cells, so the page and the
terminal say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass

from deepseek_cli.render.tables import Column, print_table


@dataclass(frozen=True)
class SummaryRow:
    """A variant's summary as text, one string per column (``-``: nothing to say)."""

    variant: str
    items: str
    answered: str
    errors: str
    missing: str
    pass_rate: str
    latency_p50: str
    latency_p95: str
    ttft_p50: str
    input_tokens: str
    cached_tokens: str
    output_tokens: str
    reasoning_tokens: str
    cost: str
    cost_per_item: str
    projected: str
    judge: str


_COLUMNS = (
    Column("variant", no_wrap=True, title=True),
    Column("items", align="right"),
    Column("answered", align="right"),
    Column("errors", align="right"),
    Column("missing", align="right"),
    Column("pass", align="right", no_wrap=True),
    Column("latency p50", align="right", no_wrap=True),
    Column("latency p95", align="right", no_wrap=True),
    Column("ttft p50", align="right", no_wrap=True),
    Column("input", align="right"),
    Column("cached", align="right"),
    Column("output", align="right"),
    Column("reasoning", align="right"),
    Column("cost", align="right"),
    Column("cost/item", align="right"),
    Column("projected", align="right"),
    Column("judge W/T/L", no_wrap=True),
)


def summary_columns(*, judged: bool) -> list[Column]:
    """The columns, without the judge's when nothing was judged (an empty column says nothing)."""
    return list(_COLUMNS if judged else _COLUMNS[:-1])


def summary_cells(row: SummaryRow, *, judged: bool) -> list[str]:
    cells = [str(cell) for cell in astuple(row)]
    return cells if judged else cells[:-1]


def print_summary_table(
    rows: Sequence[SummaryRow],
    *,
    judged: bool,
    title: str | None = None,
    caption: str | None = None,
    terminal: bool | None = None,
) -> None:
    print_table(
        summary_columns(judged=judged),
        [summary_cells(row, judged=judged) for row in rows],
        title=title,
        caption=caption,
        terminal=terminal,
    )
