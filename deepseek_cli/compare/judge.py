"""``--judge VARIANT``: a model says, item by item, which of two answers is better, or a tie.

Every variant is judged against one reference (the baseline when there is one, else the
first variant), the two answers in an order drawn for that item and variant from a fixed
seed, so a re-run asks exactly the same questions (and, on the batch engine, sends none of
them again) while no variant always sits in the first place judges tend to favour. The
verdict must be ``A``, ``B`` or ``tie``; anything else is counted as unparsed, never as a
win. The prompt is shown in ``compare --help``.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from deepseek_cli.compare.collect import error_text
from deepseek_cli.compare.prompt import JUDGE_PROMPT
from deepseek_cli.compare.results import Item, Outcome, Variant, Verdict

SEED = "deepseek-compare-1"
_VERDICT = re.compile(r"^\W*(?:verdict\W*)?(a|b|tie)\W*$", re.IGNORECASE)


@dataclass(frozen=True)
class Question:
    """One judge request: which item, which variant, and whether it is answer A."""

    id: str
    item: str
    variant: str
    variant_is_a: bool
    line: bytes


def questions(
    items: Sequence[Item], reference: Variant, others: Sequence[Variant]
) -> list[Question]:
    """The judge's batch lines: an item and a variant both answered, against the reference."""
    asked = []
    for item in items:
        ref = reference.answers.get(item.id)
        if ref is None or ref.text is None:
            continue
        for variant in others:
            mine = variant.answers.get(item.id)
            if mine is None or mine.text is None:
                continue
            first = random.Random(f"{SEED}\0{item.id}\0{variant.label}").random() < 0.5
            a, b = (mine.text, ref.text) if first else (ref.text, mine.text)
            text = JUDGE_PROMPT.format(question=item.prompt, a=a, b=b)
            key = hashlib.sha256(f"{item.id}\0{variant.label}".encode()).hexdigest()[:20]
            line = json.dumps({"id": f"judge-{key}", "prompt": text}, ensure_ascii=False)
            asked.append(Question(f"judge-{key}", item.id, variant.label, first, line.encode()))
    return asked


def outcome(said: str, variant_is_a: bool) -> Outcome:
    """What the judge's reply means for the variant (against the reference)."""
    match = _VERDICT.match(said.strip())
    if match is None:
        return "unparsed"
    word = match.group(1).lower()
    if word == "tie":
        return "tie"
    return "win" if (word == "a") == variant_is_a else "loss"


def verdicts(asked: Sequence[Question], records: dict[str, dict[str, Any]]) -> list[Verdict]:
    """The verdicts the judge's output records hold (``error`` where the call failed)."""
    found = []
    for question in asked:
        record = records.get(question.id)
        if record is None:
            continue
        answer = record.get("answer")
        if not isinstance(answer, str):
            said = error_text(record)[:80]
            found.append(Verdict(question.item, question.variant, "error", said))
            continue
        said = answer.strip()
        found.append(
            Verdict(
                question.item, question.variant, outcome(said, question.variant_is_a), said[:80]
            )
        )
    return found
