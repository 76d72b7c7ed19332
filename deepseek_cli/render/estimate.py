"""``batch estimate`` as a person reads it: a table of lines, tokens and cost per model.

Why in render: the estimate itself (``batch.estimate``) is the JSON-shaped result, the same
for ``--json``; this only lays it out, with money written the way every command writes it.
"""

from __future__ import annotations

from typing import Any

from deepseek_cli.render.numbers import cost_json_text


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


def format_text(result: dict[str, Any]) -> str:
    """The human table of an estimate: a row per model, a total when there are several,
    then what the figures assume."""
    header = ("model", "lines", "input tokens", "output tokens", "cost")
    table = [header] + [_row(row["model"], row) for row in result["models"]]
    if len(result["models"]) != 1:
        table.append(_row("total", result))
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    out = []
    for r in table:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells).rstrip())
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
    return "\n".join(out + notes) + "\n"
