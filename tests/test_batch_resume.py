"""Exactly once across interruptions: SIGINT, SIGTERM, SIGKILL loops, the lock, torn tails.

The oracle (``batch_helpers.check_exactly_once``) runs after every scenario; the server's log
shows that no id whose record was already written is ever sent again.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time

import pytest
from batch_helpers import (
    Script,
    check_exactly_once,
    line_count,
    make_input,
    read_records,
    requested_ids,
    wait_for,
)
from fakeserver import echo

OUT = ("-o", "out.jsonl")


def files(cli):
    return cli.home / "out.jsonl", cli.home / "out.errors.jsonl"


def written_ids(cli) -> set[str]:
    out, err = files(cli)
    return {r["id"] for r in read_records(out) + read_records(err) if r.get("id")}


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_drains_in_flight_work_then_resume_finishes(cli, sig, code):
    prompts = make_input(cli.home / "in.jsonl", 300)
    cli.server.handler = Script(delay=0.25)
    proc = cli.spawn("batch", "run", "in.jsonl", *OUT, "-j", "8")
    wait_for(lambda: line_count(cli.home / "out.jsonl") >= 16)
    signalled = time.monotonic()
    result = cli.finish(proc, sig)
    assert result.code == code, result.stderr
    assert time.monotonic() - signalled < 3.0  # in-flight answers take 0.25 s
    assert "interrupted" in result.stderr
    assert "resume: deepseek batch run in.jsonl -o out.jsonl -j 8" in result.stderr
    assert "Traceback" not in result.stderr
    # Dispatch stopped at once, and every request the server answered was drained into the
    # output.
    assert [r for r in cli.server.requests if r.started > signalled + 0.1] == []
    first_run = requested_ids(cli.server)
    assert written_ids(cli) == set(first_run)

    cli.server.handler = echo
    resumed = cli.run("batch", "run", "in.jsonl", *OUT, "-j", "8")
    assert resumed.code == 0, resumed.stderr
    check_exactly_once(prompts, *files(cli))
    resent = set(first_run) & set(requested_ids(cli.server, len(first_run)))
    assert resent == set()  # 0 re-sends after a clean stop


def test_a_second_signal_stops_at_once_and_the_rest_is_redone(cli):
    prompts = make_input(cli.home / "in.jsonl", 40)
    cli.server.handler = Script(delay=5.0)
    proc = cli.spawn("batch", "run", "in.jsonl", *OUT, "-j", "4")
    wait_for(lambda: len(cli.server.requests) >= 4)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    second = time.monotonic()
    result = cli.finish(proc, signal.SIGINT)
    assert result.code == 130, result.stderr
    assert time.monotonic() - second < 1.5
    assert read_records(cli.home / "out.jsonl") == []
    cli.server.handler = echo
    assert cli.run("batch", "run", "in.jsonl", *OUT).code == 0
    check_exactly_once(prompts, *files(cli))


def test_the_grace_period_bounds_the_drain(cli):
    make_input(cli.home / "in.jsonl", 20)
    cli.server.handler = Script(delay=10.0)
    proc = cli.spawn("batch", "run", "in.jsonl", *OUT, "-j", "2", "--grace", "0.5")
    wait_for(lambda: len(cli.server.requests) >= 2)
    signalled = time.monotonic()
    result = cli.finish(proc, signal.SIGTERM)
    assert result.code == 143, result.stderr
    assert time.monotonic() - signalled < 2.0
    assert "grace period over" in result.stderr


def test_sigkill_loop_never_loses_or_doubles_a_record(cli):
    """At least 10 SIGKILLs at random moments, each followed by a resume; the server must
    never see an id again once its record was on disk."""
    rng = random.Random(int(os.environ.get("BATCH_KILL_SEED", "5")))
    prompts = make_input(cli.home / "in.jsonl", 1500)
    cli.server.handler = Script(delay=0.01)
    args = ("batch", "run", "in.jsonl", *OUT, "-j", "16")
    kills = 0
    while kills < 10:
        already = written_ids(cli)
        start = len(cli.server.requests)
        proc = cli.spawn(*args)
        wait_for(lambda: len(cli.server.requests) > start or proc.poll() is not None)  # noqa: B023
        time.sleep(rng.uniform(0.0, 0.35))
        if proc.poll() is not None:
            break  # finished before the kill
        cli.finish(proc, signal.SIGKILL)
        kills += 1
        assert not already & set(requested_ids(cli.server, start)), "a written id was re-sent"
    assert kills >= 10, "the job finished too early to be killed ten times"
    already = written_ids(cli)
    start = len(cli.server.requests)
    final = cli.run(*args)
    assert final.code == 0, final.stderr
    assert not already & set(requested_ids(cli.server, start))
    outs, _ = check_exactly_once(prompts, *files(cli))
    assert len(outs) == 1500


def test_a_torn_last_line_is_repaired_and_its_request_redone(cli):
    prompts = make_input(cli.home / "in.jsonl", 10)
    assert cli.run("batch", "run", "in.jsonl", *OUT).code == 0
    out = cli.home / "out.jsonl"
    records = out.read_bytes().splitlines(keepends=True)
    torn_id = json.loads(records[6])["id"]
    out.write_bytes(b"".join(records[:6]) + records[6][:40])  # power cut mid-record
    lost = {json.loads(r)["id"] for r in records[7:]}
    start = len(cli.server.requests)
    result = cli.run("batch", "run", "in.jsonl", *OUT)
    assert result.code == 0, result.stderr
    assert "torn last line" in result.stderr
    check_exactly_once(prompts, *files(cli))
    assert sorted(requested_ids(cli.server, start)) == sorted(lost | {torn_id})


def test_a_second_job_on_the_same_output_exits_75_even_through_a_symlink(cli):
    prompts = make_input(cli.home / "in.jsonl", 30)
    cli.server.handler = Script(delay=0.3)
    first = cli.spawn("batch", "run", "in.jsonl", *OUT, "-j", "1")
    wait_for(lambda: len(cli.server.requests) >= 1)
    (cli.home / "link.jsonl").symlink_to(cli.home / "out.jsonl")
    (cli.home / "sub").mkdir()
    for output in ("out.jsonl", "link.jsonl", "sub/../out.jsonl"):
        started = time.monotonic()
        second = cli.run("batch", "run", "in.jsonl", "-o", output)
        assert second.code == 75, second.stderr
        assert time.monotonic() - started < 5
        assert "in use by another batch job" in second.stderr
        assert f"pid {first.pid}" in second.stderr
    assert cli.server.max_in_flight == 1  # the refused jobs sent nothing
    # The lock dies with its process, even by SIGKILL: no stale lock to clean up.
    cli.finish(first, signal.SIGKILL)
    cli.server.handler = echo
    assert cli.run("batch", "run", "in.jsonl", "-o", "link.jsonl").code == 0
    check_exactly_once(prompts, *files(cli))


def test_a_failed_write_leaves_no_partial_record_and_the_job_resumes(cli):
    """RLIMIT_FSIZE makes a write come back short, then fail: the partial record is cut off,
    the job stops (exit 69) and a later run completes it."""
    prompts = make_input(cli.home / "in.jsonl", 60)
    command = " ".join(cli.command("batch", "run", "in.jsonl", *OUT, "-j", "2"))
    done = subprocess.run(
        ["bash", "-c", f"ulimit -f 8; exec {command}"],
        capture_output=True,
        text=True,
        env=cli.env,
        cwd=cli.home,
        timeout=60,
        check=False,
    )
    cli.outputs += [done.stdout, done.stderr]
    assert done.returncode == 69, done.stderr
    assert "cannot write" in done.stderr and "out.jsonl" in done.stderr
    out = cli.home / "out.jsonl"
    assert 0 < out.stat().st_size <= 8192
    first = read_records(out)  # whole lines only
    assert first
    resumed = cli.run("batch", "run", "in.jsonl", *OUT)
    assert resumed.code == 0, resumed.stderr
    check_exactly_once(prompts, *files(cli))
