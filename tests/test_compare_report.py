"""The compare report's outputs from hand-built comparisons: report.json, report.md and the
table on stdout.

Nothing an answer or a prompt holds (pipes, fences, headings) may change the page's structure;
the JSON round-trips and says null for what is unknown; the plain table is aligned.
"""

from __future__ import annotations

import json
import re

import pytest
from compare_helpers import HOSTILE, PARIS, failed, judged, ok, usd
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from deepseek_cli.compare.checks import Check
from deepseek_cli.compare.report_json import report_json
from deepseek_cli.compare.report_md import report_md
from deepseek_cli.compare.results import Answer, Comparison, Item, Judging, Variant, Verdict
from deepseek_cli.compare.table_rows import print_summary, summary_rows
from deepseek_cli.render.compare_table import print_summary_table

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
