"""``deepseek batch run`` under provider faults and limits, measured at the server.

Rates and times are scaled down (rpm 600, backoffs of tens of milliseconds) so every test runs
in a few seconds; every assertion is on what the server saw or what the files hold.
"""

from __future__ import annotations

import itertools
import json
import math
import time

from batch_helpers import (
    Script,
    check_exactly_once,
    deepseek_error,
    id_of,
    make_input,
    read_records,
    requested_ids,
    windows,
)
from fakeserver import Reply, echo, last_user_text, openai_completion, openai_stream

OUT = ("-o", "out.jsonl")


def files(cli):
    return cli.home / "out.jsonl", cli.home / "out.errors.jsonl"


def rate_limited(retry_after: str | None = None) -> Reply:
    headers = {"retry-after": retry_after} if retry_after is not None else None
    return deepseek_error(429, "Rate limit reached for requests", headers)


# --- terminal, retryable and fatal answers ---------------------------------------------------


def test_401_mid_job_stops_at_once_and_records_nothing_for_untried_items(cli):
    prompts = make_input(cli.home / "in.jsonl", 60)
    served = {"n": 0}

    def handler(request):
        served["n"] += 1
        if served["n"] <= 10:
            reply = echo(request)
            reply.delay = 0.02
            return reply
        return deepseek_error(401, "Authentication Fails, Your api key: ****f6a is invalid")

    cli.server.handler = handler
    result = cli.run("batch", "run", "in.jsonl", *OUT, "-j", "4")
    assert result.code == 77, result.stderr
    assert "not permitted" in result.stderr and "resume" in result.stderr
    # No new dispatches after the first 401: only requests already in flight followed it.
    assert len(cli.server.requests) <= 10 + 4
    out, err = files(cli)
    assert not err.exists() or read_records(err) == []
    written = {r["id"] for r in read_records(out)}
    assert len(written) <= 10

    cli.server.handler = echo
    before = len(cli.server.requests)
    resumed = cli.run("batch", "run", "in.jsonl", *OUT, "-j", "4")
    assert resumed.code == 0, resumed.stderr
    check_exactly_once(prompts, out, err)
    assert not written & set(requested_ids(cli.server, before))  # written ids never re-sent


def test_402_insufficient_balance_exits_77_with_a_top_up_hint(cli):
    make_input(cli.home / "in.jsonl", 20)
    cli.server.handler = lambda r: deepseek_error(402, "Insufficient Balance")
    result = cli.run("batch", "run", "in.jsonl", *OUT, "-j", "2")
    assert result.code == 77 and "top up" in result.stderr
    assert len(cli.server.requests) <= 2
    out, err = files(cli)
    assert read_records(out) == [] and read_records(err) == []


def test_transient_5xx_is_retried_and_attempts_are_counted(cli):
    prompts = make_input(cli.home / "in.jsonl", 12)
    cli.server.handler = Script(
        {
            "q1": [deepseek_error(500, "internal"), deepseek_error(503, "busy")],
            "q5": [deepseek_error(502, "<html>bad gateway</html>")],
            "q7": [Reply(200, {"content-type": "application/json"}, b'{"id": "x", "choi')],
        }
    )
    result = cli.run("batch", "run", "in.jsonl", *OUT, "-j", "3", "--backoff", "0.02")
    assert result.code == 0, result.stderr
    outs, _ = check_exactly_once(prompts, *files(cli))
    attempts = {r["id"]: r["attempts"] for r in outs}
    assert (attempts["q1"], attempts["q5"], attempts["q7"]) == (3, 2, 2)
    assert {a for i, a in attempts.items() if i not in ("q1", "q5", "q7")} == {1}


def test_one_item_that_always_fails_gets_one_error_record_after_its_attempts(cli):
    prompts = make_input(cli.home / "in.jsonl", 20)
    cli.server.handler = Script({"q2": [deepseek_error(500, "boom")] * 50}, delay=0.01)
    result = cli.run(
        "batch", "run", "in.jsonl", *OUT, "-j", "4", "--max-attempts", "3", "--backoff", "0.02"
    )
    assert result.code == 4, result.stderr
    _, errs = check_exactly_once(prompts, *files(cli))
    assert [(e["id"], e["error"]["status"], e["attempts"]) for e in errs] == [("q2", 500, 3)]
    assert requested_ids(cli.server).count("q2") == 3
    # A plain re-run leaves the error alone; --retry-errors tries it again, and its new
    # record replaces the old one (still one record per id).
    assert cli.run("batch", "run", "in.jsonl", *OUT).code == 4
    cli.server.handler = echo
    before = len(cli.server.requests)
    retried = cli.run("batch", "run", "in.jsonl", *OUT, "--retry-errors")
    assert retried.code == 0, retried.stderr
    assert requested_ids(cli.server, before) == ["q2"]
    _, errs = check_exactly_once(prompts, *files(cli))
    assert errs == []


def test_cut_off_answers_are_retried_and_never_written(cli):
    prompts = make_input(cli.home / "in.jsonl", 6)

    def cut(request):
        return openai_stream(answer=["echo:pro"], finish=None, done=False)

    def no_resources(request):
        return openai_stream(answer=["echo:prompt"], finish="insufficient_system_resource")

    def too_long(request):
        return openai_stream(answer=["echo:" + "prompt for q3"], finish="length")

    cli.server.handler = Script({"q1": [cut], "q2": [no_resources], "q3": [too_long]})
    result = cli.run("batch", "run", "in.jsonl", *OUT, "--stream", "--backoff", "0.02")
    assert result.code == 0, result.stderr
    outs, _ = check_exactly_once(prompts, *files(cli))
    by_id = {r["id"]: r for r in outs}
    assert (by_id["q1"]["attempts"], by_id["q2"]["attempts"]) == (2, 2)
    assert by_id["q3"]["finish_reason"] == "length" and by_id["q3"]["attempts"] == 1
    assert all(r["finish_reason"] for r in outs)
    assert all(r.json["stream"] for r in cli.server.requests)


def test_a_timed_out_attempt_is_retried_as_a_stream(cli):
    prompts = make_input(cli.home / "in.jsonl", 2)

    def handler(request):
        if not request.json.get("stream"):
            reply = openai_completion("echo:" + "late")
            reply.delay = 30.0
            return reply
        return echo(request)

    cli.server.handler = handler
    result = cli.run("batch", "run", "in.jsonl", *OUT, "--timeout", "0.8", "--backoff", "0.01")
    assert result.code == 0, result.stderr
    outs, _ = check_exactly_once(prompts, *files(cli))
    assert {r["attempts"] for r in outs} == {2}
    assert [r.json["stream"] for r in cli.server.requests].count(True) == 2
    # On the server's clock: each plain attempt was dropped at its 0.8 s deadline (not after
    # the 30 s the answer would have taken) and its item went out again as a stream.
    plain = [r for r in cli.server.requests if not r.json["stream"]]
    assert len(plain) == 2 and all(r.gone is not None for r in plain)
    for first in plain:
        assert first.gone - first.started < 4.0
        again = next(
            r for r in cli.server.requests if r.json["stream"] and id_of(r) == id_of(first)
        )
        assert again.started >= first.gone - 0.05  # the retry came after the drop


# --- 429 and outages --------------------------------------------------------------------------


def test_429_with_retry_after_pauses_everyone_for_exactly_that_long(cli):
    prompts = make_input(cli.home / "in.jsonl", 30)
    cli.server.handler = Script({"q0": [rate_limited("1")]}, delay=0.1)
    result = cli.run("batch", "run", "in.jsonl", *OUT, "-j", "4", "--ramp", "1")
    assert result.code == 0, result.stderr
    outs, _ = check_exactly_once(prompts, *files(cli))
    assert next(r for r in outs if r["id"] == "q0")["attempts"] == 2
    first_429 = next(r for r in cli.server.requests if id_of(r) == "q0")
    answered = first_429.ended
    # Counted, not timed (a busy machine delays them): the other three workers may each have
    # a request on its way when the 429 goes out (each takes 0.1 s, so none can finish and be
    # followed by another before the client reads the 429); after that, nothing for 1 s.
    during = [r for r in cli.server.requests if answered < r.started < answered + 0.99]
    assert len(during) <= 3, [(id_of(r), r.started - answered) for r in during]
    assert any(r.started >= answered + 0.99 for r in cli.server.requests)  # then it went on


def test_429_storm_without_retry_after_backs_off_and_writes_no_errors(cli):
    prompts = make_input(cli.home / "in.jsonl", 30)
    storm = {"until": None}

    def handler(request):
        now = time.monotonic()
        if storm["until"] is None:
            storm["until"] = now + 1.5
        if now < storm["until"]:
            return rate_limited()
        return echo(request)

    cli.server.handler = handler
    result = cli.run(
        "batch",
        "run",
        "in.jsonl",
        *OUT,
        "-j",
        "8",
        "--backoff",
        "0.2",
        "--max-attempts",
        "2",
        "--ramp",
        "1",
    )
    assert result.code == 0, result.stderr
    check_exactly_once(prompts, *files(cli))
    # After the first wave (one request per worker, counted rather than timed: on a busy
    # machine it arrives spread out), probes only, paced by one job-wide backoff (0.2 s
    # doubling, full jitter): a handful in the 1.5 s storm, fewer than one per worker; 8
    # workers retrying on their own every ~0.1 s would send dozens. (A rate bound of 3/s was
    # flaky: jitter allows 4 probes.)
    in_storm = [r for r in cli.server.requests[8:] if r.started < storm["until"]]
    assert len(in_storm) < 8, len(in_storm)


def test_retry_after_longer_than_max_wait_exits_75_without_error_records(cli):
    prompts = make_input(cli.home / "in.jsonl", 10)
    cli.server.handler = Script({"q3": [rate_limited("600")]})
    result = cli.run("batch", "run", "in.jsonl", *OUT, "-j", "1", "--max-wait", "5")
    assert result.code == 75, result.stderr
    assert "600" in result.stderr and "resume" in result.stderr
    out, err = files(cli)
    assert read_records(err) == []
    assert "q3" not in {r["id"] for r in read_records(out)}
    resumed = cli.run("batch", "run", "in.jsonl", *OUT, "-j", "1", "--max-wait", "5")
    assert resumed.code == 0, resumed.stderr
    check_exactly_once(prompts, out, err)


def test_an_outage_shorter_than_the_budget_writes_no_error_records(cli):
    prompts = make_input(cli.home / "in.jsonl", 30)
    outage = {"until": None}

    def handler(request):
        now = time.monotonic()
        if outage["until"] is None:
            outage["until"] = now + 1.0  # items give up after 3 attempts in ~0.3 s
        if now < outage["until"]:
            return deepseek_error(503, "Service Unavailable")
        return echo(request)

    cli.server.handler = handler
    result = cli.run(
        "batch", "run", "in.jsonl", *OUT, "-j", "4", "--backoff", "0.1", "--max-attempts", "3"
    )
    assert result.code == 0, result.stderr
    _, errs = check_exactly_once(prompts, *files(cli))
    assert errs == []
    during = [r for r in cli.server.requests if r.started < outage["until"]]
    assert len(during) < 30  # dispatch paused and probed; it did not burn through the input


def test_items_that_fail_on_their_own_at_the_tail_end_with_error_records_quickly(cli):
    # The last three items get a 503 for themselves, every time; the others are answered. The
    # breaker opens on them (three distinct items failing in a row with nothing else left),
    # and probing with those same items proved nothing: the job waited out its outage budget
    # (600 s) with none of them charged. A canary of our own answers instead, so they are
    # charged, use up their attempts and get their error records within seconds.
    prompts = make_input(cli.home / "in.jsonl", 20)
    bad = {"q17", "q18", "q19"}

    def answer(request):
        if id_of(request) in bad:
            return deepseek_error(503, "Service Unavailable")
        return echo(request)

    cli.server.handler = Script(delay=0.05, then=answer)
    result = cli.run(
        "batch", "run", "in.jsonl", *OUT, "-j", "4", "--backoff", "0.1", "--max-attempts", "3",
        timeout=60,
    )  # fmt: skip
    assert result.code == 4, result.stderr
    _, errs = check_exactly_once(prompts, *files(cli))
    assert {r["id"] for r in errs} == bad
    # Three charged attempts each, after the one or two the breaker held (not charged) before
    # its canary was answered.
    assert all(3 <= r["attempts"] <= 6 and r["error"]["status"] == 503 for r in errs), errs
    pings = [r for r in cli.server.requests if last_user_text(r.json) == "ping"]
    assert 1 <= len(pings) <= 3, len(pings)  # one canary per opening of the breaker
    assert all(r.json["max_tokens"] == 1 for r in pings)
    # Every call is a ledger row, the canaries' too: 17 answers and the answered pings.
    assert sum(r["outcome"] == "ok" for r in cli.ledger_rows()) == 17 + len(pings)


def test_an_outage_at_the_tail_still_charges_nobody(cli):
    # The provider goes down (canaries included) when only three items are left, for 1.5 s.
    prompts = make_input(cli.home / "in.jsonl", 10)
    outage = {"from": None, "seen": 0}

    def handler(request):
        now = time.monotonic()
        outage["seen"] += 1
        if outage["seen"] == 8:
            outage["from"] = now
        if outage["from"] is not None and now < outage["from"] + 1.5:
            return deepseek_error(503, "Service Unavailable")
        return echo(request)

    cli.server.handler = handler
    result = cli.run(
        "batch", "run", "in.jsonl", *OUT, "-j", "1", "--backoff", "0.1", "--max-attempts", "2"
    )
    assert result.code == 0, result.stderr
    _, errs = check_exactly_once(prompts, *files(cli))
    assert errs == []


def test_an_outage_longer_than_the_budget_exits_69_and_resumes(cli):
    prompts = make_input(cli.home / "in.jsonl", 10)
    cli.server.handler = lambda r: deepseek_error(503, "Service Unavailable")
    result = cli.run(
        "batch", "run", "in.jsonl", *OUT, "-j", "2", "--backoff", "0.05", "--outage-budget", "1"
    )
    assert result.code == 69, result.stderr
    assert "unavailable" in result.stderr
    out, err = files(cli)
    assert read_records(out) == [] and read_records(err) == []
    cli.server.handler = echo
    assert cli.run("batch", "run", "in.jsonl", *OUT).code == 0
    check_exactly_once(prompts, out, err)


def test_a_429_on_one_model_does_not_pause_another(cli):
    lines = [
        {"id": f"{m}{i}", "prompt": f"prompt for {m}{i}", "model": m}
        for i in range(8)
        for m in ("deepseek-v4-pro", "deepseek-flash")
    ]
    (cli.home / "in.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    cli.server.handler = Script({"deepseek-v4-pro0": [rate_limited("1.5")]}, delay=0.05)
    result = cli.run("batch", "run", "in.jsonl", *OUT, "-j", "2", "--ramp", "1")
    assert result.code == 0, result.stderr
    limited = next(r for r in cli.server.requests if id_of(r) == "deepseek-v4-pro0")
    pause = (limited.ended, limited.ended + 1.45)
    models = [r.json["model"] for r in cli.server.requests if pause[0] < r.started < pause[1]]
    # Counted, not timed: the other worker may have had one deepseek-v4-pro request on its
    # way when the 429 went out (each takes 0.05 s); after that, v4-pro waits and flash goes on.
    assert models.count("deepseek-v4-pro") <= 1 and "deepseek-flash" in models, models


# --- rate windows and concurrency, measured at the server ------------------------------------


def test_rpm_is_smooth_in_every_one_second_window(cli):
    make_input(cli.home / "in.jsonl", 25)
    result = cli.run("batch", "run", "in.jsonl", *OUT, "-j", "16", "--rpm", "600", "--ramp", "0")
    assert result.code == 0, result.stderr
    times = sorted(r.started for r in cli.server.requests)
    assert windows(times, 1.0) <= math.ceil(600 / 60) + 1  # never above the limit
    # ...and close to it: the typical gap is the limit's 0.1 s. The median, not the mean,
    # because a busy machine stalls the client now and then and a stall only ever stretches
    # a gap (the pacing never catches up in a burst); a pacer even 25 % slow fails.
    gaps = sorted(b - a for a, b in itertools.pairwise(times))
    median = gaps[len(gaps) // 2]
    assert 0.09 <= median <= 0.125, gaps


def test_rpm_ramps_up_instead_of_starting_at_full_rate(cli):
    make_input(cli.home / "in.jsonl", 12)  # without the ramp, 10 or 11 go out in the first second
    result = cli.run("batch", "run", "in.jsonl", *OUT, "-j", "16", "--rpm", "600", "--ramp", "2")
    assert result.code == 0, result.stderr
    times = sorted(r.started for r in cli.server.requests)
    first_second = [t for t in times if t < times[0] + 1.0]
    assert len(first_second) <= 6, len(first_second)


def test_concurrency_cap_holds_at_the_server(cli):
    prompts = make_input(cli.home / "in.jsonl", 12)
    cli.server.handler = Script(delay=0.1)
    result = cli.run("batch", "run", "in.jsonl", *OUT, "-j", "3")
    assert result.code == 0, result.stderr
    check_exactly_once(prompts, *files(cli))
    assert cli.server.max_in_flight == 3


def test_tpm_paces_reserved_tokens_and_gives_back_the_unused(cli):
    prompts = make_input(cli.home / "in.jsonl", 12)
    cli.server.handler = Script(delay=0.3)
    result = cli.run(
        "batch", "run", "in.jsonl", *OUT, "-j", "20", "--tpm", "3000", "--max-tokens", "150"
    )
    assert result.code == 0, result.stderr
    check_exactly_once(prompts, *files(cli))
    # 3000 TPM is 50 tokens/s. Each request reserves about 160 tokens (prompt + max_tokens),
    # 3.2 s of the budget, but uses 18 and gives the rest back when it ends (0.3 s later):
    # about 0.36 s per request, so 12 finish in a few seconds instead of 12 x 3.2 = 38 s, and
    # the next one never goes out before the last one ended.
    assert result.elapsed < 20, result.elapsed
    assert cli.server.max_in_flight == 1


def test_tpm_is_smooth_in_every_one_second_window(cli):
    # DashScope counts tokens per second too (TPS = TPM/60): 6000 TPM is 100 tokens/s. Each
    # request reserves about 50 (prompt + --max-tokens 40) and the server reports 18 used, so
    # any second may hold 100 tokens plus one request's reservation: at most 8 requests of 18.
    make_input(cli.home / "in.jsonl", 30)
    result = cli.run(
        "batch", "run", "in.jsonl", *OUT, "-j", "16", "--tpm", "6000", "--max-tokens", "40"
    )
    assert result.code == 0, result.stderr
    times = sorted(r.started for r in cli.server.requests)
    assert windows(times, 1.0) * 18 <= 100 + 50, windows(times, 1.0)
    # ...and close to the limit: 18 tokens at 100/s is a gap of 0.18 s. The median, as for RPM:
    # a stall on a busy machine only ever stretches a gap.
    gaps = sorted(b - a for a, b in itertools.pairwise(times))
    median = gaps[len(gaps) // 2]
    assert 0.17 <= median <= 0.3, gaps


def test_an_aborted_job_says_how_many_items_remain_not_that_nothing_is_left(cli):
    make_input(cli.home / "in.jsonl", 5)
    cli.server.handler = lambda r: deepseek_error(401, "Authentication Fails")
    result = cli.run("batch", "run", "in.jsonl", *OUT, "-j", "1")
    assert result.code == 77
    summary = [line for line in result.stderr.splitlines() if line.startswith("batch ")][-1]
    assert "nothing left to send" not in summary
    assert "0/5 done" in summary and "5 not done" in summary
