"""``finish_reason: length`` is never silent: a cut answer is said on stderr, and no answer
at all (thinking used up max_tokens) exits non-zero."""

from __future__ import annotations

import json

from batch_helpers import Script, make_input, read_records
from fakeserver import openai_completion, openai_stream


def test_thinking_that_uses_up_max_tokens_is_no_answer_and_exits_65(cli):
    cli.server.enqueue(openai_stream(answer=[], thinking=["Let me"], finish="length"))
    result = cli.run("ask", "--max-tokens", "5", "2+2?")
    assert result.code == 65 and result.stdout == ""
    assert "no answer: thinking used up max_tokens (5)" in result.stderr
    assert "--no-think" in result.stderr


def test_json_still_prints_the_object_before_exiting_65(cli):
    cli.server.enqueue(openai_stream(answer=[], thinking=["Let me"], finish="length"))
    result = cli.run("ask", "--json", "--max-tokens", "5", "2+2?")
    assert result.code == 65
    out = json.loads(result.stdout)
    assert (out["answer"], out["finish_reason"]) == ("", "length")


def test_a_cut_answer_is_kept_and_said_on_stderr(cli):
    cli.server.enqueue(openai_stream(answer=["The answer is"], finish="length"))
    result = cli.run("ask", "--max-tokens", "3", "2+2?")
    assert result.code == 0
    assert result.stdout == "The answer is\n"
    assert "cut off at max_tokens (3)" in result.stderr


def test_chat_keeps_no_empty_turn_and_says_why(cli):
    cli.server.enqueue(openai_stream(answer=[], thinking=["Hmm"], finish="length"))
    result = cli.run("chat", "--session", "cut", "--max-tokens", "4", input=b"2+2?\n")
    assert "no answer: thinking used up max_tokens (4)" in result.stderr
    path = cli.home / "sessions" / "cut.json"
    assert not path.exists() or json.loads(path.read_text())["turns"] == []
    # The next line is a turn as usual: the failure did not end the session.
    cli.server.enqueue(openai_stream(answer=["4"]), openai_stream(answer=[], finish="length"))
    again = cli.run("chat", "--session", "cut", input=b"2+2?\nmore\n")
    assert "no answer within the model's output limit" in again.stderr
    assert [t["answer"] for t in json.loads(path.read_text())["turns"]] == ["4"]


def test_batch_records_say_when_max_tokens_cut_them_and_the_summary_counts_them(cli):
    make_input(cli.home / "in.jsonl", 5)
    cut = openai_completion(answer="The answer is", finish="length")
    cli.server.handler = Script({"q1": [cut], "q3": [cut]})
    result = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl")
    assert result.code == 0, result.stderr
    records = {r["id"]: r for r in read_records(cli.home / "out.jsonl")}
    assert {i for i, r in records.items() if r["finish_reason"] == "length"} == {"q1", "q3"}
    assert records["q1"]["answer"] == "The answer is"
    assert "(5 ok, 0 failed, 2 cut at max_tokens)" in result.stderr
    again = cli.run("batch", "run", "in.jsonl", "-o", "other.jsonl", "--json")
    assert json.loads(again.stdout)["cut_at_max_tokens"] == 0  # the fake echoes in full now
