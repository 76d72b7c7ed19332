"""What a comparison found, as plain values: the items, each variant's answers, the judge.

The run (``compare.run``) fills these in from the batch output files; the report (summary,
``report.json``, ``report.md``, the table) reads only these. Keeping the two apart means the
report can be built again from the files at any time, and tested without a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from deepseek_cli.compare.checks import Check

VariantKind = Literal["model", "baseline"]
Outcome = Literal["win", "loss", "tie", "unparsed", "error"]


@dataclass(frozen=True)
class Item:
    """One input line: its id, the prompt as shown (its last user message), its checks."""

    id: str
    prompt: str
    checks: tuple[Check, ...] = ()


@dataclass(frozen=True)
class Answer:
    """One variant's result for one item: the answer, or the error that took its place."""

    text: str | None  # None: no answer (see ``error``)
    error: str | None = None
    latency_ms: int | None = None
    ttft_ms: int | None = None
    # As batch records write them: usage {input_tokens, cached_tokens, output_tokens,
    # reasoning_tokens, total_tokens}; cost {amount, currency, cache_saved} or None (unknown).
    usage: dict[str, Any] | None = None
    cost: dict[str, Any] | None = None
    passed: tuple[bool, ...] = ()  # one per check of the item, in order; () if no answer


@dataclass
class Variant:
    """A column of the comparison: a model variant, or the baseline file."""

    label: str  # as the user wrote it: "intl:deepseek-v4-pro@no-think", "baseline"
    kind: VariantKind
    answers: dict[str, Answer] = field(default_factory=dict)  # by item id


@dataclass(frozen=True)
class Verdict:
    """The judge on one item: ``variant`` against the reference (win: variant better)."""

    item: str
    variant: str
    outcome: Outcome
    said: str = ""  # the judge's verdict text, cut short, for the report


@dataclass
class Judging:
    label: str  # the judge variant
    reference: str  # the variant every other one is judged against
    verdicts: list[Verdict] = field(default_factory=list)
    cost: dict[str, float] = field(default_factory=dict)  # per currency
    unpriced: int = 0  # judge calls with no known cost


@dataclass
class Comparison:
    items: list[Item]
    variants: list[Variant]
    judging: Judging | None = None
    total_lines: int = 0  # lines of the whole input (the sample may take fewer)
    input: str = ""
    directory: str = ""
