"""``deepseek compare`` end to end: the real CLI, the batch engine, the fake provider playing
several models and a judge.

The fake models answer from a table keyed by (model, question), so each variant's answers,
checks and the judge's verdicts are known in advance; the server records every request, so
"a re-run sends nothing" and "each item exactly once" are counted, not assumed.
"""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any

import pytest
from fakeserver import http_fixture, last_user_text, openai_completion, openai_stream

QUESTIONS = [
    {"id": "capital", "prompt": "What is the capital of France?", "expected": "paris"},
    {
        "id": "json",
        "prompt": "Give a JSON object with a key a.",
        "checks": [{"json": True}, {"max_chars": 40}],
    },
    {"id": "plain", "prompt": "Say hello."},
]
ANSWERS = {
    "deepseek-v4-pro": {
        "What is the capital of France?": "Paris.",
        "Give a JSON object with a key a.": '{"a": 1}',
        "Say hello.": "Hello!",
    },
    "deepseek-v4-flash": {
        "What is the capital of France?": "Lyon, I think.",
        "Give a JSON object with a key a.": "Sure: a = 1",
        "Say hello.": "Hi.",
    },
}


def judge_says(prompt: str) -> str:
    """The judge prefers the answer that mentions Paris or is JSON; "tie" for greetings;
    nonsense for one question, which must count as unparsed."""
    a = prompt.split("Answer A:\n<<<\n", 1)[1].split("\n>>>", 1)[0]
    b = prompt.split("Answer B:\n<<<\n", 1)[1].split("\n>>>", 1)[0]
    if "hello" in prompt.lower().split("answer a:")[0]:
        return "tie"
    if "JSON object" in prompt:
        return "I cannot decide, both have merit"
    return "A" if "Paris" in a else "B" if "Paris" in b else "tie"


class Models:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.fail: set[str] = set()

    def __call__(self, recorded: Any) -> Any:
        body = recorded.json
        model, prompt = body["model"], last_user_text(body)
        self.seen.append((model, prompt))
        if model in self.fail:
            return http_fixture("errors/deepseek_400_model_not_exist.http")
        text = (
            judge_says(prompt)
            if prompt.startswith("You are judging")
            else (
                ANSWERS[model].get(prompt, "ok")  # "ok" for anything else (the breaker's ping)
            )
        )
        if body.get("stream"):  # DashScope's thinking models are only served streamed
            return openai_stream((text,), model=model)
        return openai_completion(text, model=model)


def write_lines(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture
def models(cli):
    handler = Models()
    cli.server.handler = handler
    return handler


VARIANTS = ["-m", "ds:deepseek-v4-pro", "-m", "dsc:deepseek-v4-flash@no-think"]


def test_the_done_when_example_reports_end_to_end_and_a_rerun_sends_nothing(cli, models):
    questions = write_lines(cli.home / "questions.jsonl", QUESTIONS)
    current = write_lines(
        cli.home / "current.jsonl",
        [
            {"id": "capital", "answer": "The capital is Paris."},
            {"id": "json", "answer": "{}"},
            {"id": "plain", "answer": "Good day."},
        ],
    )
    args = ["compare", str(questions), *VARIANTS, "--baseline", str(current)]
    args += ["--judge", "ds:deepseek-v4-flash"]
    r = cli.run(*args)
    assert r.code == 0, r.stderr
    directory = cli.home / "questions.jsonl.compare"
    report = json.loads((directory / "report.json").read_text())
    variants = {v["label"]: v for v in report["variants"]}
    assert list(variants) == ["baseline", "ds:deepseek-v4-pro", "dsc:deepseek-v4-flash@no-think"]
    pro, flash = variants["ds:deepseek-v4-pro"], variants["dsc:deepseek-v4-flash@no-think"]
    assert pro["answered"] == flash["answered"] == 3
    assert (pro["passed"], pro["checked"]) == (2, 2)
    assert (flash["passed"], flash["checked"]) == (0, 2)
    assert variants["baseline"]["passed"] == 2  # "Paris" and "{}" pass
    assert variants["baseline"]["cost"] == {}  # sends nothing
    assert pro["cost"] and all(v > 0 for v in pro["cost"].values())
    assert pro["projected"]  # the whole input at its price
    # Judged against the baseline: the judge cannot decide the JSON question (unparsed for
    # both variants), and flash's "Lyon" loses to the baseline's Paris.
    assert pro["judge"]["unparsed"] == 1 and flash["judge"]["unparsed"] == 1
    assert flash["judge"]["losses"] == 1  # Lyon against Paris
    assert report["judge"]["label"] == "ds:deepseek-v4-flash"
    assert report["judge"]["cost"]["USD"] > 0  # reported apart, priced at the judge's model
    # The thinking switch of the variant reached the wire.
    judged = [m for m, p in models.seen if p.startswith("You are judging")]
    sent = [m for m, p in models.seen if not p.startswith("You are judging")]
    assert sent.count("deepseek-v4-pro") == 3 and sent.count("deepseek-v4-flash") == 3
    assert judged == ["deepseek-v4-flash"] * 6
    md = (directory / "report.md").read_text()
    assert "Lyon, I think." in md and "What is the capital of France?" in md
    assert "ds:deepseek-v4-pro" in r.stdout and "dsc:deepseek-v4-flash@no-think" in r.stdout

    before = len(models.seen)
    again = cli.run(*args)
    assert again.code == 0, again.stderr
    assert len(models.seen) == before  # a re-run sends nothing
    assert json.loads((directory / "report.json").read_text()) == report


def test_bad_checks_are_refused_with_line_numbers_before_anything_is_sent(cli, models):
    bad = [
        {"id": "a", "prompt": "x", "checks": [{"regex": "("}]},
        {"id": "b", "prompt": "y"},
        {"id": "c", "prompt": "z", "checks": [{"nearly": "x"}]},
        {"id": "d", "prompt": "w", "expected": 3},
        {"id": "b", "prompt": "again"},
    ]
    path = write_lines(cli.home / "bad.jsonl", bad)
    r = cli.run("compare", str(path), *VARIANTS)
    assert r.code == 65
    for number in (1, 3, 4, 5):
        assert f"bad.jsonl:{number}:" in r.stderr
    assert "bad.jsonl:2:" not in r.stderr
    assert models.seen == []
    assert not (cli.home / "bad.jsonl.compare").exists()


def test_a_sample_is_the_same_lines_every_run(cli, models):
    lines = [{"id": f"q{i}", "prompt": "Say hello."} for i in range(20)]
    path = write_lines(cli.home / "many.jsonl", lines)
    r = cli.run("compare", str(path), "-m", "ds:deepseek-v4-pro", "--sample", "5", "--json")
    assert r.code == 0, r.stderr
    first = [item["id"] for item in json.loads(r.stdout)["items"]]
    assert len(first) == 5 and len(models.seen) == 5
    again = cli.run("compare", str(path), "-m", "ds:deepseek-v4-pro", "--sample", "5", "--json")
    assert [item["id"] for item in json.loads(again.stdout)["items"]] == first
    assert len(models.seen) == 5
    assert json.loads(r.stdout)["total_lines"] == 20


def test_min_pass_and_errors_exit_4(cli, models):
    path = write_lines(cli.home / "q.jsonl", QUESTIONS)
    r = cli.run("compare", str(path), *VARIANTS, "--min-pass", "0.5")
    assert r.code == 4
    assert "dsc:deepseek-v4-flash@no-think" in r.stderr and "0.5" in r.stderr
    models.fail.add("deepseek-v4-pro")
    r = cli.run("compare", str(path), "-m", "ds:deepseek-v4-pro", "-o", str(cli.home / "other"))
    assert r.code == 4
    report = json.loads((cli.home / "other" / "report.json").read_text())
    assert report["variants"][0]["errors"] == 3


def test_a_model_name_with_a_colon_stays_a_model_and_thinking_options_reach_the_request(
    cli, models
):
    path = write_lines(cli.home / "q.jsonl", QUESTIONS[:1])
    ANSWERS["deepseek-r1:7b"] = ANSWERS["deepseek-v4-pro"]
    try:
        r = cli.run(
            "compare",
            str(path),
            "-m",
            "deepseek-r1:7b",
            "-m",
            "ds:deepseek-v4-pro@think",
        )
    finally:
        del ANSWERS["deepseek-r1:7b"]
    assert r.code == 0, r.stderr
    bodies = [rec.json for rec in cli.server.requests]
    assert bodies[0]["model"] == "deepseek-r1:7b"
    assert bodies[1]["model"] == "deepseek-v4-pro"
    assert bodies[1].get("thinking", {}).get("type") == "enabled" or "thinking" in json.dumps(
        bodies[1]
    )


def test_unknown_variant_options_are_usage_errors(cli, models):
    path = write_lines(cli.home / "q.jsonl", QUESTIONS)
    r = cli.run("compare", str(path), "-m", "ds:deepseek-v4-pro@turbo")
    assert r.code == 2 and "@turbo" in r.stderr
    r = cli.run("compare", str(path), "-m", "nosuch:x@effort=extreme")
    assert r.code == 2 and "effort" in r.stderr
    assert models.seen == []


def test_compare_resumes_after_sigkill_and_sends_each_item_once(cli, models):
    lines = [{"id": f"q{i}", "prompt": "Say hello."} for i in range(12)]
    path = write_lines(cli.home / "slow.jsonl", lines)
    original = models.__call__

    def delayed(recorded: Any) -> Any:
        reply = original(recorded)
        reply.delay = 0.2
        return reply

    cli.server.handler = delayed
    args = ["compare", str(path), "-m", "ds:deepseek-v4-pro", "-j", "2"]
    proc = cli.spawn(*args)
    cli.wait_output(proc, "variant 1 of 1", stream="stderr")
    # Wait for some records, then kill the process outright.
    directory = cli.home / "slow.jsonl.compare"
    _wait_for_records(directory, 3)
    killed = cli.finish(proc, signal.SIGKILL)
    assert killed.code == -signal.SIGKILL
    done_before = _records(directory)
    assert 3 <= done_before < 12
    cli.server.handler = original
    r = cli.run(*args)
    assert r.code == 0, r.stderr
    prompts = [p for m, p in models.seen if m == "deepseek-v4-pro"]
    # Every item answered once; the ones in flight at the kill may have been sent twice
    # (never recorded), at most -j of them.
    assert _records(directory) == 12
    assert 12 <= len(prompts) <= 12 + 2


def _records(directory: Path) -> int:
    files = [
        p for p in directory.glob("*.jsonl") if not p.name.endswith(("errors.jsonl", "input.jsonl"))
    ]
    return sum(1 for f in files for line in f.read_text().splitlines() if line.strip())


def _wait_for_records(directory: Path, count: int) -> None:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if directory.exists() and _records(directory) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} records in {directory}")


def test_piped_stdout_is_a_plain_table_and_json_is_the_report(cli, models):
    path = write_lines(cli.home / "q.jsonl", QUESTIONS)
    r = cli.run("compare", str(path), *VARIANTS)
    assert r.code == 0, r.stderr
    assert "\x1b[" not in r.stdout
    assert re.search(r"ds:deepseek-v4-pro\s", r.stdout)
    r = cli.run("compare", str(path), *VARIANTS, "--json")
    data = json.loads(r.stdout)
    assert data == json.loads((cli.home / "q.jsonl.compare" / "report.json").read_text())


def test_help_shows_the_judge_prompt_as_sent(cli):
    from deepseek_cli.compare.prompt import JUDGE_PROMPT

    r = cli.run("compare", "--help")
    assert r.code == 0, r.stderr
    shown = [line.strip() for line in r.stdout.splitlines()]
    for line in JUDGE_PROMPT.splitlines():
        if line.strip():
            assert line.strip() in shown, line


def test_max_cost_is_one_budget_for_the_whole_comparison(cli, models):
    # Small reservations: alone, the second variant would fit in what the first leaves of
    # the budget many times over; only a budget shared across variants stops it.
    path = write_lines(cli.home / "q.jsonl", [{**q, "max_tokens": 5} for q in QUESTIONS])
    r = cli.run("compare", str(path), "-m", "ds:deepseek-v4-pro", "--max-cost", "0.00000001")
    assert r.code == 75, r.stderr
    assert "--max-cost" in r.stderr or "budget" in r.stderr
    assert models.seen == []
    r = cli.run("compare", str(path), "-m", "ds:deepseek-v4-pro", "--json")
    assert r.code == 0, r.stderr
    spent = json.loads(r.stdout)["variants"][0]["cost"]["USD"]
    # What the first variant spent leaves nothing for the second: it stops, resumable, and
    # the first sends nothing again.
    budget = f"{spent * 1.01:.12f}"
    before = len(models.seen)
    r = cli.run("compare", str(path), *VARIANTS, "--max-cost", budget)
    assert r.code == 75, r.stderr
    assert len(models.seen) == before
    r = cli.run("compare", str(path), *VARIANTS, "--max-cost", "1")
    assert r.code == 0, r.stderr
    assert [m for m, _ in models.seen[before:]] == ["deepseek-v4-flash"] * 3
