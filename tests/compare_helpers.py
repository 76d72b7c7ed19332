"""Hand-built comparison values for the compare report tests: answers, costs, a judged run.

Plain values of ``compare.results`` (nothing of ours is patched): the report is pure
functions of them.
"""

from __future__ import annotations

from deepseek_cli.compare.checks import Check
from deepseek_cli.compare.results import Answer, Comparison, Item, Judging, Variant, Verdict
from deepseek_cli.compare.summary import VariantSummary, summarize

PARIS = (Check("expected", "Paris"),)
HOSTILE = "a | b | c\n```\n# heading in an answer\n````\n~~~\n</details>\n| x |\n|---|\n"


def usage(inp: int = 10, cached: int = 0, out: int = 5, reasoning: int | None = None) -> dict:
    return {
        "input_tokens": inp,
        "cached_tokens": cached,
        "output_tokens": out,
        "reasoning_tokens": reasoning,
        "total_tokens": inp + out,
    }


def usd(amount: float) -> dict:
    return {"amount": amount, "currency": "USD", "cache_saved": 0.0}


def ok(text: str = "Paris", *, passed=(True,), latency=100, ttft=None, cost=None, u=None):
    return Answer(text, None, latency, ttft, u or usage(), cost, passed)


def failed(error: str = "provider unavailable (503)") -> Answer:
    return Answer(None, error, latency_ms=5)


def one(c: Comparison, label: str) -> VariantSummary:
    (summary,) = [s for s in summarize(c) if s.label == label]
    return summary


def judged() -> Comparison:
    items = [Item(f"q{i}", "?") for i in range(5)]
    answers = {item.id: ok() for item in items}
    outcomes = ["win", "tie", "loss", "unparsed", "error"]
    verdicts = [Verdict(f"q{i}", "b", o, f"said {o}") for i, o in enumerate(outcomes)]
    verdicts += [Verdict(f"q{i}", "c", "unparsed") for i in range(5)]
    judging = Judging("judge", "a", verdicts, cost={"USD": 0.5}, unpriced=2)
    variants = [Variant(label, "model", dict(answers)) for label in "abc"]
    return Comparison(items, variants, judging)
