"""``batch estimate`` as a person reads it: a table of lines, tokens and cost per model.

Why in render: the estimate itself (``batch.estimate``) is the JSON-shaped result, the same
for ``--json``; this only lays it out, with money written the way every command writes it.
With ``--max-cost`` a second table shows what ``batch run --max-cost`` reserves, and how many
lines fit in the budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deepseek_cli.catalog.models import PRICE_KIND_TEXT
from deepseek_cli.render.numbers import cost_json_text, money


def _cost(cost: dict[str, Any] | None) -> str:
    return "unknown" if cost is None else cost_json_text(cost)


def _row(name: str, figures: dict[str, Any]) -> tuple[str, ...]:
    """A model's row, or the total's: the estimate and each model carry the same keys."""
    return (
        name,
        f"{figures['lines']:,}",
        f"{figures['input_tokens']:,}",
        f"{figures['output_tokens']:,}",
        _cost(figures["cost"]),
    )


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Rows under their header: the first column left-aligned, the figures right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells).rstrip())
    return out


def format_text(result: dict[str, Any]) -> str:
    """The human table of an estimate: a row per model, a total when there are several,
    then what the figures assume."""
    header = ("model", "lines", "input tokens", "output tokens", "cost")
    table = [header] + [_row(row["model"], row) for row in result["models"]]
    if len(result["models"]) != 1:
        table.append(_row("total", result))
    out = _table(table)
    notes = []
    if result.get("price") == "batch":
        notes.append("cost at the Batch price: half the real-time price (batch submit)")
    if result["assumed_output"] is not None:
        notes.append(f"output assumed: {result['assumed_output']:,} tokens per line")
    else:
        notes.append("output assumed: each line's max_tokens")
    unknown = result["lines_without_output_estimate"]
    if unknown:
        notes.append(
            f"{unknown:,} line(s) have no max_tokens: their output is not counted "
            "(pass --assume-output N)"
        )
    if result["invalid_lines"]:
        notes.append(f"{result['invalid_lines']:,} unusable line(s) skipped")
    notes.append("input tokens are estimates (about 0.3 per English, 0.6 per Chinese character)")
    return "\n".join(out + notes + _budget_lines(result)) + "\n"


def _price_text(price: dict[str, Any] | None) -> str:
    if price is None:
        return "unknown"
    cur = price["currency"]
    text = f"{money(price['input'], cur)} / {money(price['output'], cur)}"
    if price.get("window") == "peak":
        text += " peak"
    return f"{text} ({PRICE_KIND_TEXT.get(price['kind'], price['kind'])})"


def _reserved_row(name: str, lines: int, figures: dict[str, Any], price: str) -> tuple[str, ...]:
    amount = figures["amount"]
    return (
        name,
        f"{lines:,}",
        f"{figures['prompt_tokens']:,}",
        f"{figures['max_tokens']:,}",
        price,
        "unknown" if amount is None else money(amount, figures["currency"]),
    )


def _budget_lines(result: dict[str, Any]) -> list[str]:
    """What ``batch run --max-cost`` reserves, and how many lines fit: only with --max-cost."""
    budget = result.get("budget")
    if not budget:
        return []
    header = ("model", "lines", "prompt tokens", "max_tokens", "price in / out per 1M", "reserved")
    table = [header] + [
        _reserved_row(
            m["model"], m["lines"], m["reservation"], _price_text(m["reservation"]["price"])
        )
        for m in result["models"]
    ]
    if len(result["models"]) != 1:
        table.append(_reserved_row("total", result["lines"], result["reservation"], ""))
    limit = money(budget["amount"], budget["currency"])
    return [
        "",
        "reserved under --max-cost (prompt estimate + max_tokens at the dearest price, "
        "no cache hits):",
        *_table(table),
        f"--max-cost {limit}: {budget['lines_fit']:,} of {budget['lines']:,} lines fit at worst, "
        "in input order (shorter answers leave room for more)",
    ]
