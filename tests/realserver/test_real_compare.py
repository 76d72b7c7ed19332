"""``deepseek compare`` against llama-server: two variants, a judge, a re-run that sends nothing.

The model is tiny and its words are not checked (see test_real_ask.py); what is checked is
that every variant's answers came from the real server and into the report, that the judge's
replies are classified (a small model rarely says just A, B or tie: those are "unparsed",
never wins), and that the batch engine's exactly-once holds against a server we did not
write.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.realserver

QUESTIONS = [
    {"id": "france", "prompt": "What is the capital of France?", "expected": "paris"},
    {"id": "hello", "prompt": "Say hello.", "checks": [{"max_chars": 2000}]},
]


def test_compare_two_variants_and_a_judge_then_a_rerun_sends_nothing(cli, think, tmp_path):
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    args = [
        "compare",
        str(questions),
        "-m",
        "think:smollm2",
        "-m",
        "think:smollm2@no-think",
        "--judge",
        "think:smollm2",
        "-o",
        str(tmp_path / "out"),
        "--json",
    ]
    result = cli.run(*args, timeout=180)
    assert result.code in (0, 4), result.stderr  # 4: a pass rate the tiny model missed is fine
    report = json.loads(result.stdout)
    labels = [v["label"] for v in report["variants"]]
    assert labels == ["think:smollm2", "think:smollm2@no-think"]
    for variant in report["variants"]:
        assert variant["answered"] == 2 and variant["errors"] == 0
        assert variant["checked"] == 2 and variant["latency_p50_ms"] is not None
    for item in report["items"]:
        for label in labels:
            assert item["answers"][label]["answer"].strip()
    second = report["variants"][1]
    counts = second["judge"]
    assert sum(counts[k] for k in ("wins", "ties", "losses", "unparsed", "errors")) == 2
    rows = cli.ledger_rows()
    assert len(rows) == 2 + 2 + 2  # two variants and the judge, each item once
    assert all(row["outcome"] == "ok" for row in rows)

    again = cli.run(*args, timeout=180)
    assert again.code == result.code, again.stderr
    assert len(cli.ledger_rows()) == len(rows)  # nothing sent again
    assert json.loads(again.stdout) == report
