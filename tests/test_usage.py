"""``deepseek usage`` and ``usage balance``; the ledger under concurrent writers."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest
from fakeserver import FIXTURES, http_fixture, json_reply, openai_stream

from deepseek_cli.ledger import store as ledger


def usage_of(prompt, completion, cached=0, reasoning=0):
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }


def insert(cli, *rows: dict):
    conn = ledger.connect(cli.home / "usage.db")
    try:
        ledger.insert(
            conn,
            [
                ledger.LedgerRow(
                    **{
                        "command": "ask",
                        "profile": "ds",
                        "provider": "deepseek",
                        "region": None,
                        "model": "deepseek-v4-pro",
                        "outcome": "ok",
                        **row,
                    }
                )
                for row in rows
            ],
        )
    finally:
        conn.close()


def report(cli, *args, env=None):
    result = cli.run("usage", "--json", *args, env=env)
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


# --- totals match what the server reported -------------------------------------------------


def test_totals_equal_what_the_server_reported(cli):
    reported = [
        usage_of(120, 40, cached=100, reasoning=30),
        usage_of(7, 5),
        usage_of(1000, 900, 0, 800),
    ]
    for u in reported:
        cli.server.enqueue(openai_stream(answer=["ok"], usage=u, usage_placement="finish"))
        assert cli.run("ask", "hi").code == 0
    cli.server.enqueue(
        openai_stream(answer=["ok"], usage=usage_of(50, 10, 20, 5), model="deepseek-v4-pro")
    )
    # A DashScope snapshot id whose sources disagree: price unknown.
    assert cli.run("ask", "-p", "dsc", "-m", "deepseek-v4-pro-0813", "hi").code == 0

    data = report(cli, "--by", "profile")
    groups = {g["profile"]: g for g in data["groups"]}
    ds, dsc = groups["ds"], groups["dsc"]
    assert (ds["calls"], ds["errors"]) == (3, 0)
    assert ds["input_tokens"] == sum(u["prompt_tokens"] for u in reported)
    assert ds["cached_tokens"] == 100
    assert ds["output_tokens"] == sum(u["completion_tokens"] for u in reported)
    assert ds["reasoning_tokens"] == 830
    # What the three calls cost at the seed prices (see V4_PRO_COST below), by hand, in USD:
    # off-peak (100*0.022 + 20*0.66 + 40*1.98)/1e6, (7*0.66 + 5*1.98)/1e6,
    # (1000*0.66 + 900*1.98)/1e6; every peak price is exactly twice the off-peak one.
    off_peak = (0.0000946, 0.00001452, 0.002442)
    rows = [r for r in cli.ledger_rows() if r["profile"] == "ds"]
    expected = 0.0
    for row, base in zip(rows, off_peak, strict=True):
        options = {base * (2 if w == "peak" else 1) for w in windows_near(row["ts"])}
        matched = [v for v in options if row["cost"] == pytest.approx(v)]
        assert matched, (row, options)
        expected += matched[0]
    assert ds["cost"]["USD"] == pytest.approx(expected, abs=1e-8)
    assert ds["unpriced_calls"] == 0
    assert (dsc["input_tokens"], dsc["cached_tokens"], dsc["output_tokens"]) == (50, 20, 10)
    assert dsc["cost"] == {} and dsc["unpriced_calls"] == 1
    total = data["total"]
    assert total["calls"] == 4 and total["input_tokens"] == 1177 and total["unpriced_calls"] == 1
    assert total["cost"]["USD"] == pytest.approx(expected, abs=1e-8)


# deepseek-v4-pro on the DeepSeek API, USD per 1M tokens (cache hit, other input, output), in
# force since 2026-11-15 (catalog/models.toml, "pricing page checked 2026-11-15"); peak hours
# are Mon-Fri 09:00-12:00 and 14:00-18:00 Beijing time (UTC+8).
#   off-peak 0.022 / 0.66 / 1.98, peak 0.044 / 1.32 / 3.96
# For 10,000 input tokens of which 8,000 cached, and 2,000 output tokens:
#   off-peak (8000 * 0.022 + 2000 * 0.66 + 2000 * 1.98) / 1e6 = (176 + 1320 + 3960) / 1e6
#   peak     (8000 * 0.044 + 2000 * 1.32 + 2000 * 3.96) / 1e6 = (352 + 2640 + 7920) / 1e6
V4_PRO_COST = {"off_peak": 0.005456, "peak": 0.010912}
PRICES_SINCE = datetime(2026, 11, 15, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))
PEAK_MINUTES = ((9 * 60, 12 * 60), (14 * 60, 18 * 60))


def window_at(when: datetime) -> str:
    local = when.astimezone(BEIJING)
    minute = local.hour * 60 + local.minute
    weekday = local.isoweekday() <= 5
    return "peak" if weekday and any(a <= minute < b for a, b in PEAK_MINUTES) else "off_peak"


def windows_near(ts: str) -> set[str]:
    """The price window at a ledger row's time. A call within seconds of a window's edge may
    have been priced on either side of it, so both count there."""
    when = datetime.fromisoformat(ts)
    assert when >= PRICES_SINCE, f"the prices written here start {PRICES_SINCE:%Y-%m-%d}"
    return {window_at(when + timedelta(seconds=s)) for s in (-5, 0, 5)}


def test_recorded_cost_is_the_price_at_the_time_of_the_call(cli):
    """Cache-hit and peak/off-peak prices apply by the call's time; the report sums them."""
    cli.server.enqueue(
        openai_stream(
            answer=["ok"], usage=usage_of(10_000, 2_000, cached=8_000), usage_placement="finish"
        )
    )
    assert cli.run("ask", "hi").code == 0
    row = cli.ledger_rows()[0]
    assert (row["currency"], row["input_tokens"], row["cached_tokens"]) == ("USD", 10_000, 8_000)
    windows = windows_near(row["ts"])  # the window is read at the call's time
    assert any(row["cost"] == pytest.approx(V4_PRO_COST[w]) for w in windows), (row, windows)
    assert report(cli)["total"]["cost"]["USD"] == pytest.approx(row["cost"])


def test_failed_calls_count_as_errors_and_cost_nothing(cli):
    cli.server.enqueue(http_fixture("errors/deepseek_401_authentication_fails.http"))
    assert cli.run("ask", "hi").code == 77
    data = report(cli)
    assert data["total"]["calls"] == 1 and data["total"]["errors"] == 1
    assert data["total"]["cost"] == {} and data["total"]["unpriced_calls"] == 0


def test_piped_table_shows_unknown_cost_as_unknown(cli):
    insert(
        cli,
        {"input_tokens": 10, "output_tokens": 5, "cost": 0.0125, "currency": "USD"},
        {"input_tokens": 10, "output_tokens": 5, "cost": 1.5, "currency": "CNY", "profile": "y"},
        {"input_tokens": 1000, "output_tokens": 5, "provider": "dashscope", "profile": "dsc"},
    )
    result = cli.run("usage", "--by", "profile")
    assert result.code == 0 and "\x1b" not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "PROFILE",
        "CALLS",
        "ERRORS",
        "INPUT",
        "CACHED",
        "OUTPUT",
        "REASONING",
        "CACHE",
        "HITS",
        "CACHE",
        "SAVED",
        "COST",
    ]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["ds"].endswith("$0.0125")
    assert rows["y"].endswith("¥1.5")
    assert rows["dsc"].endswith("unknown (1 call)")
    assert rows["total"].endswith("¥1.5 + $0.0125 + unknown (1 call)")
    assert "1,020" in rows["total"]


def test_csv_has_fixed_columns_and_no_total_line(cli):
    insert(
        cli,
        {
            "input_tokens": 10,
            "cached_tokens": 4,
            "output_tokens": 5,
            "reasoning_tokens": 2,
            "cost": 0.00012345,
            "currency": "USD",
        },
        {"input_tokens": 3, "output_tokens": 1, "model": "deepseek-flash"},
    )
    result = cli.run("usage", "--csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == [
        "model",
        "provider",
        "calls",
        "errors",
        "input_tokens",
        "cached_tokens",
        "output_tokens",
        "reasoning_tokens",
        "cache_hit_rate",
        "cost_usd",
        "cost_cny",
        "cache_saved_usd",
        "cache_saved_cny",
        "unpriced_calls",
    ]
    by_model = {r["model"]: r for r in rows}
    assert set(by_model) == {"deepseek-v4-pro", "deepseek-flash"}
    pro = by_model["deepseek-v4-pro"]
    assert (pro["input_tokens"], pro["cached_tokens"], pro["reasoning_tokens"]) == ("10", "4", "2")
    assert (pro["cost_usd"], pro["cost_cny"]) == ("0.00012345", "")
    assert pro["cache_hit_rate"] == "0.4000"  # 4 of 10 input tokens
    assert by_model["deepseek-flash"]["unpriced_calls"] == "1"


def test_the_same_model_at_two_providers_is_two_rows(cli):
    insert(
        cli,
        {"input_tokens": 10, "output_tokens": 5, "cost": 0.25, "currency": "USD"},
        {"input_tokens": 7, "output_tokens": 3, "provider": "dashscope", "profile": "intl"},
        {"input_tokens": 1, "output_tokens": 1, "provider": "dashscope", "profile": "intl"},
    )
    data = report(cli)
    assert [(g["model"], g["provider"], g["calls"], g["input_tokens"]) for g in data["groups"]] == [
        ("deepseek-v4-pro", "dashscope", 2, 8),
        ("deepseek-v4-pro", "deepseek", 1, 10),
    ]
    assert "provider" not in report(cli, "--by", "profile")["groups"][0]
    rows = list(csv.DictReader(io.StringIO(cli.run("usage", "--csv").stdout)))
    assert [(r["model"], r["provider"], r["calls"]) for r in rows] == [
        ("deepseek-v4-pro", "dashscope", "2"),
        ("deepseek-v4-pro", "deepseek", "1"),
    ]


# --- time ranges ---------------------------------------------------------------------------

NOV = [
    "2026-10-20T00:00:00.000+00:00",
    "2026-11-01T15:30:00.000+00:00",
    "2026-11-01T16:30:00.000+00:00",
    "2026-11-02T10:00:00.000+00:00",
]


def test_since_until_and_by_day_in_utc(cli):
    insert(cli, *({"ts": ts, "input_tokens": 1} for ts in NOV))
    data = report(
        cli, "--since", "2026-11-01", "--until", "2026-11-02", "--by", "day", env={"TZ": "UTC"}
    )
    assert [(g["day"], g["calls"]) for g in data["groups"]] == [
        ("2026-11-01", 2),
        ("2026-11-02", 1),
    ]
    assert data["since"] == "2026-11-01T00:00:00.000+00:00"
    assert data["until"] == "2026-11-03T00:00:00.000+00:00"  # a bare --until date is inclusive


def test_days_are_local_calendar_days(cli):
    insert(cli, *({"ts": ts, "input_tokens": 1} for ts in NOV))
    # CST-8 is UTC+8 as a POSIX TZ string: no time zone database needed.
    data = report(cli, "--since", "2026-11-01", "--by", "day", env={"TZ": "CST-8"})
    assert [(g["day"], g["calls"]) for g in data["groups"]] == [
        ("2026-11-01", 1),
        ("2026-11-02", 2),
    ]
    assert data["since"] == "2026-10-31T16:00:00.000+00:00"


def test_relative_since_and_all(cli):
    now = datetime.now(UTC)
    insert(
        cli,
        {"ts": (now - timedelta(days=10)).isoformat(timespec="milliseconds")},
        {"ts": (now - timedelta(days=1)).isoformat(timespec="milliseconds")},
        {"ts": (now - timedelta(days=45)).isoformat(timespec="milliseconds")},
    )
    assert report(cli, "--since", "7d")["total"]["calls"] == 1
    assert report(cli, "--since", "2w")["total"]["calls"] == 2
    assert report(cli)["total"]["calls"] == 2  # default: the last 30 days
    assert report(cli, "--since", "all")["total"]["calls"] == 3


def test_filters_by_profile_and_model(cli):
    insert(cli, {"profile": "a"}, {"profile": "b"}, {"profile": "b", "model": "deepseek-flash"})
    assert report(cli, "-p", "b")["total"]["calls"] == 2
    assert report(cli, "-p", "b", "-m", "deepseek-flash")["total"]["calls"] == 1


@pytest.mark.parametrize(
    "args",
    [
        ("--since", "last tuesday"),
        ("--by", "week"),
        ("--json", "--csv"),
        ("--since", "2026-11-02", "--until", "2026-11-01T00:00"),
    ],
)
def test_bad_usage_exits_2(cli, args):
    result = cli.run("usage", *args)
    assert result.code == 2, result


def test_empty_ledger_is_not_created(cli):
    result = cli.run("usage")
    assert result.code == 0 and result.stdout == ""
    assert "no calls recorded" in result.stderr
    assert not (cli.home / "usage.db").exists()
    assert report(cli)["groups"] == []


def test_unreadable_ledger_exits_65(cli):
    (cli.home / "usage.db").write_bytes(b"this is not a database" * 100)
    result = cli.run("usage")
    assert result.code == 65 and "usage ledger" in result.stderr


# --- concurrent writers --------------------------------------------------------------------

WRITER = """
import sys
from pathlib import Path
from deepseek_cli.ledger import store as ledger
path, n = Path(sys.argv[1]), int(sys.argv[2])
row = ledger.LedgerRow(command="batch", profile="ds", provider="deepseek", region=None,
                       model="deepseek-v4-pro", outcome="ok", input_tokens=3, output_tokens=2,
                       cost=0.001, currency="USD")
errors = 0
for _ in range(n):
    try:
        ledger.record(path, row)  # a connection per call, as `ask` does
    except Exception as exc:
        errors += 1
        print(type(exc).__name__, exc, file=sys.stderr)
print(errors)
"""


def test_ledger_survives_8_writers_x_500(cli):
    """Eight processes append 500 rows each, all starting on a missing database."""
    db = cli.home / "usage.db"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), "500"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, outputs
    assert [out.strip() for out, _ in outputs] == ["0"] * 8, outputs
    assert all("locked" not in err for _, err in outputs)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 4000
    conn.close()
    total = report(cli, "--since", "all")["total"]
    assert (total["calls"], total["input_tokens"], total["output_tokens"]) == (4000, 12000, 8000)
    assert total["cost"]["USD"] == pytest.approx(4.0)


# --- balance -------------------------------------------------------------------------------


def test_balance_for_deepseek(cli):
    cli.server.enqueue(
        json_reply(json.loads((FIXTURES / "listing/deepseek_user_balance.json").read_text()))
    )
    result = cli.run("usage", "balance")
    assert result.code == 0, result.stderr
    assert result.stdout == "CNY 110.00 (granted 10.00, topped up 100.00)\n"
    request = cli.server.requests[0]
    assert (request.method, request.path) == ("GET", "/user/balance")
    assert request.headers["authorization"].startswith("Bearer ")


def test_balance_json_keeps_amounts_as_strings(cli):
    body = {
        "is_available": False,
        "balance_infos": [
            {
                "currency": "USD",
                "total_balance": "0.10",
                "granted_balance": "0.00",
                "topped_up_balance": "0.10",
            }
        ],
    }
    cli.server.enqueue(json_reply(body), json_reply(body))
    result = cli.run("usage", "balance", "--json")
    data = json.loads(result.stdout)
    assert data == {
        "profile": "ds",
        "provider": "deepseek",
        "available": False,
        "balances": [{"currency": "USD", "total": "0.10", "granted": "0.00", "topped_up": "0.10"}],
    }
    plain = cli.run("usage", "balance")
    assert "not enough for API calls" in plain.stderr


def test_balance_base_url_with_v1(cli):
    cli.write_config(f"""
    [profiles.v1]
    provider = "deepseek"
    base_url = "{cli.server.url}/v1"
    """)
    cli.server.enqueue(json_reply({"is_available": True, "balance_infos": []}))
    assert cli.run("usage", "balance", "-p", "v1").code == 0
    assert cli.server.paths() == ["/user/balance"]


def test_balance_on_dashscope_says_there_is_none_and_exits_2(cli):
    result = cli.run("usage", "balance", "-p", "dsc", env={"DASHSCOPE_API_KEY": ""})
    assert result.code == 2
    assert "DashScope (Model Studio) has no balance API" in result.stderr
    assert "Alibaba Cloud console" in result.stderr
    assert cli.server.requests == []


def test_balance_with_a_rejected_key_exits_77(cli):
    cli.server.enqueue(http_fixture("errors/deepseek_401_authentication_fails.http"))
    result = cli.run("usage", "balance")
    assert result.code == 77 and "Authentication Fails" in result.stderr


def test_balance_server_error_exits_69(cli):
    cli.server.enqueue(http_fixture("errors/deepseek_503_server_overloaded.http"))
    result = cli.run("usage", "balance")
    assert result.code == 69


def test_balance_unreachable_exits_69(cli):
    cli.write_config("""
    [profiles.gone]
    provider = "deepseek"
    base_url = "http://127.0.0.1:9"
    """)
    result = cli.run("usage", "balance", "-p", "gone")
    assert result.code == 69 and "cannot reach" in result.stderr


def test_terminal_gets_a_rich_table_with_a_total(cli):
    from ttyrun import run_in_terminal

    insert(
        cli,
        {"input_tokens": 1500, "output_tokens": 20, "cost": 0.25, "currency": "USD"},
        {"input_tokens": 10, "output_tokens": 5, "model": "deepseek-flash"},
    )
    screen = run_in_terminal(cli, "usage")
    assert "Usage from " in screen and "by model" in screen
    assert "Provider" in screen and "deepseek" in screen
    assert "─" in screen and "\x1b[" in screen
    assert "1,510" in screen and "$0.25 + unknown (1 call)" in screen
    assert "Input includes cached tokens" in screen
