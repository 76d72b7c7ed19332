"""``report.json``: the whole comparison as one JSON document, for programs and for diffing runs.

Every item with each variant's answer, checks and verdicts, then the per-variant summary and
the judge. Built only from the result values (no clock, no paths beyond those given), so the
same comparison always writes the same bytes. Unknown values are ``null``, never 0.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from deepseek_cli.compare.results import Answer, Comparison, Item
from deepseek_cli.compare.summary import VariantSummary, summarize


def report_json(c: Comparison, judge_prompt: str | None = None) -> dict[str, Any]:
    return {
        "input": c.input,
        "directory": c.directory,
        "total_lines": c.total_lines,
        "items": [_item(c, item) for item in c.items],
        "variants": [summary_json(s) for s in summarize(c)],
        "judge": _judge(c, judge_prompt),
    }


def summary_json(summary: VariantSummary) -> dict[str, Any]:
    # asdict copies the dicts, so the caller may change the result freely.
    return dataclasses.asdict(summary)


def _item(c: Comparison, item: Item) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for variant in c.variants:
        answer = variant.answers.get(item.id)
        # null, not an absent key: a reader sees the variant has nothing for this item.
        answers[variant.label] = None if answer is None else _answer(answer)
    verdicts = {}
    if c.judging is not None:
        for verdict in c.judging.verdicts:
            if verdict.item == item.id:
                verdicts[verdict.variant] = {"outcome": verdict.outcome, "said": verdict.said}
    return {
        "id": item.id,
        "prompt": item.prompt,
        "checks": [check.label for check in item.checks],
        "answers": answers,
        "verdicts": verdicts,
    }


def _answer(answer: Answer) -> dict[str, Any]:
    return {
        "answer": answer.text,
        "error": answer.error,
        "passed": list(answer.passed),
        "latency_ms": answer.latency_ms,
        "ttft_ms": answer.ttft_ms,
        "usage": None if answer.usage is None else dict(answer.usage),
        "cost": None if answer.cost is None else dict(answer.cost),
    }


def _judge(c: Comparison, prompt: str | None) -> dict[str, Any] | None:
    judging = c.judging
    if judging is None:
        return None
    out: dict[str, Any] = {
        "label": judging.label,
        "reference": judging.reference,
        "cost": dict(judging.cost),
        "unpriced": judging.unpriced,
    }
    if prompt is not None:
        out["prompt"] = prompt
    return out
