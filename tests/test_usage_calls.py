"""``deepseek usage calls``: the ledger's calls one per line, newest first, filtered, searched."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3

import pytest
from test_usage import insert

from deepseek_cli.ledger import calls as ledger_calls
from deepseek_cli.ledger import store as ledger

UTC_ENV = {"TZ": "UTC"}


def listed(cli, *args, env=None):
    result = cli.run("usage", "calls", "--json", "--since", "all", *args, env=env)
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def ids(cli, *args):
    return [call["request_id"] for call in listed(cli, *args)]


def log_prompts(cli):
    text = (cli.home / "config.toml").read_text()
    cli.write_config("log_prompts = true\n" + text)


# --- one line per call, newest first --------------------------------------------------------


def test_newest_first_and_ties_in_the_order_recorded(cli):
    insert(
        cli,
        {"request_id": "b", "ts": "2026-11-02T10:00:00.000+00:00"},
        {"request_id": "a", "ts": "2026-11-03T08:00:00.000+00:00"},
        {"request_id": "c", "ts": "2026-11-01T23:59:59.999+00:00"},
        {"request_id": "d", "ts": "2026-11-02T10:00:00.000+00:00"},
    )
    # Two calls in the same millisecond: the later recorded is the newer.
    assert ids(cli) == ["a", "d", "b", "c"]


def test_piped_line_has_every_field(cli):
    insert(
        cli,
        {
            "input_tokens": 12_000,
            "cached_tokens": 8_000,
            "output_tokens": 1_500,
            "reasoning_tokens": 1_200,
            "cost": 0.0125,
            "currency": "USD",
            "latency_ms": 2_346,
            "request_id": "req-priced",
            "ts": "2026-11-02T10:00:00.000+00:00",
        },
        {
            "command": "batch",
            "profile": "intl",
            "provider": "dashscope",
            "region": "intl",
            "model": "deepseek-r1",
            "input_tokens": 10,
            "output_tokens": 5,
            "outcome": "ok",
            "ts": "2026-11-02T09:00:00.000+00:00",
        },
        {"outcome": "failed", "request_id": "req-failed", "ts": "2026-11-02T08:00:00.000+00:00"},
    )
    result = cli.run("usage", "calls", "--since", "all", env=UTC_ENV)
    assert result.code == 0 and "\x1b" not in result.stdout
    header, priced, unpriced, failed = result.stdout.splitlines()
    assert header.split() == [
        *("TIME", "COMMAND", "PROFILE", "PROVIDER", "MODEL", "INPUT", "CACHED", "OUTPUT"),
        *("REASONING", "COST", "LATENCY", "OUTCOME", "REQUEST", "ID"),
    ]
    assert priced.split() == [
        *("2026-11-02", "10:00:00", "ask", "ds", "deepseek", "deepseek-v4-pro", "12,000"),
        *("8,000", "1,500", "1,200", "$0.0125", "2.35", "s", "ok", "req-priced"),
    ]
    # Tokens at an unknown price: "unknown", never 0; nothing timed, reasoning not reported.
    assert unpriced.split() == [
        *("2026-11-02", "09:00:00", "batch", "intl", "dashscope", "deepseek-r1", "10", "0"),
        *("5", "-", "unknown", "-", "ok", "-"),
    ]
    # Nothing used, nothing to price.
    assert failed.split()[6:] == ["0", "0", "0", "-", "-", "-", "failed", "req-failed"]
    assert result.stderr == ""


def test_times_are_local(cli):
    insert(cli, {"ts": "2026-11-01T16:30:00.000+00:00"})
    # CST-8 is UTC+8 as a POSIX TZ string: no time zone database needed.
    result = cli.run("usage", "calls", "--since", "all", env={"TZ": "CST-8"})
    assert result.stdout.splitlines()[1].split()[:2] == ["2026-11-02", "00:30:00"]


def test_cost_in_yuan_keeps_its_currency(cli):
    insert(cli, {"input_tokens": 10, "output_tokens": 5, "cost": 1.5, "currency": "CNY"})
    line = cli.run("usage", "calls", "--since", "all").stdout.splitlines()[1]
    assert "¥1.5" in line.split()


def test_terminal_gets_a_rich_table(cli):
    from ttyrun import run_in_terminal

    insert(cli, {"input_tokens": 1_500, "output_tokens": 20, "cost": 0.25, "currency": "USD"})
    screen = run_in_terminal(cli, "usage", "calls", "--since", "all", columns=200)
    assert "Calls from the beginning to now, newest first" in screen
    assert "─" in screen and "\x1b[" in screen
    assert "1,500" in screen and "$0.25" in screen
    assert "Input includes cached tokens" in screen


def test_a_terminal_too_narrow_for_the_table_gets_one_block_per_call(cli):
    from ttyrun import run_in_terminal

    rid = "0b7c3a51-4a0e-9d2f-8c1e-6f2a9d7e1b33"
    insert(cli, {"input_tokens": 1_500, "output_tokens": 20, "request_id": rid})
    # The table needs 168 columns: 130 for the cells (the time may wrap: 10) and 38 for
    # Rich's edges, borders and padding. At 160 a table would fold the request id.
    screen = run_in_terminal(cli, "usage", "calls", "--since", "all", columns=160)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", screen)
    assert "─" not in plain
    assert re.search(rf"Request id +{rid}", plain), plain
    assert re.search(r"Model +deepseek-v4-pro", plain), plain


# --- filters and limit ----------------------------------------------------------------------


def test_filters_by_profile_model_and_command(cli):
    insert(
        cli,
        {"request_id": "1", "profile": "a"},
        {"request_id": "2", "profile": "b", "command": "batch"},
        {"request_id": "3", "profile": "b", "model": "deepseek-flash", "command": "chat"},
        {"request_id": "4", "profile": "b", "model": "deepseek-flash", "command": "batch"},
    )
    assert ids(cli, "-p", "b") == ["4", "3", "2"]
    assert ids(cli, "-m", "deepseek-flash") == ["4", "3"]
    assert ids(cli, "--command", "batch") == ["4", "2"]
    assert ids(cli, "-p", "b", "-m", "deepseek-flash", "--command", "chat") == ["3"]
    result = cli.run("usage", "calls", "--since", "all", "-m", "nope", "--command", "ask")
    assert result.code == 0 and result.stdout == ""
    assert result.stderr == "notice: no calls recorded at all for -m nope, --command ask\n"


def test_since_and_until_as_usage_reads_them(cli):
    insert(
        cli,
        *(
            {"request_id": ts[:13], "ts": ts}
            for ts in (
                "2026-10-20T00:00:00.000+00:00",
                "2026-11-01T15:30:00.000+00:00",
                "2026-11-01T16:30:00.000+00:00",
                "2026-11-02T10:00:00.000+00:00",
            )
        ),
    )
    args = ("--since", "2026-11-01", "--until", "2026-11-01")
    result = cli.run("usage", "calls", "--json", *args, env=UTC_ENV)
    assert [c["request_id"] for c in json.loads(result.stdout)] == [
        "2026-11-01T16",
        "2026-11-01T15",
    ]
    result = cli.run("usage", "calls", "--json", *args, env={"TZ": "CST-8"})
    assert [c["request_id"] for c in json.loads(result.stdout)] == ["2026-11-01T15"]


def test_default_range_is_the_last_30_days(cli):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    insert(
        cli,
        {"request_id": "recent", "ts": ledger.ledger_time(now - timedelta(days=29))},
        {"request_id": "old", "ts": ledger.ledger_time(now - timedelta(days=31))},
    )
    result = cli.run("usage", "calls", "--json")
    assert [c["request_id"] for c in json.loads(result.stdout)] == ["recent"]


def test_limit_keeps_the_newest_and_says_more_matched(cli):
    insert(
        cli,
        *({"request_id": str(i), "ts": f"2026-11-0{i}T10:00:00.000+00:00"} for i in range(1, 6)),
    )
    result = cli.run("usage", "calls", "--since", "all", "--limit", "2")
    assert len(result.stdout.splitlines()) == 3  # the header and two calls
    assert result.stderr == (
        "notice: showing the newest 2 calls; more match (--limit N shows more, --limit 0 all)\n"
    )
    assert ids(cli, "--limit", "2") == ["5", "4"]
    assert cli.run("usage", "calls", "--since", "all", "--limit", "5").stderr == ""
    assert ids(cli, "--limit", "0") == ["5", "4", "3", "2", "1"]


def test_a_limit_beyond_any_ledger_is_no_limit(cli):
    insert(cli, {"request_id": "1"}, {"request_id": "2"})
    assert ids(cli, "--limit", str(10**20)) == ["2", "1"]
    assert ids(cli, "--limit", str(2**63 - 1)) == ["2", "1"]


def test_a_time_not_written_by_us_is_shown_as_it_is(cli):
    insert(cli, {"ts": "9999-99-99 lunchtime", "request_id": "odd"})
    result = cli.run("usage", "calls", "--since", "all")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[1].split()[:3] == ["9999-99-99", "lunchtime", "ask"]


def test_default_limit_is_50(cli):
    insert(cli, *({"request_id": str(i)} for i in range(51)))
    result = cli.run("usage", "calls", "--since", "all", "--csv")
    assert len(result.stdout.splitlines()) == 51  # header + 50
    assert "showing the newest 50 calls; more match" in result.stderr


# --- machine-readable -----------------------------------------------------------------------

ROW = {
    "command": "chat",
    "profile": "intl",
    "provider": "dashscope",
    "region": "intl",
    "model": "deepseek-v4-pro",
    "served_model": "deepseek-v4-pro-0813",
    "input_tokens": 1200,
    "cached_tokens": 300,
    "output_tokens": 400,
    "reasoning_tokens": 250,
    "cost": 0.00123,
    "currency": "USD",
    "cache_saved": 0.0003,
    "latency_ms": 1530,
    "ttft_ms": 410,
    "outcome": "ok",
    "request_id": "req-1",
    "attempts": 2,
    "batch_id": None,
    "usage_estimated": False,
    "prompt": "what is 2+2?",
    "answer": "4",
    "ts": "2026-11-02T10:00:00.000+00:00",
}


def test_json_has_every_column_and_texts_only_with_prompts(cli):
    insert(cli, ROW)
    texts = {"prompt": "what is 2+2?", "answer": "4"}
    expected = {"id": 1, **{k: v for k, v in ROW.items() if k not in texts}}
    assert listed(cli) == [expected]
    assert listed(cli, "--prompts") == [{**expected, **texts}]


def test_json_of_no_calls_is_an_empty_list(cli):
    result = cli.run("usage", "calls", "--json")
    assert (result.code, result.stdout) == (0, "[]\n")


def test_csv_has_a_fixed_header(cli):
    insert(cli, ROW, {"outcome": "failed", "ts": "2026-11-01T10:00:00.000+00:00"})
    header = (
        "id,ts,command,profile,provider,region,model,served_model,input_tokens,cached_tokens,"
        "output_tokens,reasoning_tokens,cost,currency,cache_saved,latency_ms,ttft_ms,outcome,"
        "request_id,attempts,batch_id,usage_estimated"
    )
    result = cli.run("usage", "calls", "--since", "all", "--csv")
    assert result.stdout.splitlines() == [
        header,
        "1,2026-11-02T10:00:00.000+00:00,chat,intl,dashscope,intl,deepseek-v4-pro,"
        "deepseek-v4-pro-0813,1200,300,400,250,0.00123,USD,0.0003,1530,410,ok,req-1,2,,0",
        "2,2026-11-01T10:00:00.000+00:00,ask,ds,deepseek,,deepseek-v4-pro,,0,0,0,,,,,,,failed,,,,0",
    ]
    with_texts = cli.run("usage", "calls", "--since", "all", "--csv", "--prompts").stdout
    rows = list(csv.DictReader(io.StringIO(with_texts)))
    assert list(rows[0]) == [*header.split(","), "prompt", "answer"]
    assert (rows[0]["prompt"], rows[0]["answer"]) == ("what is 2+2?", "4")
    assert (rows[1]["prompt"], rows[1]["answer"]) == ("", "")
    empty = cli.run("usage", "calls", "--csv", "--since", "2026-10-01", "--until", "2026-10-02")
    assert empty.stdout == header + "\n"


# --- prompts and answers --------------------------------------------------------------------


def test_prompts_are_shown_below_their_call_when_logged(cli):
    log_prompts(cli)
    assert cli.run("ask", "remember me").code == 0
    result = cli.run("usage", "calls", "--prompts")
    assert result.code == 0 and result.stderr == ""
    header, call, prompt, answer, blank = result.stdout.splitlines()
    assert header.startswith("TIME") and " ask " in call
    assert prompt == "    prompt  remember me"
    assert answer == "    answer  echo:remember me"
    assert blank == ""


def test_prompts_not_logged_say_so(cli):
    assert cli.run("ask", "forget me").code == 0
    result = cli.run("usage", "calls", "--prompts")
    assert result.code == 0
    assert result.stdout.splitlines()[2] == (
        "    (prompt and answer not recorded: log_prompts was off)"
    )
    assert "forget me" not in result.stdout
    assert result.stderr == (
        "notice: none of these calls has its prompt recorded: set log_prompts = true in "
        "config.toml (`deepseek config set log_prompts true`) to record the prompts and "
        "answers of calls from now on\n"
    )


def test_a_call_that_failed_has_a_prompt_and_no_answer(cli):
    insert(cli, {"outcome": "failed", "prompt": "first line\nsecond line"})
    lines = cli.run("usage", "calls", "--since", "all", "--prompts").stdout.splitlines()
    assert lines[2:5] == [
        "    prompt  first line",
        "            second line",
        "    answer  (no answer)",
    ]


def test_a_long_answer_is_cut_in_a_listing_and_whole_in_json(cli):
    answer = "x" * 1_000_000
    lines = "\n".join(f"line {i}" for i in range(200))
    insert(cli, {"prompt": lines, "answer": answer})
    result = cli.run("usage", "calls", "--since", "all", "--prompts")
    out = result.stdout.splitlines()
    assert out[2] == "    prompt  line 0"
    assert out[51] == "            line 49"  # 50 lines of the prompt
    assert out[52] == "            [cut: 1,689 characters in all; --json shows the whole text]"
    assert out[53] == "    answer  " + "x" * 2000
    assert out[54] == "            [cut: 1,000,000 characters in all; --json shows the whole text]"
    assert len(result.stdout) < 5000
    (call,) = listed(cli, "--prompts")
    assert call["answer"] == answer and call["prompt"] == lines


def test_control_characters_in_a_text_are_written_out(cli):
    insert(cli, {"prompt": "red \x1b[31mtext\x1b[0m\x07 bell", "answer": "tab\tstays"})
    lines = cli.run("usage", "calls", "--since", "all", "--prompts").stdout.splitlines()
    assert lines[2] == "    prompt  red \\x1b[31mtext\\x1b[0m\\x07 bell"
    assert lines[3] == "    answer  tab\tstays"


def test_a_key_in_a_prompt_never_comes_back_out(cli):
    key = "sk-live0123456789abcdef0123456789abcd"
    token = "tok-9f8e7d6c5b4a3928170655"  # not key-shaped: known from the environment
    insert(
        cli,
        {"prompt": f"my key is {key}, the other {token}", "answer": f"do not share {key}"},
    )
    env = {"ACME_API_KEY": token}
    for args in (["--prompts"], ["--prompts", "--json"], ["--prompts", "--csv"], []):
        result = cli.run("usage", "calls", "--since", "all", "--grep", "key", *args, env=env)
        assert result.code == 0, result.stderr
        assert key[:12] not in result.stdout and token not in result.stdout
        if args:
            assert "[REDACTED]" in result.stdout
    # Cut at the listing's limit, a key straddling the cut is still masked whole.
    insert(cli, {"prompt": "y" * 1990 + key})  # recorded now: the newest
    result = cli.run("usage", "calls", "--since", "all", "--prompts", "--limit", "1")
    assert "sk-live0" not in result.stdout and "[REDAC" in result.stdout


# --- --grep ---------------------------------------------------------------------------------


def test_grep_is_case_insensitive_and_literal(cli):
    insert(
        cli,
        {"request_id": "needle", "prompt": "Where is the NEEDLE?", "answer": "here"},
        {"request_id": "answer", "prompt": "q", "answer": "a Needle in it"},
        {"request_id": "pct", "prompt": "100% sure"},
        {"request_id": "no-pct", "prompt": "1000 sure"},
        {"request_id": "under", "prompt": "a_b"},
        {"request_id": "no-under", "prompt": "axb"},
        {"request_id": "slash", "prompt": "C:\\temp"},
        {"request_id": "umlaut", "prompt": "ÄRGER im Büro"},
        {"request_id": "unlogged"},
    )
    assert ids(cli, "--grep", "needle") == ["answer", "needle"]
    assert ids(cli, "--grep", "0%") == ["pct"]
    assert ids(cli, "--grep", "%") == ["pct"]
    assert ids(cli, "--grep", "a_b") == ["under"]
    assert ids(cli, "--grep", "_") == ["under"]
    assert ids(cli, "--grep", "c:\\TEMP") == ["slash"]
    assert ids(cli, "--grep", "ärger") == ["umlaut"]  # beyond ASCII too
    assert ids(cli, "--grep", "BÜRO") == ["umlaut"]


def test_grep_finding_nothing_says_why(cli):
    insert(cli, {"prompt": "something else"})
    result = cli.run("usage", "calls", "--since", "all", "--grep", "missing")
    assert (result.code, result.stdout) == (0, "")
    assert result.stderr == "notice: no call at all has 'missing' in its prompt or answer\n"


def test_grep_without_logged_prompts_says_to_log_them(cli):
    assert cli.run("ask", "hi").code == 0
    result = cli.run("usage", "calls", "--grep", "hi")
    assert (result.code, result.stdout) == (0, "")
    assert "has its prompt recorded to search: set log_prompts = true in config.toml" in (
        result.stderr
    )


def test_grep_after_logged_asks(cli):
    log_prompts(cli)
    for prompt in ("the first question", "Second QUESTION", "unrelated"):
        assert cli.run("ask", prompt).code == 0
    calls = listed(cli, "--grep", "question", "--prompts")
    assert [c["prompt"] for c in calls] == ["Second QUESTION", "the first question"]
    assert [c["answer"] for c in calls] == ["echo:Second QUESTION", "echo:the first question"]


def test_grep_reads_only_the_logged_calls_through_their_index(cli):
    insert(cli, {"prompt": "x"})
    sql, args = ledger_calls.listing_sql(ledger_calls.CallQuery(grep="x", texts=True, cut=10))
    conn = sqlite3.connect(cli.home / "usage.db")
    plan = " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args))
    conn.close()
    assert "USING INDEX calls_logged" in plan and "TEMP B-TREE" not in plan


def test_an_index_added_later_is_created_on_an_existing_ledger(cli):
    insert(cli, {"prompt": "x"})
    conn = sqlite3.connect(cli.home / "usage.db")
    conn.execute("DROP INDEX calls_logged")
    conn.close()
    assert cli.run("usage", "calls").code == 0
    conn = sqlite3.connect(cli.home / "usage.db")
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    assert {"calls_ts", "calls_batch", "calls_logged"} <= names and version == 3


# --- the ledger is missing or broken; bad flags ---------------------------------------------


def test_a_missing_ledger_is_no_calls_and_is_not_created(cli):
    result = cli.run("usage", "calls")
    assert (result.code, result.stdout) == (0, "")
    assert result.stderr.startswith("notice: no calls recorded since ")
    assert cli.run("usage", "calls", "--grep", "x", "--since", "all").stderr == (
        "notice: no call at all has its prompt recorded to search: set log_prompts = true in "
        "config.toml (`deepseek config set log_prompts true`) to record the prompts and "
        "answers of calls from now on\n"
    )
    assert not (cli.home / "usage.db").exists()


def test_a_corrupt_ledger_exits_65_with_one_line(cli):
    (cli.home / "usage.db").write_bytes(b"this is not a database" * 100)
    result = cli.run("usage", "calls")
    assert result.code == 65 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "cannot read the usage ledger" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--command", "compare"),
        ("--limit", "-1"),
        ("--limit", "ten"),
        ("--json", "--csv"),
        ("--grep", " "),
        ("--since", "last tuesday"),
        ("--since", "2026-11-02", "--until", "2026-11-01T00:00"),
    ],
)
def test_bad_flags_exit_2(cli, args):
    result = cli.run("usage", "calls", *args)
    assert result.code == 2, result
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [[], ["--json"], ["--csv"], ["--prompts"]], ids=str)
def test_a_closed_pipe_ends_quietly(cli, args):
    insert(cli, *({"prompt": "p", "answer": "a"} for _ in range(3)))
    code, stderr = cli.run_into_closed_pipe("usage", "calls", *args)
    assert code == 0, stderr
    assert "Traceback" not in stderr and "error" not in stderr
