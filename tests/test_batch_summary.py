"""What a batch job reports about money, and which options an input line may set.

Pure functions, called directly: the summary's ``cost`` is a total only when every success
was priced in one currency; the text shows every currency and the unpriced count; the
estimate table writes money as every command does; a line's options are the profile's
request options (less ``system``, its own field, and ``search``) plus the model.
"""

from __future__ import annotations

import json

import pytest

from deepseek_cli.batch.input.grammar import BadLine, RequestLine, parse_line
from deepseek_cli.batch.stats import Stats
from deepseek_cli.catalog.pricing import Cost
from deepseek_cli.render.estimate import format_text
from deepseek_cli.render.progress import print_summary, status_text

LIMIT = 1 << 20


def stats_with(*costs):
    stats = Stats(total=5, ok=len(costs), input_tokens=100, output_tokens=20)
    for cost in costs:
        stats.spend.add(cost)
    return stats


@pytest.mark.parametrize(
    ("costs", "expected"),
    [
        (
            (Cost(0.25, "USD", 0.125), Cost(0.5, "USD")),
            {"amount": 0.75, "currency": "USD", "cache_saved": 0.125},
        ),
        ((Cost(0.25, "USD"), None), None),  # one success without a price
        ((Cost(0.25, "USD"), Cost(1.5, "CNY")), None),  # dollars and yuan do not add up
        ((), None),
    ],
)
def test_the_summary_cost_is_a_total_only_when_every_success_was_priced_alike(costs, expected):
    assert stats_with(*costs).summary()["cost"] == expected


def test_the_status_line_shows_each_currency_and_the_unpriced_items():
    stats = stats_with(Cost(0.25, "USD"), Cost(1.5, "CNY"), None, None)
    assert "120 tokens, ¥1.5 + $0.25 + unknown (2 items), ETA" in status_text(stats)
    assert "120 tokens, no cost, ETA" in status_text(stats_with())


def test_the_final_line_and_the_json_summary(capsys):
    stats = stats_with(Cost(0.0125, "USD"), None)
    summary = stats.summary(batch_id="b1", errors_file="e.jsonl")
    print_summary(summary, stats, as_json=False)
    line = capsys.readouterr().err
    assert line.startswith("batch b1: 2/5 done (2 ok, 0 failed); ")
    assert line.endswith(
        ", 120 tokens, $0.0125 + unknown (1 item); 3 not done (the same command resumes)\n"
    )
    print_summary(summary, stats, as_json=True)
    out = capsys.readouterr().out
    assert json.loads(out)["cost"] is None and out.endswith("}\n")


def estimate(models, cost):
    return {
        "models": models,
        "lines": sum(m["lines"] for m in models),
        "input_tokens": sum(m["input_tokens"] for m in models),
        "output_tokens": sum(m["output_tokens"] for m in models),
        "cost": cost,
        "price": "real-time",
        "assumed_output": None,
        "lines_without_output_estimate": 0,
        "invalid_lines": 0,
    }


def model(name, lines, cost):
    return {
        "model": name,
        "lines": lines,
        "input_tokens": 1234 * lines,
        "output_tokens": 0,
        "cost": cost,
    }


def test_the_estimate_table_writes_money_like_every_command():
    text = format_text(
        estimate(
            [
                model("deepseek-flash", 10, {"amount": 1234.5, "currency": "USD"}),
                model("qwen-plus", 2, {"amount": 0.000125, "currency": "CNY"}),
                model("mystery", 1, None),
            ],
            None,
        )
    )
    assert text.splitlines()[:5] == [
        "model           lines  input tokens  output tokens       cost",
        "deepseek-flash     10        12,340              0   $1,234.5",
        "qwen-plus           2         2,468              0  ¥0.000125",
        "mystery             1         1,234              0    unknown",
        "total              13        16,042              0    unknown",
    ]


def test_one_model_has_no_total_row():
    text = format_text(estimate([model("m", 3, {"amount": 2.0, "currency": "EUR"})], None))
    assert text.splitlines()[:2] == [
        "model  lines  input tokens  output tokens   cost",
        "m          3         3,702              0  2 EUR",
    ]
    assert not any(row.startswith("total") for row in text.splitlines())


def parse(obj):
    return parse_line(1, (json.dumps(obj) + "\n").encode(), LIMIT)


def test_a_line_sets_the_model_and_the_profiles_request_options():
    options = {
        "model": "m",
        "thinking": True,
        "thinking_budget": 5,
        "reasoning_effort": "high",
        "temperature": 0.5,
        "top_p": 0.9,
        "max_tokens": 7,
    }
    parsed = parse({"id": "a", "prompt": "p", **options, "metadata": {"k": 1}})
    assert isinstance(parsed, RequestLine) and parsed.overrides == options
    body = {"messages": [{"role": "user", "content": "p"}], **options, "n": 2}
    del body["thinking"]
    batch = parse({"custom_id": "b", "body": body})
    assert isinstance(batch, RequestLine)
    assert batch.overrides == {
        **{k: v for k, v in options.items() if k != "thinking"},
        "extra": {"n": 2},
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("search", True, "unknown field 'search'"),  # a job-wide choice, not a line's
        ("temperature", 2.5, "temperature must be a number from 0 to 2"),
        ("max_tokens", 0, "max_tokens must be a positive integer"),
        ("thinking", "yes", "thinking must be true or false"),
    ],
)
def test_a_line_option_outside_its_range_or_not_an_option_is_a_bad_line(field, value, message):
    parsed = parse({"id": "a", "prompt": "p", field: value})
    assert isinstance(parsed, BadLine) and parsed.message == f"{message} (id 'a')"
