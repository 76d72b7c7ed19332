"""``chat``, ``batch run``, ``models --live`` and ``config doctor`` against llama-server."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.realserver

FRANCE = "What is the capital of France?"
SPAIN = "And of Spain?"


def test_piped_chat_answers_each_line_and_saves_the_session(cli, think):
    result = cli.run("chat", "--session", "real", input=f"{FRANCE}\n{SPAIN}\n")
    assert result.code == 0, result.stderr
    session = json.loads((cli.home / "sessions" / "real.json").read_text())
    turns = session["turns"]
    assert [t["prompt"] for t in turns] == [FRANCE, SPAIN]
    assert [t["status"] for t in turns] == ["ok", "ok"]
    assert [t["model"] for t in turns] == ["smollm2", "smollm2"]
    # the server parsed out reasoning for each turn; stdout holds only the answers
    assert all(t["thinking"] for t in turns)
    assert result.stdout == "".join(t["answer"] + "\n" for t in turns)
    assert all(t["usage"]["reasoning_tokens"] is None for t in turns)
    first, second = cli.ledger_rows()
    # the second turn carried the first as history
    assert second["input_tokens"] > first["input_tokens"]
    assert first["served_model"] == second["served_model"] == think.served_model


def test_batch_in_openai_format_then_a_rerun_sends_nothing(cli, think, tmp_path):
    src = tmp_path / "in.jsonl"
    openai_line = {
        "custom_id": "a",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "smollm2", "messages": [{"role": "user", "content": FRANCE}]},
    }
    src.write_text(json.dumps(openai_line) + "\n" + json.dumps({"id": "b", "prompt": SPAIN}) + "\n")
    out = tmp_path / "out.jsonl"
    args = ("batch", "run", str(src), "-o", str(out), "--format", "openai", "--json")
    first = cli.run(*args)
    assert first.code == 0, first.stderr
    summary = json.loads(first.stdout)
    assert (summary["total"], summary["succeeded"], summary["failed"]) == (2, 2, 0)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["custom_id"] for r in records) == ["a", "b"]
    for record in records:
        assert set(record) == {"id", "custom_id", "response", "error"}
        assert record["error"] is None
        assert record["id"].startswith("batch_req_")
        response = record["response"]
        assert response["status_code"] == 200
        assert response["request_id"]
        body = response["body"]
        assert body["object"] == "chat.completion"
        assert body["model"] == think.served_model
        [choice] = body["choices"]
        assert choice["message"]["role"] == "assistant"
        assert choice["finish_reason"] in ("stop", "length")
        assert body["usage"]["completion_tokens_details"] == {"reasoning_tokens": None}
        assert body["usage"]["total_tokens"] == (
            body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
        )
    rows = cli.ledger_rows()
    assert [r["served_model"] for r in rows] == [think.served_model] * 2
    written = out.read_bytes()
    decoded = think.metric("n_decode_total")
    again = cli.run(*args)
    assert again.code == 0, again.stderr
    assert json.loads(again.stdout)["done_before"] == 2
    assert think.metric("n_decode_total") == decoded  # the server saw no request
    assert len(cli.ledger_rows()) == 2
    assert out.read_bytes() == written


def test_models_live_lists_the_servers_model_as_not_in_the_catalog(cli, inline):
    result = cli.run("models", "-p", "inline", "--live", "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"provider": "openai", "id": inline.served_model, "in_catalog": False, "visible": True}
    ]
    table = cli.run("models", "-p", "inline", "--live")
    assert table.code == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split()[0] == "MODEL"
    [row] = rows
    assert row.startswith(inline.served_model + " ")
    assert "not in catalog" in row
    assert row.endswith(" yes")


def test_doctor_passes_against_the_server(cli, think):
    result = cli.run("config", "doctor", "-p", "think")
    assert result.code == 0, result.stdout + result.stderr
    checks = [line.split()[:2] for line in result.stdout.splitlines()]
    assert [status for status, _ in checks] == ["ok", "ok", "ok", "ok", "ok", "warn"]
    assert [name for _, name in checks] == ["config", "profile", "key", "host", "key", "model"]
    # the only warning: the model is not in the catalog (a local model has no limits or price)
    assert "not in the catalog" in result.stdout.splitlines()[-1]
    assert "the model list has 1 model" in result.stdout and "1 models" not in result.stdout


def test_doctor_with_the_servers_key_passes_and_without_it_fails_77(cli, keyed):
    good = cli.run("config", "doctor", "-p", "keyed")
    assert good.code == 0, good.stdout + good.stderr
    bad = cli.run("config", "doctor", "-p", "keyless")
    assert bad.code == 77, bad.stdout + bad.stderr
    [failed] = [line for line in bad.stdout.splitlines() if line.startswith("FAIL")]
    assert failed.split()[1:3] == ["key", "accepted"]
    assert "Traceback" not in bad.stdout + bad.stderr
