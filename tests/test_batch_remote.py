"""Remote batch (issue 7): ``batch submit/status/fetch/cancel`` and ``estimate --remote``.

End to end: the real CLI in a subprocess against ``fake_batch.FakeBatchService`` on the local
server, which advances each batch one step per ``GET`` (``--poll 0``: nothing sleeps). The
Batch price arithmetic is checked in-process with a catalog that has DashScope prices (the
shipped catalog has none: unknown prices stay unknown).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import stat
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP

import pytest
from batch_helpers import OUTPUT_FIELDS, check_exactly_once, make_input, read_records, wait_for
from conftest import CANARY_DASHSCOPE, profiles_toml
from fake_batch import PREFIX as API
from fake_batch import USAGE, install
from fakeserver import Reply, json_reply

CN = """
    [profiles.cnp]
    provider = "dashscope"
    region = "cn"
    base_url = "{url}/compatible-mode/v1"

    [profiles.intlp]
    provider = "dashscope"
    region = "intl"
    base_url = "{url}/compatible-mode/v1"
"""


@pytest.fixture
def service(cli):
    cli.write_config(profiles_toml(cli.server.url) + CN.format(url=cli.server.url))
    return install(cli.server)


def calls(cli, method: str, suffix: str) -> list:
    return [r for r in cli.server.requests if r.method == method and r.path == API + suffix]


def batch_gets(cli) -> list:
    return [
        r for r in cli.server.requests if r.method == "GET" and r.path.startswith(API + "/batches/")
    ]


def submit(cli, *args: str, input: str = "in.jsonl") -> str:
    done = cli.run("batch", "submit", input, "-p", "cnp", *args)
    assert done.code == 0, done.stderr
    job = done.stdout.strip()
    assert job and "\n" not in job
    return job


def record(cli, job: str) -> dict:
    return json.loads((cli.home / "batches" / f"{job}.json").read_text())


def ledger_rows(cli) -> list[tuple]:
    path = cli.home / "usage.db"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT command, outcome, batch_id, input_tokens, output_tokens, cost, request_id "
            "FROM calls ORDER BY id"
        ).fetchall()


def multipart(request) -> dict:
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    return {
        part.get_param("name", header="content-disposition"): (
            part.get_filename(),
            part.get_payload(decode=True),
        )
        for part in message.iter_parts()
    }


# ------------------------------------------------------------------------------------------
# submit


def test_submit_uploads_split_parts_and_creates_batches_with_exact_bodies(cli, service):
    make_input(cli.home / "in.jsonl", 4)
    with (cli.home / "in.jsonl").open("a") as fh:
        fh.write("\n")  # a blank line: input line numbers and part lines differ
        fh.write(json.dumps({"id": "v", "prompt": "prompt for v", "model": "deepseek-v4-flash"}))
        fh.write("\n")
        fh.write(json.dumps({"id": "q4", "prompt": "prompt for q4", "max_tokens": 64}) + "\n")
    job = submit(cli, "--max-lines", "2", "--name", "nightly", "-t", "0.5", "--max-tokens", "100")

    # Parts: q0 q1 | q2 q3 | v (its own model) | q4: one model per file, at most 2 lines.
    uploads = calls(cli, "POST", "/files")
    creates = calls(cli, "POST", "/batches")
    assert len(uploads) == len(creates) == 4
    rec = record(cli, job)
    for index, (upload, create) in enumerate(zip(uploads, creates, strict=True), start=1):
        fields = multipart(upload)
        assert fields["purpose"] == (None, b"batch")
        filename, content = fields["file"]
        assert filename == f"{job}-part-{index:03d}.jsonl"
        part_file = cli.home / "batches" / job / f"part-{index:03d}.jsonl"
        assert content == part_file.read_bytes()
        file_id = service.uploads[index - 1]["id"]
        assert create.json == {
            "input_file_id": file_id,
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
            "metadata": {
                "ds_name": "nightly",
                "ds_description": f"deepseek-cli job {job}, part {index} of 4",
                "local_job_id": job,
                "local_part": str(index),
            },
        }
        assert rec["parts"][index - 1]["file_id"] == file_id
    lines = [
        json.loads(x)
        for i in range(1, 5)
        for x in (cli.home / "batches" / job / f"part-{i:03d}.jsonl").read_text().splitlines()
    ]
    assert [x["custom_id"] for x in lines] == ["q0", "q1", "q2", "q3", "v", "q4"]
    first = lines[0]
    assert first == {
        "custom_id": "q0",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": "deepseek-v4-pro",
            "messages": [{"role": "user", "content": "prompt for q0"}],
            # Explicit: v4 thinks by default and thinking tokens are billed.
            "enable_thinking": True,
            "temperature": 0.5,
            "max_tokens": 100,
        },
    }
    assert lines[4]["body"]["model"] == "deepseek-v4-flash"
    assert lines[5]["body"]["max_tokens"] == 64  # the line's own option wins
    assert [p["input_lines"] for p in rec["parts"]] == [[[1, 2]], [[3, 4]], [[6, 6]], [[7, 7]]]
    assert rec["input_sha256"] and rec["profile"] == "cnp" and rec["region"] == "cn"
    assert [p["model"] for p in rec["parts"]][2] == "deepseek-v4-flash"

    # Private: record and part files 0600 in 0700 directories.
    batches = cli.home / "batches"
    assert stat.S_IMODE(batches.stat().st_mode) == 0o700
    assert stat.S_IMODE((batches / job).stat().st_mode) == 0o700
    for path in [batches / f"{job}.json", *(batches / job).iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path

    # The same submission again is the same job: nothing is uploaded or created twice.
    sent = len(cli.server.requests)
    again = cli.run(
        "batch", "submit", "in.jsonl", "-p", "cnp", "--max-lines", "2", "-t", "0.5",
        "--max-tokens", "100",
    )  # fmt: skip
    assert again.code == 0 and again.stdout.strip() == job
    assert "already submitted" in again.stderr
    assert len(cli.server.requests) == sent
    # --new really submits again.
    other = submit(cli, "--max-lines", "3", "--no-think", "--new")
    assert other != job
    _, content = multipart(calls(cli, "POST", "/files")[-1])["file"]
    assert json.loads(content.splitlines()[0])["body"]["enable_thinking"] is False
    # Split by size too: no part file above --max-bytes.
    small = submit(cli, "--max-bytes", "400", "--new")
    sizes = [p["bytes"] for p in record(cli, small)["parts"]]
    assert len(sizes) >= 3 and max(sizes) <= 400
    assert sum(p["lines"] for p in record(cli, small)["parts"]) == 6


def test_submit_refuses_what_the_provider_or_region_cannot_run(cli, service):
    make_input(cli.home / "in.jsonl", 2)
    deepseek = cli.run("batch", "submit", "in.jsonl", "-p", "ds")
    assert deepseek.code == 2
    assert "DeepSeek's API has no Batch service" in deepseek.stderr
    assert "deepseek batch run" in deepseek.stderr
    native = cli.run("batch", "submit", "in.jsonl", "-p", "dsn")
    assert native.code == 2 and "compatible" in native.stderr
    singapore = cli.run("batch", "submit", "in.jsonl", "-p", "intlp")
    assert singapore.code == 2
    assert "Singapore" in singapore.stderr and "Qwen" in singapore.stderr
    assert 'region = "cn"' in singapore.stderr
    estimate = cli.run("batch", "estimate", "in.jsonl", "-p", "ds", "--remote")
    assert estimate.code == 2 and "no Batch service" in estimate.stderr
    # Invalid input: exit 65 with line numbers, nothing sent.
    (cli.home / "bad.jsonl").write_text('{"id": "a", "prompt": "x"}\nnot json\n{"id": "a"}\n')
    bad = cli.run("batch", "submit", "bad.jsonl", "-p", "cnp")
    assert bad.code == 65
    assert "bad.jsonl:2" in bad.stderr and "bad.jsonl:3" in bad.stderr
    assert cli.server.requests == []
    assert not list((cli.home / "batches").glob("*.json"))


def test_deprecated_model_warns_and_estimate_remote_shows_the_batch_price(cli, service):
    make_input(cli.home / "in.jsonl", 2, extra={"max_tokens": 10})
    est = cli.run("batch", "estimate", "in.jsonl", "-p", "cnp", "--remote", "--json")
    assert est.code == 0, est.stderr
    assert json.loads(est.stdout)["price"] == "batch"
    text = cli.run("batch", "estimate", "in.jsonl", "-p", "cnp", "--remote")
    assert "Batch price: half" in text.stdout
    short = cli.run("batch", "submit", "in.jsonl", "-p", "cnp", "--window", "5h")
    assert short.code == 2 and "24h to 336h" in short.stderr
    old = cli.run(
        "batch", "submit", "in.jsonl", "-p", "cnp", "-m", "deepseek-v3.2", "--window", "2d"
    )
    assert old.code == 0, old.stderr
    assert calls(cli, "POST", "/batches")[0].json["completion_window"] == "48h"
    assert old.stderr.count("deepseek-v3.2 was retired on 2026-10-10") == 1  # once, not per line
    done = cli.run("batch", "status", old.stdout.strip(), "--json")
    assert json.loads(done.stdout)["models"] == ["deepseek-v3.2"]
    body = json.loads(multipart(calls(cli, "POST", "/files")[0])["file"][1].splitlines()[0])
    assert body["body"]["enable_thinking"] is False  # v3.2 does not think by default: said so


# ------------------------------------------------------------------------------------------
# status, wait, fetch


def test_status_wait_fetch_end_to_end_twice_byte_identical_and_ledger_once(cli, service):
    prompts = make_input(cli.home / "in.jsonl", 5)
    service.fail_ids = {"q3"}
    job = submit(cli, "--max-lines", "3")

    # Every GET advances the fake: validating -> in_progress -> finalizing -> completed.
    early = cli.run("batch", "fetch", job)
    assert early.code == 75 and "still running" in early.stderr and "--wait" in early.stderr
    assert "2 of 2 part(s) in_progress" in early.stderr
    assert not (cli.home / "in.out.jsonl").exists()
    listed = cli.run("batch", "status", "--json")
    assert listed.code == 0, listed.stderr
    [view] = json.loads(listed.stdout)
    assert view["id"] == job and view["requests"]["total"] == 5
    assert [p["status"] for p in view["parts"]] == ["finalizing", "finalizing"]

    waited = cli.run("batch", "status", job, "--wait", "--poll", "0")
    assert waited.code == 4, waited.stderr  # one request failed
    assert "completed" in waited.stdout and "1 failed" in waited.stdout
    assert f"job {job}: completed" in waited.stderr

    gets = len(batch_gets(cli))
    fetched = cli.run("batch", "fetch", job)
    assert fetched.code == 4, fetched.stderr
    assert len(batch_gets(cli)) == gets  # finished parts are not asked about again
    out, err = cli.home / "in.out.jsonl", cli.home / "in.out.errors.jsonl"
    ok = {k: v for k, v in prompts.items() if k != "q3"}
    outs = read_records(out)
    assert sorted(r["id"] for r in outs) == sorted(ok)
    for rec in outs:
        assert set(rec) == OUTPUT_FIELDS
        assert rec["answer"] == "echo:" + ok[rec["id"]]
        assert rec["reasoning"] == "thought:" + rec["id"]
        assert rec["finish_reason"] == "stop" and rec["attempts"] == 1
        assert rec["usage"]["input_tokens"] == USAGE["prompt_tokens"]
        assert rec["usage"]["reasoning_tokens"] == 3 and rec["latency_ms"] is None
        # Half of Beijing's deepseek-v4-pro price (0.138 hit / 1.65 in / 3.301 out USD per
        # 1M): (4 * 0.138 + 16 * 1.65 + 10 * 3.301) / 1e6 / 2 = 2.9981e-05; saved
        # 4 * (1.65 - 0.138) / 2e6 = 3.024e-06; both rounded to 8 decimals.
        assert rec["cost"] == {"amount": 2.998e-05, "currency": "USD", "cache_saved": 3.02e-06}
        # The fake service answers with the model each line asked for.
        assert rec["served_model"] == rec["model"] == "deepseek-v4-pro"
    [failed] = read_records(err)
    assert failed["id"] == "q3" and failed["attempts"] == 1
    assert failed["error"]["kind"] == "invalid_request"
    assert failed["error"]["code"] == "data_inspection_failed"
    assert failed["error"]["status"] == 400

    rows = ledger_rows(cli)
    assert len(rows) == 5
    assert {r[0] for r in rows} == {"batch"}
    assert sorted(r[1] for r in rows) == ["invalid_request", "ok", "ok", "ok", "ok"]
    assert {r[2] for r in rows} == {p["batch_id"] for p in record(cli, job)["parts"]}

    first = (out.read_bytes(), err.read_bytes())
    sent = len(cli.server.requests)
    again = cli.run("batch", "fetch", job)
    assert again.code == 4
    assert (out.read_bytes(), err.read_bytes()) == first
    assert len(cli.server.requests) == sent  # finished and downloaded: fetched offline
    assert len(ledger_rows(cli)) == 5  # exactly once

    summary = cli.run("batch", "fetch", job, "--json")
    data = json.loads(summary.stdout)
    assert (data["succeeded"], data["failed"], data["not_processed"]) == (4, 1, 0)
    assert data["ledger"] == {"recorded": 0, "already_recorded": 5}

    # --format openai: the provider's lines, keyed by custom_id first.
    openai = cli.run("batch", "fetch", job, "-o", "o.jsonl", "--format", "openai")
    assert openai.code == 4
    lines = read_records(cli.home / "o.jsonl")
    assert all(next(iter(x)) == "custom_id" for x in lines)
    check_exactly_once(ok, cli.home / "o.jsonl", cli.home / "nothing.jsonl", fmt="openai")
    assert len(ledger_rows(cli)) == 5


def test_a_fetch_cut_off_half_way_leaves_nothing_and_a_repeat_completes(cli, service):
    prompts = make_input(cli.home / "in.jsonl", 6)
    job = submit(cli, "--max-lines", "3")
    assert cli.run("batch", "status", job, "--wait", "--poll", "0").code == 0
    service.cut_downloads = 1
    cut = cli.run("batch", "fetch", job)
    assert cut.code == 69, cut.stderr
    assert not (cli.home / "in.out.jsonl").exists()
    assert ledger_rows(cli) == []
    done = cli.run("batch", "fetch", job)
    assert done.code == 0, done.stderr
    check_exactly_once(prompts, cli.home / "in.out.jsonl", cli.home / "in.out.errors.jsonl")
    assert not (cli.home / "in.out.errors.jsonl").exists()
    assert len(ledger_rows(cli)) == 6
    # A file this job did not write is not replaced without --force.
    (cli.home / "mine.jsonl").write_text('{"id":"x"}\n')
    refused = cli.run("batch", "fetch", job, "-o", "mine.jsonl")
    assert refused.code == 2 and "--force" in refused.stderr
    assert (cli.home / "mine.jsonl").read_text() == '{"id":"x"}\n'
    forced = cli.run("batch", "fetch", job, "-o", "mine.jsonl", "--force")
    assert forced.code == 0
    assert len(read_records(cli.home / "mine.jsonl")) == 6


def test_failed_validation_is_shown_with_input_line_numbers(cli, service):
    lines = [
        json.dumps({"id": "a", "prompt": "prompt for a"}),
        "",
        json.dumps({"id": "b", "prompt": "prompt for b"}),
        json.dumps({"id": "c", "prompt": "prompt for c"}),
    ]
    (cli.home / "in.jsonl").write_text("\n".join(lines) + "\n")
    service.scenario = "fail"
    service.validation_errors = [
        {
            "code": "mismatched_model",
            "message": "The model of this request differs from the batch's model.",
            "param": "body.model",
            "line": 2,
        }
    ]
    job = submit(cli)
    waited = cli.run("batch", "status", job, "--wait", "--poll", "0")
    assert waited.code == 4
    # Part line 2 is "b", on input line 3 (after the blank line).
    assert "in.jsonl:3: mismatched_model" in waited.stdout
    view = json.loads(cli.run("batch", "status", job, "--json").stdout)
    [problem] = view["parts"][0]["validation_errors"]
    assert (problem["line"], problem["input_line"]) == (2, 3)

    fetched = cli.run("batch", "fetch", job)
    assert fetched.code == 4
    assert "in.jsonl:3: mismatched_model" in fetched.stderr
    assert read_records(cli.home / "in.out.jsonl") == []
    errors = {r["id"]: r["error"] for r in read_records(cli.home / "in.out.errors.jsonl")}
    assert set(errors) == {"a", "b", "c"}
    assert errors["b"]["code"] == "mismatched_model" and "input line 3" in errors["b"]["message"]
    assert errors["a"]["kind"] == errors["c"]["kind"] == "not_processed"
    assert errors["a"]["code"] == "batch_failed"
    assert ledger_rows(cli) == []  # nothing ran, nothing billed


def test_expired_batch_gives_partial_output_and_reports_the_rest(cli, service):
    prompts = make_input(cli.home / "in.jsonl", 4)
    service.scenario = "expire"
    job = submit(cli)
    assert cli.run("batch", "status", job, "--wait", "--poll", "0").code == 4
    fetched = cli.run("batch", "fetch", job)
    assert fetched.code == 4
    assert "2 were not processed" in fetched.stderr
    outs, errs = check_exactly_once(
        prompts, cli.home / "in.out.jsonl", cli.home / "in.out.errors.jsonl"
    )
    assert sorted(r["id"] for r in outs) == ["q0", "q1"]
    assert {(r["id"], r["error"]["kind"], r["error"]["code"]) for r in errs} == {
        ("q2", "not_processed", "batch_expired"),
        ("q3", "not_processed", "batch_expired"),
    }
    assert all(r["attempts"] == 0 for r in errs)
    assert len(ledger_rows(cli)) == 2


def test_cancel_then_fetch_what_finished(cli, service):
    prompts = make_input(cli.home / "in.jsonl", 4)
    job = submit(cli, "--max-lines", "2")
    table = cli.run("batch", "status")  # both parts now in_progress
    assert job in table.stdout and "in_progress" in table.stdout and "2/4" in table.stdout
    cancelled = cli.run("batch", "cancel", job)
    assert cancelled.code == 0, cancelled.stderr
    assert len([r for r in cli.server.requests if r.path.endswith("/cancel")]) == 2
    assert "cancelling" in cancelled.stderr
    view = json.loads(cli.run("batch", "status", job, "--json").stdout)
    assert view["status"] == "cancelled"
    again = cli.run("batch", "cancel", job)
    assert again.code == 0 and "nothing left to cancel" in again.stderr
    fetched = cli.run("batch", "fetch", job)
    assert fetched.code == 4
    outs, errs = check_exactly_once(
        prompts, cli.home / "in.out.jsonl", cli.home / "in.out.errors.jsonl"
    )
    assert sorted(r["id"] for r in outs) == ["q0", "q2"]  # half of each part had run
    assert {r["error"]["code"] for r in errs} == {"batch_cancelled"}


# ------------------------------------------------------------------------------------------
# crash safety of submit (RELIABILITY J1)


def test_a_kill_while_create_is_in_flight_is_adopted_not_created_twice(cli, service):
    make_input(cli.home / "in.jsonl", 3)
    service.create_replies.append(("delay", 30.0))  # created at once, answered late
    proc = cli.spawn("batch", "submit", "in.jsonl", "-p", "cnp")
    wait_for(lambda: len(calls(cli, "POST", "/batches")) == 1)
    proc.send_signal(signal.SIGKILL)
    killed = cli.finish(proc)
    assert killed.code == -signal.SIGKILL
    [path] = (cli.home / "batches").glob("*.json")
    job = path.stem
    part = record(cli, job)["parts"][0]
    assert part["create_sent"] and part["file_id"] and part["batch_id"] is None

    resumed = cli.run("batch", "submit", "in.jsonl", "-p", "cnp")
    assert resumed.code == 0, resumed.stderr
    assert resumed.stdout.strip() == job
    assert "interrupted submission" in resumed.stderr
    assert len(calls(cli, "POST", "/batches")) == 1  # adopted, not billed twice
    assert len(calls(cli, "GET", "/batches")) == 1  # found by listing
    assert len(calls(cli, "POST", "/files")) == 1
    assert record(cli, job)["parts"][0]["batch_id"] == service.order[0]


def test_a_kill_while_uploading_resumes_from_the_record_written_before(cli, service):
    make_input(cli.home / "in.jsonl", 3)
    cli.server.enqueue(Reply(200, {"content-type": "application/json"}, b"{}", delay=30.0))
    proc = cli.spawn("batch", "submit", "in.jsonl", "-p", "cnp")
    wait_for(lambda: len(calls(cli, "POST", "/files")) == 1)
    proc.send_signal(signal.SIGKILL)
    cli.finish(proc)
    [path] = (cli.home / "batches").glob("*.json")
    assert json.loads(path.read_text())["parts"][0]["file_id"] is None  # the intent, on disk
    shown = cli.run("batch", "status", path.stem)
    assert shown.code == 0 and "submitting" in shown.stdout
    assert "run the same `deepseek batch submit` command again" in shown.stdout
    resumed = cli.run("batch", "submit", "in.jsonl", "-p", "cnp")
    assert resumed.code == 0, resumed.stderr
    assert resumed.stdout.strip() == path.stem
    assert len(calls(cli, "POST", "/files")) == 2  # uploaded again: the answer was lost
    assert len(calls(cli, "POST", "/batches")) == 1
    assert calls(cli, "GET", "/batches") == []  # no create was sent: nothing to look for


def test_a_failed_create_resumes_and_an_empty_list_is_data_null(cli, service):
    make_input(cli.home / "in.jsonl", 3)
    service.create_replies.append(
        ("fail", json_reply({"error": {"message": "boom", "code": "internal_error"}}, 500))
    )
    failed = cli.run("batch", "submit", "in.jsonl", "-p", "cnp")
    assert failed.code == 69, failed.stderr
    assert "run the same command again" in failed.stderr
    # It looked for the batch the lost create might have made: the list was "data": null.
    assert len(calls(cli, "GET", "/batches")) == 1
    assert service.batches == {}
    job = next((cli.home / "batches").glob("*.json")).stem
    resumed = cli.run("batch", "submit", "in.jsonl", "-p", "cnp")
    assert resumed.code == 0 and resumed.stdout.strip() == job
    assert len(service.batches) == 1
    assert len(calls(cli, "POST", "/files")) == 1  # the upload was kept
    listed = cli.run("batch", "status", "--json")
    assert json.loads(listed.stdout)[0]["status"] == "in_progress"


# ------------------------------------------------------------------------------------------
# start-up and the Batch price


@pytest.mark.parametrize(
    "args", [["batch", "--help"], ["batch", "submit", "--help"], ["batch", "status"]]
)
def test_batch_help_and_an_empty_status_import_no_sdk(cli, args):
    sdks = cli.probe('[m for m in ("openai", "dashscope") if m in sys.modules]', *args)
    assert sdks == []  # (their help's examples: test_startup)


def test_fetched_costs_and_ledger_rows_are_at_half_price_exactly_once(tmp_path):
    """In-process: the converter with a catalog that knows a DashScope price."""
    from deepseek_cli.batch.remote.convert import Converter
    from deepseek_cli.batch.remote.jobs import JobStore, Part, RemoteJob
    from deepseek_cli.batch.remote.ledger_rows import record_usage
    from deepseek_cli.batch.remote.summary import Tally
    from deepseek_cli.catalog.models import parse_catalog
    from deepseek_cli.catalog.pricing import cost_of
    from deepseek_cli.config.settings import RequestFlags, load
    from deepseek_cli.events import Usage
    from deepseek_cli.safefile import AtomicWriter

    env = {"DEEPSEEK_CLI_HOME": str(tmp_path), "DASHSCOPE_API_KEY": CANARY_DASHSCOPE}
    settings = load(RequestFlags(profile="cn"), env)
    catalog = parse_catalog(
        {
            "providers": {"dashscope": {"name": "DashScope"}},
            "model": [
                {
                    "provider": "dashscope",
                    "id": "m",
                    "thinking": "never",
                    "prices": [
                        {
                            "since": datetime(2020, 1, 1, tzinfo=UTC),
                            "currency": "USD",
                            "cache_hit": 0.1,
                            "input": 1.0,
                            "output": 2.0,
                        }
                    ],
                }
            ],
        }
    )
    store = JobStore(env)
    job_dir = store.job_dir("j1")
    job_dir.mkdir(parents=True)
    (job_dir / "part-001.jsonl").write_text(
        json.dumps({"custom_id": "a", "method": "POST", "url": "/v1/chat/completions",
                    "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}})
        + "\n"
    )  # fmt: skip
    (job_dir / "out.jsonl").write_text(
        json.dumps(
            {
                "id": "r1",
                "custom_id": "a",
                "response": {
                    "status_code": 200,
                    "request_id": "r1",
                    "body": {
                        "created": 1788534396,
                        "usage": USAGE,
                        "choices": [
                            {"finish_reason": "stop", "message": {"content": "ok"}, "index": 0}
                        ],
                    },
                },
                "error": None,
            }
        )
        + "\n"
    )
    part = Part(1, "m", "part-001.jsonl", 1, 0, "", [[1, 1]], "f1", "batch_1")
    part.remote = {"status": "completed"}
    job = RemoteJob(
        "j1", "2026-11-30T00:00:00Z", "in.jsonl", "", 0, 1, "cn", "dashscope", "cn",
        "https://x", "/v1/chat/completions", "24h", "fp", parts=[part],
    )  # fmt: skip
    tally = Tally()
    converter = Converter(settings, job, "native", tally, catalog=catalog)
    out, err = AtomicWriter(tmp_path / "o.jsonl"), AtomicWriter(tmp_path / "e.jsonl")
    try:
        rows = converter.part(store, part, {"output": job_dir / "out.jsonl"}, out, err)
        out.close()
        written = json.loads(out.tmp.read_text())
    finally:
        out.discard()
        err.discard()
    full = cost_of(Usage(20, 4, 10, 3, 30), catalog.models[0].prices[0])
    assert full is not None
    assert written["cost"] == {
        "amount": round(full.amount / 2, 8),
        "currency": "USD",
        "cache_saved": round(full.saved / 2, 8),
    }
    assert rows.rows[0].cost == pytest.approx(full.amount / 2)
    record_usage(settings, [rows], tally)
    record_usage(settings, [rows], tally)
    with sqlite3.connect(tmp_path / "usage.db") as db:
        stored = db.execute("SELECT batch_id, cost, ts FROM calls").fetchall()
    assert stored == [("batch_1", pytest.approx(full.amount / 2), "2026-09-04T15:06:36.000+00:00")]
    assert (tally.ledger_new, tally.ledger_already) == (1, 1)
    assert not any(CANARY_DASHSCOPE[:12] in str(p) for p in tmp_path.rglob("*") if p.is_file())


def test_the_job_list_survives_a_job_it_cannot_check(cli, service):
    make_input(cli.home / "in.jsonl", 2)
    job = submit(cli)
    path = cli.home / "batches" / f"{job}.json"
    data = json.loads(path.read_text())
    data["base_url"] = cli.server.url + "/gone/v1"  # the service is not there: 404
    path.write_text(json.dumps(data))
    listed = cli.run("batch", "status")
    assert listed.code == 0, listed.stderr
    assert job in listed.stdout and "validating" in listed.stdout
    assert f"job {job}: showing the last known state" in listed.stderr
    assert cli.run("batch", "status", job).code == 65  # asked about it alone: the real error


# ------------------------------------------------------------------------------------------
# the pieces: one reader of a chat.completion, an atomic download


def test_a_completion_reads_the_same_from_a_result_line_and_from_the_sdk():
    import openai

    from deepseek_cli.backends.openai_compat import Choice, Completion, read_completion
    from deepseek_cli.events import Usage

    body = {
        "id": "chatcmpl-r1",
        "object": "chat.completion",
        "created": 1788534396,
        "model": "deepseek-v4-pro",
        "usage": USAGE,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "ok", "reasoning_content": "hm"},
            },
            {
                "index": 1,
                "finish_reason": "length",
                "message": {"role": "assistant", "content": None, "reasoning": "vllm"},
            },
        ],
    }
    expected = Completion(
        [Choice("ok", "hm", "stop"), Choice(None, "vllm", "length")],
        Usage(20, 4, 10, 3, 30),
        "chatcmpl-r1",
        "deepseek-v4-pro",
    )
    assert read_completion(body) == expected
    assert read_completion(openai.types.chat.ChatCompletion.model_validate(body)) == expected
    # A result file is the provider's data: wrong types read as absent, never as a crash.
    odd = {"choices": ["x", {"message": [1], "finish_reason": 3}], "usage": "none", "id": 7}
    assert read_completion(odd) == Completion(
        [Choice(None, None, None), Choice(None, None, None)], None, None
    )
    assert read_completion({"choices": {"0": {}}}) == Completion([], None, None)


def test_a_download_cut_off_leaves_no_file_and_a_whole_one_is_private(server, tmp_path):
    from deepseek_cli.backends.batch_api import BatchApi
    from deepseek_cli.config.profiles import Timeouts
    from deepseek_cli.errors import ApiError

    service = install(server)
    content = b"".join(b'{"custom_id":"q%d"}\n' % i for i in range(1000))
    (tmp_path / "up.jsonl").write_bytes(content)
    cache = tmp_path / "cache"
    cache.mkdir()
    api = BatchApi(server.url + API, "sk-test", "dashscope", Timeouts(connect=5, idle=5, total=30))
    try:
        file_id = api.upload(tmp_path / "up.jsonl", "up.jsonl")["id"]
        service.cut_downloads = 1
        with pytest.raises(ApiError):
            api.download(file_id, cache / "out.jsonl")
        assert list(cache.iterdir()) == []  # neither the file nor its temp file
        assert api.download(file_id, cache / "out.jsonl") == len(content)
    finally:
        api.close()
    assert [p.name for p in cache.iterdir()] == ["out.jsonl"]
    assert (cache / "out.jsonl").read_bytes() == content
    assert stat.S_IMODE((cache / "out.jsonl").stat().st_mode) == 0o600
