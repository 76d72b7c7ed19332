"""``deepseek batch run`` and ``batch estimate``: formats, validation, resume, files, ledger.

Everything runs the real CLI in a subprocess against the local server (``conftest``).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

from batch_helpers import (
    OUTPUT_FIELDS,
    PREFIX,
    Script,
    check_exactly_once,
    deepseek_error,
    make_input,
    read_records,
    requested_ids,
    run_measured,
)
from conftest import CANARY_DEEPSEEK
from fakeserver import FIXTURES, last_user_text


def test_run_writes_every_id_once_and_a_rerun_sends_nothing(cli):
    prompts = make_input(cli.home / "in.jsonl", 40)
    first = cli.run("batch", "run", "in.jsonl", "-j", "4")
    assert first.code == 0, first.stderr
    out, err = cli.home / "in.out.jsonl", cli.home / "in.out.errors.jsonl"
    outs, errs = check_exactly_once(prompts, out, err)
    assert errs == [] and not err.exists()  # no empty errors file left behind
    record = outs[0]
    assert set(record) == OUTPUT_FIELDS
    assert record["finish_reason"] == "stop" and record["attempts"] == 1
    assert record["usage"]["total_tokens"] == 18 and record["cost"]["currency"] == "USD"
    assert record["model"] == "deepseek-v4-pro" and record["request_id"]
    # Non-streaming by default; a short job prints only the final summary on stderr.
    assert all(r.json["stream"] is False for r in cli.server.requests)
    assert "40/40 done (40 ok, 0 failed)" in first.stderr
    assert "batch: " not in first.stderr and first.stdout == ""

    sent = len(cli.server.requests)
    again = cli.run("batch", "run", "in.jsonl", "-j", "4", "--json")
    assert again.code == 0, again.stderr
    assert len(cli.server.requests) == sent
    summary = json.loads(again.stdout)
    assert summary["status"] == "completed" and summary["exit_code"] == 0
    assert (summary["total"], summary["done"], summary["done_before"]) == (40, 40, 40)
    assert summary["succeeded"] == 0

    with sqlite3.connect(cli.home / "usage.db") as db:
        rows = db.execute("SELECT command, outcome, batch_id, attempts FROM calls").fetchall()
    assert len(rows) == 40
    assert {(c, o, a) for c, o, _, a in rows} == {("batch", "ok", 1)}
    assert len({b for _, _, b, _ in rows}) == 1 and rows[0][2] == summary["batch_id"]


def test_line_formats_overrides_and_generated_ids(cli):
    lines = [
        "\ufeff" + json.dumps({"id": "p", "prompt": "hello"}),
        "",
        json.dumps(
            {
                "id": "m",
                "messages": [
                    {"role": "system", "content": "own system"},
                    {"role": "user", "content": "hi there"},
                ],
                "model": "deepseek-flash",
                "thinking": False,
                "temperature": 0.5,
                "extra": {"user_id": "u1"},
            }
        )
        + "\r",
        json.dumps(
            {
                "custom_id": "b",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {
                    "model": "deepseek-v4-flash",
                    "messages": [{"role": "user", "content": "from a batch file"}],
                    "enable_thinking": False,
                    "max_tokens": 10,
                    "top_k": 5,
                },
            }
        ),
        json.dumps({"prompt": "no id here"}),
        "   ",
    ]
    (cli.home / "in.jsonl").write_text("\n".join(lines) + "\n")
    result = cli.run(
        "batch", "run", "in.jsonl", "-o", "out.jsonl", "-s", "be brief", "--max-tokens", "50"
    )
    assert result.code == 0, result.stderr
    bodies = {last_user_text(r.json): r.json for r in cli.server.requests}
    plain = bodies["hello"]
    assert plain["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello"},
    ]
    assert plain["max_tokens"] == 50 and plain["model"] == "deepseek-v4-pro"
    own = bodies["hi there"]
    assert own["messages"][0] == {"role": "system", "content": "own system"}
    assert own["model"] == "deepseek-flash" and own["thinking"] == {"type": "disabled"}
    assert own["temperature"] == 0.5 and own["user_id"] == "u1"
    batch_line = bodies["from a batch file"]
    # DashScope's knob is sent as DeepSeek's, and unknown body fields go through as they are.
    assert batch_line["thinking"] == {"type": "disabled"} and "enable_thinking" not in batch_line
    assert batch_line["max_tokens"] == 10 and batch_line["top_k"] == 5
    records = {r["id"]: r for r in read_records(cli.home / "out.jsonl")}
    assert set(records) == {"p", "m", "b", "line-5"}
    assert records["line-5"]["answer"] == "echo:no id here"
    assert records["m"]["model"] == "deepseek-flash"
    assert "legacy" in result.stderr  # deepseek-v4-flash: warned once, still sent


def test_stdin_input_needs_an_output_and_resumes(cli):
    prompts = {f"s{i}": f"{PREFIX}s{i}" for i in range(6)}
    data = "".join(json.dumps({"id": k, "prompt": v}) + "\n" for k, v in prompts.items())
    assert cli.run("batch", "run", "-", input=data).code == 2
    result = cli.run("batch", "run", "-", "-o", "out.jsonl", input=data)
    assert result.code == 0, result.stderr
    check_exactly_once(prompts, cli.home / "out.jsonl", cli.home / "out.errors.jsonl")
    again = cli.run("batch", "run", "-", "-o", "out.jsonl", input=data)
    assert again.code == 0 and len(cli.server.requests) == 6


def test_openai_format_matches_the_provider_batch_shape(cli):
    prompts = make_input(cli.home / "in.jsonl", 5)
    cli.server.handler = Script({"q2": [deepseek_error(400, "bad parameter")]})
    result = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl", "--format", "openai")
    assert result.code == 4, result.stderr
    outs, errs = check_exactly_once(
        prompts, cli.home / "out.jsonl", cli.home / "out.errors.jsonl", fmt="openai"
    )
    fixture = json.loads((FIXTURES / "batch" / "batch_output.jsonl").read_text().splitlines()[0])
    for record in outs:
        assert set(record) == set(fixture)
        assert set(record["response"]) == set(fixture["response"])
        assert record["response"]["status_code"] == 200 and record["error"] is None
        body = record["response"]["body"]
        assert body["object"] == "chat.completion"
        assert body["choices"][0]["finish_reason"] == "stop"
        assert set(body["usage"]) >= {"prompt_tokens", "completion_tokens", "total_tokens"}
    (error,) = errs
    assert error["custom_id"] == "q2" and error["response"]["status_code"] == 400
    assert error["error"]["message"] == "bad parameter"
    # A resume in the other format still recognises these records.
    again = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl")
    assert again.code == 4 and len(cli.server.requests) == 5


def test_invalid_input_exits_65_with_line_numbers_and_sends_nothing(cli):
    lines = [
        json.dumps({"id": "a", "prompt": "one"}),
        json.dumps({"id": "dup", "prompt": "two"}),
        '{"id": "x", "prompt": "sk-SECRETVALUE-1234567890"',
        json.dumps({"id": "ok", "prompt": "fine"}),
        json.dumps({"id": "np", "system": "no prompt"}),
        json.dumps({"id": "long", "prompt": "y" * 500}),
        json.dumps({"id": "dup", "prompt": "again"}),
        json.dumps({"id": 7, "prompt": "numeric id"}),
    ]
    (cli.home / "in.jsonl").write_text("\n".join(lines) + "\n")
    result = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl", "--max-line-bytes", "300")
    assert result.code == 65, result.stderr
    text = result.stderr
    assert "in.jsonl:3: invalid JSON" in text
    assert "in.jsonl:5: no prompt or messages" in text
    assert "in.jsonl:6: line exceeds 300 bytes" in text
    assert "duplicate id 'dup' on lines 2, 7" in text
    assert "in.jsonl:8: id must be a string" in text
    assert "SECRETVALUE" not in text and "Traceback" not in text
    assert cli.server.requests == []
    assert not (cli.home / "out.jsonl").exists() and not (cli.home / "out.errors.jsonl").exists()

    lenient = cli.run(
        "batch", "run", "in.jsonl", "-o", "out.jsonl", "--max-line-bytes", "300", "--lenient"
    )
    assert lenient.code == 4, lenient.stderr
    outs = read_records(cli.home / "out.jsonl")
    errs = read_records(cli.home / "out.errors.jsonl")
    assert sorted(r["id"] for r in outs) == ["a", "dup", "ok"]
    assert next(r for r in outs if r["id"] == "dup")["answer"] == "echo:two"  # first one wins
    assert sorted((r["line"], r["error"]["code"]) for r in errs) == [
        (3, "invalid_json"),
        (5, "invalid_line"),
        (6, "line_too_long"),
        (7, "duplicate_id"),
        (8, "invalid_line"),
    ]
    assert all(r["id"] is None and r["error"]["kind"] == "invalid_input" for r in errs)
    assert "SECRETVALUE" not in (cli.home / "out.errors.jsonl").read_text()
    # Resuming records nothing twice and sends nothing.
    again = cli.run(
        "batch", "run", "in.jsonl", "-o", "out.jsonl", "--max-line-bytes", "300", "--lenient"
    )
    assert again.code == 4 and len(cli.server.requests) == 3
    assert len(read_records(cli.home / "out.errors.jsonl")) == 5


def test_an_oversized_line_is_never_held_in_memory(cli):
    path = cli.home / "in.jsonl"
    with path.open("wb") as fh:
        fh.write(json.dumps({"id": "a", "prompt": "x"}).encode() + b"\n")
        chunk = b"z" * (1 << 20)
        for _ in range(96):  # 96 MiB with no newline at all
            fh.write(chunk)
    code, _, stderr, max_rss_kib = run_measured(cli, "batch", "run", "in.jsonl", "-o", "out.jsonl")
    path.unlink()  # spare the teardown's canary sweep 96 MiB
    print("peak RSS KiB", max_rss_kib)
    assert code == 65, stderr
    assert "in.jsonl:2: line exceeds 8 MiB" in stderr
    assert max_rss_kib < 80 * 1024, f"peak RSS {max_rss_kib} KiB"
    assert cli.server.requests == []


def test_a_key_echoed_in_an_error_is_redacted_in_the_record(cli):
    prompts = make_input(cli.home / "in.jsonl", 4)
    cli.server.handler = Script(
        {"q1": [deepseek_error(400, f"Incorrect API key provided: {CANARY_DEEPSEEK}")]}
    )
    result = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl")
    assert result.code == 4, result.stderr
    _, errs = check_exactly_once(prompts, cli.home / "out.jsonl", cli.home / "out.errors.jsonl")
    (error,) = errs
    assert error == {
        "id": "q1",
        "error": {
            "kind": "invalid_request",
            "status": 400,
            "code": "invalid_request_error",
            "message": "Incorrect API key provided: [REDACTED]",
        },
        "attempts": 1,
    }
    assert requested_ids(cli.server).count("q1") == 1  # a 400 is never retried
    assert "1 item(s) failed" in result.stderr and "out.errors.jsonl" in result.stderr


def test_the_native_dashscope_api_runs_batches_too(cli):
    prompts = make_input(cli.home / "in.jsonl", 5)
    result = cli.run(
        "batch", "run", "in.jsonl", "-o", "out.jsonl", "-p", "dsn", "-m", "deepseek-v3"
    )
    assert result.code == 0, result.stderr
    check_exactly_once(prompts, cli.home / "out.jsonl", cli.home / "out.errors.jsonl")
    assert all(r.path.endswith("/text-generation/generation") for r in cli.server.requests)


def test_streaming_is_chosen_per_attempt(cli):
    """DashScope thinking on a model that refuses non-streamed thinking streams; a model the
    server says only streams switches to streaming (that attempt is not charged)."""
    lines = [
        {"id": "v4", "prompt": "p-v4", "model": "deepseek-v4-pro"},
        {"id": "v32", "prompt": "p-v32", "model": "deepseek-v3.2", "thinking": True},
        {"id": "so", "prompt": "p-so", "model": "stream-only-model"},
    ]
    (cli.home / "in.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))

    def handler(request):
        body = request.json
        if body["model"] == "stream-only-model" and not body.get("stream"):
            return deepseek_error(400, "This model only support stream mode, please enable it")
        return None

    cli.server.handler = handler
    result = cli.run(
        "batch", "run", "in.jsonl", "-o", "out.jsonl", "-p", "dsc", "--max-attempts", "1"
    )
    assert result.code == 0, result.stderr
    streams = [(last_user_text(r.json), r.json.get("stream")) for r in cli.server.requests]
    assert ("p-v4", True) in streams and ("p-v32", False) in streams
    assert [s for p, s in streams if p == "p-so"] == [False, True]
    records = {r["id"]: r for r in read_records(cli.home / "out.jsonl")}
    assert records["so"]["attempts"] == 2 and records["so"]["answer"] == "echo:p-so"


def test_estimate_counts_tokens_and_cost_without_sending(cli):
    lines = [
        {"id": "en", "prompt": "a" * 100, "max_tokens": 200},  # 30 + 4 + 3 = 37
        {"id": "zh", "prompt": "你" * 100},  # 60 + 4 + 3 = 67
        {"id": "f", "prompt": "b" * 10, "model": "deepseek-flash", "max_tokens": 100},  # 3+7=10
    ]
    (cli.home / "in.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = cli.run("batch", "estimate", "in.jsonl", "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["lines"], data["input_tokens"], data["output_tokens"]) == (3, 114, 300)
    assert data["lines_without_output_estimate"] == 1
    by_model = {m["model"]: m for m in data["models"]}
    assert by_model["deepseek-v4-pro"]["input_tokens"] == 104
    assert by_model["deepseek-flash"]["cost"]["currency"] == "USD"
    assert data["cost"]["amount"] > 0
    assumed = cli.run("batch", "estimate", "in.jsonl", "--assume-output", "1000")
    assert assumed.code == 0
    assert "3,000" in assumed.stdout and "deepseek-flash" in assumed.stdout
    assert cli.server.requests == []
    (cli.home / "bad.jsonl").write_text('{"id": 1}\n')
    assert cli.run("batch", "estimate", "bad.jsonl").code == 65


def test_batch_help_does_not_import_the_sdks(cli):
    probe = (
        "import sys, runpy; sys.argv=['deepseek', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('deepseek_cli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('openai','dashscope','httpx2','asyncio','rich') "
        "if m in sys.modules))"
    )
    for args in (["batch", "--help"], ["batch", "run", "--help"], ["batch", "estimate", "--help"]):
        done = subprocess.run(
            [sys.executable, "-c", probe, *args],
            capture_output=True,
            text=True,
            env=cli.env,
            check=False,
        )
        assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
        assert "Examples" in done.stdout


def test_records_reach_the_disk_within_a_second_or_a_hundred_records(tmp_path, monkeypatch):
    """C7's cadence, on the writer itself with a fake clock: fsync after 100 records, or
    within a second of the first unsynced one, and at close."""
    import os

    from deepseek_cli.batch.writer import OutputFiles

    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    now = [100.0]
    files = OutputFiles(tmp_path / "out.jsonl", tmp_path / "out.errors.jsonl", lambda: now[0])
    files.open()
    synced.clear()  # the directory, at creation
    record = b'{"id":"x"}\n'
    for _ in range(99):
        files.write(files.output, record)
    files.sync_due()
    assert synced == []
    files.write(files.output, record)
    assert synced == [files.output.fd]
    files.write(files.output, record)
    now[0] += 0.5
    files.sync_due()
    assert len(synced) == 1
    now[0] += 0.3
    files.sync_due()
    assert len(synced) == 2
    files.write(files.output, record)
    fd = files.output.fd
    files.close()
    assert synced[-1] == fd
    assert (tmp_path / "out.jsonl").read_bytes() == record * 102
    assert not (tmp_path / "out.errors.jsonl").exists()


def test_a_resume_never_trusts_a_leading_id_that_a_later_key_overrides(cli):
    """Resuming skips done lines by their leading id field, but only when that field is
    what the line's id really is (here a repeated key makes line 1's id "b", not "a")."""
    (cli.home / "in.jsonl").write_text(
        '{"id": "a", "id": "b", "prompt": "prompt for b"}\n{"id": "a", "prompt": "prompt for a"}\n'
    )
    (cli.home / "out.jsonl").write_text(
        json.dumps({"id": "a", "answer": "echo:prompt for a"}) + "\n"
    )
    result = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl")
    assert result.code == 0, result.stderr
    assert requested_ids(cli.server) == ["b"]
    assert sorted(r["id"] for r in read_records(cli.home / "out.jsonl")) == ["a", "b"]


def test_every_attempt_carries_a_client_request_id(cli):
    """A18: the provider's logs can be matched to our records, per attempt."""
    make_input(cli.home / "in.jsonl", 3)
    cli.server.handler = Script({"q1": [deepseek_error(500, "boom", {"retry-after-ms": "1"})]})
    for profile in ("ds", "dsn"):
        cli.server.requests.clear()
        out = f"{profile}.jsonl"
        result = cli.run("batch", "run", "in.jsonl", "-o", out, "-p", profile)
        assert result.code == 0, result.stderr
        ids = sorted(r.headers["x-client-request-id"] for r in cli.server.requests)
        batch = ids[0].split("/")[0]
        expected = [f"{batch}/q0/1", f"{batch}/q1/1", f"{batch}/q2/1"]
        if profile == "ds":
            expected.insert(2, f"{batch}/q1/2")
        assert ids == sorted(expected)
