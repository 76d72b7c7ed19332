"""``report.md``: the comparison as a page a team reads and passes around.

The summary table first (the same cells as the terminal's), then the judge, then every item
with each variant's answer under it, checks marked. Answers and prompts are the models' and
the users' text: Markdown, pipes, backticks, headings. Each goes in a fence longer than any
run of backticks inside it, and every other piece of their text is escaped, so nothing they
hold can end a block, add a heading or break the table. No clock and no paths: the same
comparison always gives the same page.
"""

from __future__ import annotations

import re

from deepseek_cli.compare.results import Answer, Comparison, Item, Judging, Verdict
from deepseek_cli.compare.table_rows import amounts_text, judge_cost_text, ms_text, summary_rows
from deepseek_cli.render.compare_table import summary_cells, summary_columns

# Characters that can start Markdown structure inline; a backslash makes each literal.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#&])")
_OUTCOME = {
    "win": "better than the reference",
    "loss": "worse than the reference",
    "tie": "a tie with the reference",
    "unparsed": "the judge's verdict could not be read (not counted as a win)",
    "error": "the judge call failed",
}


def report_md(c: Comparison, judge_prompt: str | None = None) -> str:
    parts = ["# Comparison", _intro(c), "## Summary", _table(c)]
    if c.judging is not None:
        parts += ["## Judge", _judge(c.judging, judge_prompt)]
    parts.append("## Items")
    for number, item in enumerate(c.items, 1):
        parts.append(_item(c, number, item))
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def inline(text: str) -> str:
    """Text that stays text on one line: newlines become spaces, structure is escaped."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.splitlines()))


def fenced(text: str) -> str:
    """A code block no line of ``text`` can close: its fence is longer than any backtick run."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}text\n{body}{fence}"


def _intro(c: Comparison) -> str:
    shown = len(c.items)
    total = c.total_lines or shown
    noun = "line" if total == 1 else "lines"
    lines = f"{shown:,} of {total:,} {noun}" if total != shown else f"{shown:,} {noun}"
    # A code span shows its text as is (no escapes work in it), so only a name that holds no
    # backtick and no line break goes in one; any other is escaped instead.
    plain = c.input and "`" not in c.input and len(c.input.splitlines()) == 1
    source = f"`{c.input}`" if plain else inline(c.input) or "the input"
    return (
        f"Input: {source}, {lines}; {len(c.variants)} "
        f"{'variant' if len(c.variants) == 1 else 'variants'}. Projected cost: the whole "
        "input at each variant's cost per answered item. Unknown costs stay unknown."
    )


def _table(c: Comparison) -> str:
    judged = c.judging is not None
    columns = summary_columns(judged=judged)
    header = "| " + " | ".join(inline(col.header) for col in columns) + " |"
    rule = "|" + "|".join("---:" if col.align == "right" else "---" for col in columns) + "|"
    rows = [
        "| " + " | ".join(inline(cell) for cell in summary_cells(row, judged=judged)) + " |"
        for row in summary_rows(c)
    ]
    return "\n".join([header, rule, *rows])


def _judge(judging: Judging, prompt: str | None) -> str:
    cost = judge_cost_text(judging)
    text = (
        f"Judge: {inline(judging.label)}, comparing each variant with "
        f"{inline(judging.reference)} (the reference), item by item, in a seeded random "
        f"order. W/T/L: wins, ties, losses against the reference. The judge's own cost, "
        f"not in any variant's: {inline(cost)}."
    )
    if prompt is not None:
        text += "\n\nThe judge's prompt:\n\n" + fenced(prompt)
    return text


def _item(c: Comparison, number: int, item: Item) -> str:
    parts = [f"### {number}. {inline(item.id)}", "Prompt:", fenced(item.prompt)]
    if item.checks:
        parts.append("Checks: " + "; ".join(inline(check.label) for check in item.checks))
    verdicts = {}
    if c.judging is not None:
        verdicts = {v.variant: v for v in c.judging.verdicts if v.item == item.id}
    for variant in c.variants:
        parts.append(f"#### {inline(variant.label)}")
        parts.append(_answer(item, variant.answers.get(item.id), verdicts.get(variant.label)))
    return "\n\n".join(parts)


def _answer(item: Item, answer: Answer | None, verdict: Verdict | None) -> str:
    if answer is None:
        lines = ["No answer (this variant has no record for this item)."]
    elif answer.text is None:
        lines = ["Error:", "", fenced(answer.error or "no answer and no error recorded")]
    else:
        facts = _facts(answer)
        lines = [facts, ""] if facts else []
        lines += ["Answer:", "", fenced(answer.text)]
    if item.checks:
        lines += ["", _checks(item, answer)]
    if verdict is not None:
        said = " It said:" if verdict.said else ""
        lines += ["", f"Judge: {_OUTCOME[verdict.outcome]}.{said}"]
        if verdict.said:
            lines += ["", fenced(verdict.said)]
    return "\n".join(lines)


def _facts(answer: Answer) -> str:
    facts = []
    if answer.latency_ms is not None:
        facts.append(f"latency {ms_text(answer.latency_ms)}")
    if answer.ttft_ms is not None:
        facts.append(f"ttft {ms_text(answer.ttft_ms)}")
    usage = answer.usage or {}
    if isinstance(usage.get("output_tokens"), int):
        facts.append(f"{usage['output_tokens']:,} tokens out")
    cost = answer.cost
    if cost is not None and isinstance(cost.get("amount"), int | float):
        facts.append(f"cost {amounts_text({str(cost.get('currency')): float(cost['amount'])})}")
    elif cost is None and answer.usage is not None:
        facts.append("cost unknown")
    return inline(", ".join(facts)) + "." if facts else ""


def _checks(item: Item, answer: Answer | None) -> str:
    passed = () if answer is None or answer.text is None else answer.passed
    marks = [
        f"- {'✓' if index < len(passed) and passed[index] else '✗'} {inline(check.label)}"
        for index, check in enumerate(item.checks)
    ]
    if answer is None or answer.text is None:
        marks.append("- (no answer: every check counts as failed)")
    return "\n".join(marks)
