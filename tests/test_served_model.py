"""What the server said, not what we assumed: the model that answered, unknown reasoning
counts, and the ledger row of an answer whose usage never came."""

from __future__ import annotations

import json

from fakeserver import fim_completion, openai_completion, openai_stream


def test_the_model_the_response_names_is_recorded_beside_the_one_asked_for(cli):
    # DeepSeek's /beta endpoints may be served by another model than the one asked for.
    cli.server.enqueue(openai_stream(answer=["print(1)"], model="deepseek-v4-flash"))
    result = cli.run("ask", "--json", "--prefix", "```python", "hello")
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["model"], out["served_model"]) == ("deepseek-v4-pro", "deepseek-v4-flash")
    [row] = cli.ledger_rows()
    assert (row["model"], row["served_model"]) == ("deepseek-v4-pro", "deepseek-v4-flash")


def test_fim_records_its_served_model(cli):
    cli.server.enqueue(fim_completion())
    result = cli.run("ask", "--json", "--suffix", "    return a", "def f(a):")
    assert result.code == 0, result.stderr
    served = json.loads(result.stdout)["served_model"]
    assert served and cli.ledger_rows()[0]["served_model"] == served


def test_batch_records_carry_the_served_model(cli, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "prompt": "hi"}) + "\n")
    # batch asks without streaming first
    cli.server.enqueue(openai_completion("ok", model="deepseek-v4-flash-0925"))
    assert cli.run("batch", "run", str(source)).code == 0
    record = json.loads((tmp_path / "in.out.jsonl").read_text())
    assert (record["model"], record["served_model"]) == (
        "deepseek-v4-pro",
        "deepseek-v4-flash-0925",
    )
    cli.server.enqueue(openai_completion("ok", model="deepseek-v4-flash-0925"))
    out = tmp_path / "oai.jsonl"
    assert cli.run("batch", "run", str(source), "-o", str(out), "--format", "openai").code == 0
    body = json.loads(out.read_text())["response"]["body"]
    assert body["model"] == "deepseek-v4-flash-0925"


NO_DETAILS = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}


def test_an_unreported_reasoning_count_stays_unknown(cli, tmp_path):
    cli.server.enqueue(openai_stream(answer=["4"], usage=NO_DETAILS))
    out = json.loads(cli.run("ask", "-p", "oai", "--json", "2+2?").stdout)
    assert out["usage"]["reasoning_tokens"] is None
    assert out["usage"]["output_tokens"] == 5
    assert cli.ledger_rows()[0]["reasoning_tokens"] is None

    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "prompt": "hi"}) + "\n")
    cli.server.enqueue(openai_completion("4", usage=NO_DETAILS))
    out_path = tmp_path / "o.jsonl"
    run = cli.run(
        "batch", "run", "-p", "oai", str(source), "-o", str(out_path), "--format", "openai"
    )
    assert run.code == 0, run.stderr
    usage = json.loads(out_path.read_text())["response"]["body"]["usage"]
    assert usage["completion_tokens_details"] == {"reasoning_tokens": None}


def test_a_cut_answer_is_recorded_with_estimated_tokens_not_zero(cli):
    # 40 characters of answer arrive, then the connection breaks: no usage ever comes.
    cli.server.enqueue(
        openai_stream(answer=["x" * 20, "y" * 20], finish=None, done=False, reset=True)
    )
    result = cli.run("ask", "hi")
    assert result.code == 69
    [row] = cli.ledger_rows()
    # 40 ASCII characters at 0.3 token each: 12 output tokens, flagged as an estimate.
    assert row["output_tokens"] == 12 and row["usage_estimated"] == 1
    assert row["input_tokens"] > 0 and row["outcome"] == "truncated"
