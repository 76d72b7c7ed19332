"""The compare report from hand-built comparisons: the summary's arithmetic, report.json,
report.md and the table.

The report is pure functions of the result values (``compare.results``), so these tests build
those values directly and call the real functions: no model, no files. They pin the rules a
team relies on when deciding by the numbers: an unknown cost is never summed as 0, currencies
never mix, the baseline costs nothing, an unreadable verdict is never a win, a failed answer
never passes, and nothing an answer holds can break the page.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from deepseek_cli.compare.checks import Check
from deepseek_cli.compare.report_json import report_json
from deepseek_cli.compare.report_md import report_md
from deepseek_cli.compare.results import Answer, Comparison, Item, Judging, Variant, Verdict
from deepseek_cli.compare.summary import JudgeCounts, percentile, summarize
from deepseek_cli.compare.table_rows import print_summary, summary_rows
from deepseek_cli.render.compare_table import print_summary_table

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


def one(c: Comparison, label: str):
    (summary,) = [s for s in summarize(c) if s.label == label]
    return summary


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
        projected={"USD": 2.0, "CNY": 7.0},
    )
    c = Comparison(items, [variant])
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


def judged() -> Comparison:
    items = [Item(f"q{i}", "?") for i in range(5)]
    answers = {item.id: ok() for item in items}
    outcomes = ["win", "tie", "loss", "unparsed", "error"]
    verdicts = [Verdict(f"q{i}", "b", o, f"said {o}") for i, o in enumerate(outcomes)]
    verdicts += [Verdict(f"q{i}", "c", "unparsed") for i in range(5)]
    judging = Judging("judge", "a", verdicts, cost={"USD": 0.5}, unpriced=2)
    variants = [Variant(label, "model", dict(answers)) for label in "abc"]
    return Comparison(items, variants, judging)


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


# report.json


def test_report_json_round_trips_and_says_null_for_what_is_unknown():
    c = judged()
    c.variants[1].answers["q0"] = failed()
    del c.variants[2].answers["q1"]
    c.items[0] = Item("q0", "Capital of France?", PARIS)
    c.total_lines, c.input, c.directory = 40, "questions.jsonl", "questions.jsonl.compare"
    report = report_json(c, judge_prompt="Which answer is better?")
    assert json.loads(json.dumps(report)) == report
    assert report["total_lines"] == 40 and report["input"] == "questions.jsonl"
    first = report["items"][0]
    assert first["checks"] == ['expected "Paris"']
    assert first["answers"]["b"]["error"] == "provider unavailable (503)"
    assert first["answers"]["b"]["answer"] is None and first["answers"]["b"]["cost"] is None
    assert first["verdicts"]["b"] == {"outcome": "win", "said": "said win"}
    assert report["items"][1]["answers"]["c"] is None  # missing, and says so
    assert [v["label"] for v in report["variants"]] == ["a", "b", "c"]
    assert report["variants"][1]["errors"] == 1
    assert report["judge"] == {
        "label": "judge",
        "reference": "a",
        "cost": {"USD": 0.5},
        "unpriced": 2,
        "prompt": "Which answer is better?",
    }


def test_report_json_without_judge_or_prompt():
    c = Comparison([Item("q", "?")], [Variant("a", "model", {"q": ok()})])
    assert report_json(c)["judge"] is None
    assert "prompt" not in report_json(judged())["judge"]


# report.md


def tokens(page: str) -> list:
    return MarkdownIt("commonmark").enable("table").parse(page)


def headings(page: str) -> list[str]:
    toks = tokens(page)
    return [toks[i + 1].content for i, t in enumerate(toks) if t.type == "heading_open"]


def hostile_comparison(text: str) -> Comparison:
    items = [Item("q1", text, PARIS), Item("q2", "plain")]
    a = Variant(
        "a|b `x`",
        "model",
        {"q1": ok(text, passed=(False,), cost=usd(0.001)), "q2": ok("fine")},
    )
    b = Variant("current", "baseline", {"q1": Answer(text, passed=(False,))})
    judging = Judging("judge", "a|b `x`", [Verdict("q1", "current", "unparsed", text)])
    return Comparison(items, [a, b], judging, total_lines=2, input="in`put|.jsonl")


def test_report_md_keeps_a_hostile_answer_inside_its_block():
    plain = report_md(hostile_comparison("Paris"), judge_prompt="Judge.")
    page = report_md(hostile_comparison(HOSTILE), judge_prompt=HOSTILE)
    assert headings(page) == headings(plain)
    fences = [t.content for t in tokens(page) if t.type == "fence"]
    # The prompt, the judge's prompt, two answers and the judge's words: each whole, as written.
    assert fences.count(HOSTILE) == 5
    assert len([t for t in tokens(page) if t.type == "table_open"]) == 1


def test_report_md_table_has_one_row_per_variant_and_every_column():
    page = report_md(hostile_comparison(HOSTILE))
    toks = tokens(page)
    rows = [t for t in toks if t.type == "tr_open"]
    assert len(rows) == 3  # header + 2 variants: the label's "|" is escaped
    cells_per_row = []
    count = 0
    for t in toks:
        if t.type == "tr_open":
            count = 0
        elif t.type in ("th_open", "td_open"):
            count += 1
        elif t.type == "tr_close":
            cells_per_row.append(count)
    assert cells_per_row == [17, 17, 17]
    body = page.split("## Summary")[1].split("## Judge")[0]
    assert "a\\|b \\`x\\`" in body and "current" in body


def test_report_md_marks_checks_and_errors():
    items = [Item("q", "Capital?", (Check("expected", "Paris"), Check("max_chars", 3)))]
    good = Variant("good", "model", {"q": ok("Paris", passed=(True, False))})
    bad = Variant("bad", "model", {"q": failed("rate limited (429)")})
    page = report_md(Comparison(items, [good, bad]))
    good_part = page.split("#### good")[1].split("#### bad")[0]
    assert '- ✓ expected "Paris"' in good_part and "- ✗ max\\_chars 3" in good_part
    bad_part = page.split("#### bad")[1]
    assert "rate limited (429)" in bad_part and "✓" not in bad_part
    assert bad_part.count("✗") == 2


def test_report_md_is_reproducible_and_has_no_timestamp():
    page = report_md(judged(), judge_prompt="x")
    assert page == report_md(judged(), judge_prompt="x")
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}", page)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("`~#|*_-=>\n <!x[]")), min_size=1, max_size=80))
def test_no_answer_text_changes_the_page_structure(text):
    expected = headings(report_md(hostile_comparison("Paris")))
    page = report_md(hostile_comparison(text))
    assert headings(page) == expected
    fences = [t.content for t in tokens(page) if t.type == "fence"]
    body = text if text.endswith("\n") or not text else text + "\n"
    assert fences.count(body) == 4  # prompt, two answers, the judge's words


# the table


def test_plain_table_is_aligned_and_has_every_variant(capsys):
    c = judged()
    c.variants.append(Variant("current", "baseline", {"q0": Answer("x")}))
    print_summary_table(summary_rows(c), judged=True, terminal=False)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + 4
    assert [line.split()[0] for line in lines] == ["VARIANT", "a", "b", "c", "current"]
    header = lines[0]
    # Right-aligned columns end where their header ends, on every row.
    for name, value_of_b in [("ITEMS", "5"), ("ANSWERED", "5"), ("ERRORS", "0")]:
        end = header.index(name) + len(name)
        assert lines[2][end - len(value_of_b) : end] == value_of_b
        assert all(line[end - 1] != " " for line in lines[1:])
    assert "\x1b" not in "".join(lines)


def test_plain_table_leaves_the_judge_column_out_without_a_judge(capsys):
    c = Comparison([Item("q", "?")], [Variant("a", "model", {"q": ok()})])
    print_summary_table(summary_rows(c), judged=False, terminal=False)
    out = capsys.readouterr().out
    assert "JUDGE" not in out and "PROJECTED" in out


def test_terminal_table_shows_every_variant_and_value(capsys):
    c = judged()
    print_summary_table(summary_rows(c), judged=True, terminal=True)
    out = capsys.readouterr().out
    for text in ("a", "b", "c", "reference", "1/1/1 (1 unparsed, 1 failed)"):
        assert text in out


def test_the_judge_cost_is_reported_apart(capsys):
    c = judged()
    print_summary(c, terminal=False)
    out = capsys.readouterr().out
    table, judge_line = out.rstrip("\n").rsplit("\n", 1)
    assert judge_line == (
        "judge: judge against a (W/T/L: wins, ties, losses); judge cost $0.5 + unknown (2 calls)"
    )
    assert "$0.5" not in table  # in no variant's cost
    assert "$0.5 + unknown (2 calls)" in report_md(c).split("## Judge")[1].split("## Items")[0]


def test_without_a_judge_the_summary_is_only_the_table(capsys):
    c = Comparison([Item("q", "?")], [Variant("a", "model", {"q": ok(cost=usd(0.25))})])
    print_summary(c, terminal=False)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "$0.25" in lines[1]
    assert "## Judge" not in report_md(c)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("my_questions.jsonl", "`my_questions.jsonl`"),  # as is: escapes do not work in code
        ("odd`name|x.jsonl", "odd\\`name\\|x.jsonl"),
        ("", "the input"),
    ],
)
def test_report_md_names_the_input_safely(name, shown):
    c = Comparison([Item("q", "?")], [Variant("a", "model", {"q": ok()})], input=name)
    assert report_md(c).splitlines()[2].startswith(f"Input: {shown}, 1 line; 1 variant.")
