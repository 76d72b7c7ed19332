"""The compare summary's arithmetic, from hand-built comparisons.

Pins the rules a team relies on when deciding by the numbers: nearest-rank percentiles, a
failed or missing answer never passes, an unknown cost is never summed as 0, currencies never
mix, the baseline costs nothing, an unreadable verdict is never a win.
"""

from __future__ import annotations

import pytest
from compare_helpers import PARIS, failed, judged, ok, one, usage, usd

from deepseek_cli.compare.checks import Check
from deepseek_cli.compare.report_json import report_json
from deepseek_cli.compare.report_md import report_md
from deepseek_cli.compare.results import Answer, Comparison, Item, Variant
from deepseek_cli.compare.summary import JudgeCounts, percentile
from deepseek_cli.compare.table_rows import summary_rows

# percentile


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 50, None),
        ([7], 50, 7),
        ([7], 95, 7),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 10),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9),
        ([10, 1, 5, 3], 50, 3),  # unsorted input; rank ceil(0.5*4)=2 of 1,3,5,10
        ([10, 1, 5, 3], 0, 1),
        ([10, 1, 5, 3], 100, 10),
        (list(range(1, 21)), 95, 19),
    ],
)
def test_percentile_is_nearest_rank(values, p, expected):
    assert percentile(values, p) == expected


def test_percentile_is_always_one_of_the_values():
    assert percentile([100, 200], 50) == 100  # never the interpolated 150


@pytest.mark.parametrize("p", [-1, 101])
def test_percentile_rejects_a_rank_outside_0_100(p):
    with pytest.raises(ValueError):
        percentile([1], p)


# summary


def test_pass_rate_counts_errors_and_missing_answers_as_not_passed():
    items = [Item(f"q{i}", "?", PARIS) for i in range(4)] + [Item("free", "say hi")]
    variant = Variant(
        "m",
        "model",
        {
            "q0": ok(passed=(True,)),
            "q1": ok("London", passed=(False,)),
            "q2": failed(),
            # q3: missing
            "free": ok("hi", passed=()),
        },
    )
    s = one(Comparison(items, [variant]), "m")
    assert (s.items, s.answered, s.errors, s.missing) == (5, 3, 1, 1)
    assert (s.checked, s.passed) == (4, 1)  # "free" has no checks: not in the rate
    assert s.pass_rate == 0.25
    assert summary_rows(Comparison(items, [variant]))[0].pass_rate == "25% (1/4)"


def test_an_answer_whose_checks_were_not_all_run_does_not_pass():
    items = [Item("q", "?", (Check("contains", "a"), Check("max_chars", 9)))]
    variant = Variant("m", "model", {"q": ok("a", passed=(True,))})
    assert one(Comparison(items, [variant]), "m").passed == 0


def test_no_checks_means_no_pass_rate():
    variant = Variant("m", "model", {"q": ok(passed=())})
    s = one(Comparison([Item("q", "?")], [variant]), "m")
    assert s.pass_rate is None and s.checked == 0
    assert summary_rows(Comparison([Item("q", "?")], [variant]))[0].pass_rate == "-"


def test_latency_percentiles_leave_failed_calls_out():
    items = [Item(f"q{i}", "?") for i in range(5)]
    answers = {f"q{i}": ok(latency=ms, ttft=ms // 2) for i, ms in enumerate([400, 100, 300])}
    answers["q3"] = failed()  # 5 ms: would drag p50 down if it counted
    answers["q4"] = ok(latency=None)
    s = one(Comparison(items, [Variant("m", "model", answers)]), "m")
    assert (s.latency_p50_ms, s.latency_p95_ms, s.ttft_p50_ms) == (300, 400, 150)


def test_no_latency_is_unknown_not_zero():
    s = one(Comparison([Item("q", "?")], [Variant("m", "model", {"q": ok(latency=None)})]), "m")
    assert s.latency_p50_ms is None and s.ttft_p50_ms is None


def test_tokens_are_summed_and_unknown_reasoning_stays_unknown():
    items = [Item("a", "?"), Item("b", "?")]
    known = Variant("k", "model", {"a": ok(u=usage(100, 40, 7, 3)), "b": ok(u=usage(50, 0, 9))})
    unknown = Variant("u", "model", {"a": ok(u=usage()), "b": ok(u=usage())})
    c = Comparison(items, [known, unknown])
    k = one(c, "k")
    assert (k.input_tokens, k.cached_tokens, k.output_tokens, k.reasoning_tokens) == (
        150,
        40,
        16,
        3,
    )
    assert one(c, "u").reasoning_tokens is None
    assert summary_rows(c)[1].reasoning_tokens == "-"


def test_unknown_cost_is_counted_never_summed_as_zero():
    items = [Item(f"q{i}", "?") for i in range(3)]
    variant = Variant(
        "m", "model", {"q0": ok(cost=usd(0.01)), "q1": ok(cost=usd(0.03)), "q2": ok(cost=None)}
    )
    c = Comparison(items, [variant])
    s = one(c, "m")
    assert s.cost == {"USD": pytest.approx(0.04)} and s.unpriced == 1
    assert s.cost_per_item == {"USD": pytest.approx(0.02)}  # over the 2 priced answers
    row = summary_rows(c)[0]
    assert row.cost == "$0.04 + unknown (1 answer)"
    assert row.cost_per_item == "$0.02"


def test_all_unknown_costs_say_unknown_everywhere():
    items = [Item("a", "?"), Item("b", "?")]
    c = Comparison(items, [Variant("m", "model", {"a": ok(), "b": ok()})])
    s = one(c, "m")
    assert s.cost == {} and s.unpriced == 2 and s.cost_per_item == {} and s.projected == {}
    row = summary_rows(c)[0]
    assert (row.cost, row.cost_per_item, row.projected) == (
        "unknown (2 answers)",
        "unknown",
        "unknown",
    )
    page = report_md(c)
    assert "$0" not in page and "| unknown (2 answers) | unknown | unknown |" in page


def test_currencies_are_kept_apart():
    items = [Item(f"q{i}", "?") for i in range(3)]
    cny = {"amount": 0.07, "currency": "CNY", "cache_saved": 0.0}
    variant = Variant(
        "m",
        "model",
        {"q0": ok(cost=usd(0.01)), "q1": ok(cost=cny), "q2": ok(cost=usd(0.03))},
    )
    c = Comparison(items, [variant], total_lines=100)
    s = one(c, "m")
    assert s.cost == {"USD": pytest.approx(0.04), "CNY": pytest.approx(0.07)}
    assert s.cost_per_item == {"USD": pytest.approx(0.02), "CNY": pytest.approx(0.07)}
    row = summary_rows(c)[0]
    assert row.cost == "¥0.07 + $0.04"
    assert row.projected == "¥7 + $2"


def test_the_baseline_costs_nothing():
    items = [Item("a", "?", PARIS), Item("b", "?", PARIS)]
    baseline = Variant("current", "baseline", {"a": Answer("Paris", passed=(True,))})
    c = Comparison(items, [baseline])
    s = one(c, "current")
    assert (s.cost, s.unpriced, s.cost_per_item, s.projected) == ({}, 0, {}, {})
    assert (s.answered, s.missing, s.passed) == (1, 1, 1)
    row = summary_rows(c)[0]
    assert (row.cost, row.cost_per_item, row.projected, row.input_tokens) == ("-",) * 4


def test_judge_counts_per_variant_and_none_for_the_reference():
    c = judged()
    assert one(c, "a").judge is None
    assert one(c, "b").judge == JudgeCounts(wins=1, ties=1, losses=1, unparsed=1, errors=1)
    assert one(c, "c").judge == JudgeCounts(unparsed=5)
    rows = summary_rows(c)
    assert [r.judge for r in rows] == [
        "reference",
        "1/1/1 (1 unparsed, 1 failed)",
        "0/0/0 (5 unparsed)",
    ]


def test_unparsed_verdicts_are_never_wins():
    c = judged()
    assert one(c, "c").judge == JudgeCounts(unparsed=5)  # wins stays 0
    assert report_json(c)["variants"][2]["judge"]["wins"] == 0


def test_no_judge_no_judge_counts():
    c = Comparison([Item("q", "?")], [Variant("a", "model", {"q": ok()})])
    assert one(c, "a").judge is None
