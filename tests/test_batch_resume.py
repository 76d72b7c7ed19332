"""Exactly once across interruptions: SIGINT, SIGTERM, SIGKILL loops, the lock, torn tails.

The oracle (``batch_helpers.check_exactly_once``) runs after every scenario; the server's log
shows that no id whose record was already written is ever sent again.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import threading

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


def whole_ids(path) -> set[str]:
    """The ids of the complete records after a SIGKILL. The kernel may stop a write() at a
    page boundary when the process is killed, so the last line can be torn; it does not count
    as written (the next run truncates it and redoes its id). Every other line is whole."""
    data = path.read_bytes() if path.exists() else b""
    whole, _, torn = data.rpartition(b"\n")
    assert b"\n" not in torn
    ids = {json.loads(line).get("id") for line in whole.splitlines() if line}
    return ids - {None}


def killed_ids(cli) -> set[str]:
    return set().union(*(whole_ids(path) for path in files(cli)))


def held_after(free: int, gate: threading.Event):
    """Echo the first ``free`` requests at once; hold every later one until ``gate`` is set."""
    seen = itertools.count()

    def handler(request):
        reply = echo(request)
        if next(seen) >= free:
            reply.hold = gate
        return reply

    return handler


def held(seconds: float):
    """Answer every request only after ``seconds`` (unless the client hangs up first)."""
    return Script(delay=seconds)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_drains_in_flight_work_then_resume_finishes(cli, sig, code):
    prompts = make_input(cli.home / "in.jsonl", 60)
    gate = threading.Event()
    cli.server.handler = held_after(16, gate)
    proc = cli.spawn("batch", "run", "in.jsonl", *OUT, "-j", "8")
    # 16 answered and written, 8 more held at the server: every worker is busy.
    wait_for(lambda: line_count(cli.home / "out.jsonl") >= 16 and cli.server.in_flight == 8)
    sent_before = len(cli.server.requests)
    proc.send_signal(sig)
    name = signal.Signals(sig).name
    cli.wait_output(proc, f"{name}: stopped sending; finishing 8 requests in flight", "stderr")
    gate.set()  # only now may the 8 answers go out
    result = cli.finish(proc)
    assert result.code == code, result.stderr
    assert "interrupted" in result.stderr
    assert "resume: deepseek batch run in.jsonl -o out.jsonl -j 8" in result.stderr
    assert "Traceback" not in result.stderr and "grace period over" not in result.stderr
    # Dispatch stopped at once: nothing was sent after the signal (all 8 workers were busy,
    # so nothing was on its way either), and all 8 answers in flight were drained to the file.
    assert len(cli.server.requests) == sent_before == 24
    first_run = requested_ids(cli.server)
    assert written_ids(cli) == set(first_run)
    # ...and the job ended once they were in, not at the end of the grace period (8 s):
    # its connections closed right after the last answer (both on the server's clock).
    wait_for(lambda: cli.server.open_connections == 0)
    last_answer = max(r.ended for r in cli.server.requests)
    assert max(cli.server.closed_at) - last_answer < 4.0

    cli.server.handler = echo
    resumed = cli.run("batch", "run", "in.jsonl", *OUT, "-j", "8")
    assert resumed.code == 0, resumed.stderr
    check_exactly_once(prompts, *files(cli))
    resent = set(first_run) & set(requested_ids(cli.server, len(first_run)))
    assert resent == set()  # 0 re-sends after a clean stop


def test_a_second_signal_stops_at_once_and_the_rest_is_redone(cli):
    prompts = make_input(cli.home / "in.jsonl", 40)
    cli.server.handler = held(60.0)
    proc = cli.spawn("batch", "run", "in.jsonl", *OUT, "-j", "4", "--grace", "20")
    wait_for(lambda: cli.server.in_flight == 4)
    proc.send_signal(signal.SIGINT)
    cli.wait_output(proc, "SIGINT: stopped sending; finishing 4 requests in flight", "stderr")
    result = cli.finish(proc, signal.SIGINT)
    assert result.code == 130, result.stderr
    assert "SIGINT: stopping now" in result.stderr
    assert read_records(cli.home / "out.jsonl") == []
    # On the server's clock: all four held requests were dropped by the client long before
    # the 20 s grace period could have run out (it started after they arrived).
    in_flight = cli.server.requests
    wait_for(lambda: all(r.ended is not None for r in in_flight))
    assert len(in_flight) == 4 and all(r.gone is not None for r in in_flight)
    assert max(r.gone for r in in_flight) - max(r.started for r in in_flight) < 10.0
    cli.server.handler = echo
    assert cli.run("batch", "run", "in.jsonl", *OUT).code == 0
    check_exactly_once(prompts, *files(cli))


def test_the_grace_period_bounds_the_drain(cli):
    make_input(cli.home / "in.jsonl", 20)
    cli.server.handler = held(60.0)
    proc = cli.spawn("batch", "run", "in.jsonl", *OUT, "-j", "2", "--grace", "0.5")
    wait_for(lambda: cli.server.in_flight == 2)
    result = cli.finish(proc, signal.SIGTERM)
    assert result.code == 143, result.stderr
    assert "grace period over" in result.stderr
    # On the server's clock: both held requests were given their 0.5 s (counted from the
    # signal, which came after they arrived), then dropped, long before the default grace
    # period (8 s) or their answers (60 s).
    in_flight = cli.server.requests
    wait_for(lambda: all(r.ended is not None for r in in_flight))
    assert len(in_flight) == 2 and all(r.gone is not None for r in in_flight)
    waited = [r.gone - r.started for r in in_flight]
    assert all(0.5 <= w < 5.0 for w in waited), waited


def test_sigkill_loop_never_loses_or_doubles_a_record(cli):
    """At least 10 SIGKILLs at random moments, each followed by a resume; the server must
    never see an id again once its record was on disk. A moment is "after the k-th request
    of this run reached the server", k random: the same spread on a fast or a busy machine."""
    rng = random.Random(int(os.environ.get("BATCH_KILL_SEED", "5")))
    prompts = make_input(cli.home / "in.jsonl", 500)
    cli.server.handler = Script(delay=0.01)
    args = ("batch", "run", "in.jsonl", *OUT, "-j", "16")
    kills = 0
    while kills < 10:
        already = killed_ids(cli)
        start = len(cli.server.requests)
        k = rng.randint(1, 32)
        proc = cli.spawn(*args)
        wait_for(lambda: len(cli.server.requests) >= start + k or proc.poll() is not None)  # noqa: B023
        if proc.poll() is not None:
            break  # finished before the kill
        cli.finish(proc, signal.SIGKILL)
        kills += 1
        assert not already & set(requested_ids(cli.server, start)), "a written id was re-sent"
    assert kills >= 10, "the job finished too early to be killed ten times"
    already = killed_ids(cli)
    start = len(cli.server.requests)
    final = cli.run(*args)
    assert final.code == 0, final.stderr
    assert not already & set(requested_ids(cli.server, start))
    outs, _ = check_exactly_once(prompts, *files(cli))
    assert len(outs) == 500


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
    cli.server.handler = held(30.0)
    first = cli.spawn("batch", "run", "in.jsonl", *OUT, "-j", "1")
    wait_for(lambda: len(cli.server.requests) >= 1)
    (cli.home / "link.jsonl").symlink_to(cli.home / "out.jsonl")
    (cli.home / "sub").mkdir()
    for output in ("out.jsonl", "link.jsonl", "sub/../out.jsonl"):
        second = cli.run("batch", "run", "in.jsonl", "-o", output)
        assert second.code == 75, second.stderr
        assert "in use by another batch job" in second.stderr
        assert f"pid {first.pid}" in second.stderr
    # The refused jobs sent nothing, and all three were refused at once, not after waiting
    # for the lock: the server was still holding the first job's only request (30 s).
    assert len(cli.server.requests) == 1 and cli.server.max_in_flight == 1
    assert cli.server.requests[0].ended is None
    # The lock dies with its process, even by SIGKILL: no stale lock to clean up.
    cli.finish(first, signal.SIGKILL)
    cli.server.handler = echo
    assert cli.run("batch", "run", "in.jsonl", "-o", "link.jsonl").code == 0
    check_exactly_once(prompts, *files(cli))


def test_a_failed_write_leaves_no_partial_record_and_the_job_resumes(cli):
    """RLIMIT_FSIZE makes a write come back short, then fail: the partial record is cut off,
    the job stops (exit 74) and a later run completes it."""
    prompts = make_input(cli.home / "in.jsonl", 60)
    command = " ".join(cli.command("batch", "run", "in.jsonl", *OUT, "-j", "2"))
    done = cli.run_argv(["bash", "-c", f"ulimit -f 8; exec {command}"])
    assert done.code == 74, done.stderr  # our own file failed, not the provider
    assert "cannot write" in done.stderr and "out.jsonl" in done.stderr
    out = cli.home / "out.jsonl"
    assert 0 < out.stat().st_size <= 8192
    first = read_records(out)  # whole lines only
    assert first
    resumed = cli.run("batch", "run", "in.jsonl", *OUT)
    assert resumed.code == 0, resumed.stderr
    check_exactly_once(prompts, *files(cli))
