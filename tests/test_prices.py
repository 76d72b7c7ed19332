"""Money on every path: DashScope prices per region, your own prices, what the cache saved.

Every expected amount is worked out by hand in a comment from the literal prices of
reference/PRICES.md (per 1M tokens, hit/in/out) or of the test's config, never by our code.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from batch_helpers import make_input
from conftest import profiles_toml
from fakeserver import native_stream, openai_stream

USAGE = {
    "prompt_tokens": 1000,
    "completion_tokens": 500,
    "total_tokens": 1500,
    "prompt_tokens_details": {"cached_tokens": 400},
    "completion_tokens_details": {"reasoning_tokens": 100},
}


def builtins_at(url: str) -> str:
    """The test profiles, and the six built-in DashScope profiles pointed at the fake server
    (only the address changes: provider, region and API stay the built-ins')."""
    text = profiles_toml(url)
    for region in ("intl", "cn", "us"):
        text += f"""
    [profiles.{region}]
    base_url = "{url}/compatible-mode/v1"

    [profiles.{region}-native]
    base_url = "{url}/api/v1"
    """
    return text


def configure(cli, prices: str = "") -> None:
    cli.write_config(builtins_at(cli.server.url) + prices)


# Compatible mode, 1000 in (400 cached), 500 out, deepseek-v4-pro:
#   intl/us at 0.2/2.4/4.8 USD: (400*0.2 + 600*2.4 + 500*4.8)/1e6 = 0.00392;
#     saved 400*(2.4-0.2)/1e6 = 0.00088
#   cn at 0.138/1.65/3.301 USD: (400*0.138 + 600*1.65 + 500*3.301)/1e6 = 0.0026957;
#     saved 400*(1.65-0.138)/1e6 = 0.0006048
# Native, 1000 in, 10 out (ten one-token events), nothing cached:
#   intl/us: (1000*2.4 + 10*4.8)/1e6 = 0.002448; cn: (1000*1.65 + 10*3.301)/1e6 = 0.00168301
@pytest.mark.parametrize(
    ("profile", "amount", "saved", "source"),
    [
        ("intl", 0.00392, 0.00088, "catwalk"),
        ("us", 0.00392, 0.00088, "catwalk"),
        ("cn", 0.0026957, 0.0006048, "llmgateway"),
        ("intl-native", 0.002448, 0.0, "catwalk"),
        ("us-native", 0.002448, 0.0, "catwalk"),
        ("cn-native", 0.00168301, 0.0, "llmgateway"),
    ],
)
def test_every_builtin_dashscope_profile_prices_its_calls(cli, profile, amount, saved, source):
    configure(cli)
    if profile.endswith("native"):
        cli.server.enqueue(native_stream(answer=["a"] * 10, input_tokens=1000))
    else:
        cli.server.enqueue(openai_stream(answer=["ok"], usage=USAGE))
    result = cli.run("ask", "-p", profile, "--json", "hi")
    assert result.code == 0, result.stderr
    cost = json.loads(result.stdout)["cost"]
    assert cost == {"amount": pytest.approx(amount), "currency": "USD", "cache_saved": saved}
    [row] = cli.ledger_rows()
    assert row["cost"] == pytest.approx(amount) and row["cache_saved"] == pytest.approx(saved)
    # ...at the price `models show` names, with its source.
    shown = cli.run("models", "show", "deepseek-v4-pro", "-p", profile).stdout
    region = profile.split("-")[0]
    now = [line for line in shown.splitlines() if f"UTC  {region} " in line and " now " in line]
    assert len(now) == 1 and source in now[0] and "third-party catalogs" in now[0]


def test_config_price_wins_for_cost_and_models(cli):
    configure(
        cli,
        """
    [prices."deepseek/deepseek-v4-pro"]
    input = 1000
    output = 2000
    cache_hit = 100
    """,
    )
    cli.server.enqueue(openai_stream(answer=["ok"], usage=USAGE, usage_placement="finish"))
    data = json.loads(cli.run("ask", "--json", "hi").stdout)
    # (400*100 + 600*1000 + 500*2000)/1e6 = 1.64; saved 400*(1000-100)/1e6 = 0.36. Flat: the
    # config price has no peak window, so this holds at any hour.
    assert data["cost"] == {"amount": 1.64, "currency": "USD", "cache_saved": 0.36}
    table = cli.run("models").stdout
    pro = next(line for line in table.splitlines() if line.startswith("deepseek-v4-pro "))
    assert "100/1000/2000" in pro and " config " in f"{pro} "
    shown = cli.run("models", "show", "deepseek-v4-pro").stdout
    assert (
        'USD 100/1000/2000 per 1M (hit/in/out), from config [prices."deepseek/deepseek-v4-pro"]'
        in shown
    )
    assert "used instead of the catalog's" in shown
    listed = json.loads(cli.run("models", "--json").stdout)
    [priced] = [m["prices"] for m in listed if m["id"] == "deepseek-v4-pro"]
    assert [(p["input"], p["source_kind"]) for p in priced] == [(1000.0, "config")]


def test_a_config_price_with_a_region_applies_to_that_region_only(cli):
    configure(
        cli,
        """
    [prices."dashscope/deepseek-v4-pro"]
    region = "cn"
    input = 10
    output = 20
    currency = "CNY"
    """,
    )
    usage = {**USAGE, "prompt_tokens_details": {"cached_tokens": 0}}
    cli.server.enqueue(openai_stream(answer=["ok"], usage=usage))
    cli.server.enqueue(openai_stream(answer=["ok"], usage=usage))
    cn = json.loads(cli.run("ask", "-p", "cn", "--json", "hi").stdout)["cost"]
    intl = json.loads(cli.run("ask", "-p", "intl", "--json", "hi").stdout)["cost"]
    # cn: (1000*10 + 500*20)/1e6 = 0.02 CNY; intl keeps the catalog's (1000*2.4 + 500*4.8)/1e6
    assert cn == {"amount": 0.02, "currency": "CNY", "cache_saved": 0.0}
    assert intl == {"amount": 0.0048, "currency": "USD", "cache_saved": 0.0}


def test_a_config_price_without_cache_hit_bills_cached_input_as_input(cli):
    configure(
        cli,
        """
    [prices."openai/local-model"]
    input = 1
    output = 2
    """,
    )
    cli.server.enqueue(openai_stream(answer=["ok"], usage=USAGE, model="local-model"))
    cost = json.loads(cli.run("ask", "-p", "oai", "--json", "hi").stdout)["cost"]
    # (1000*1 + 500*2)/1e6 = 0.002, and no discount was given: nothing saved.
    assert cost == {"amount": 0.002, "currency": "USD", "cache_saved": 0.0}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[prices."deepseek/m"]\ninput = 1\noutput = 2\nfoo = 3', "unknown key 'foo'"),
        ('[prices."deepseek/m"]\ninput = -1\noutput = 2', "'input' must be a number of at least 0"),
        ('[prices."deepseek/m"]\ninput = nan\noutput = 2', "'input' must be a number of at least"),
        ('[prices."deepseek/m"]\ninput = true\noutput = 2', "'input' must be a number"),
        ('[prices."deepseek/m"]\ninput = 1', "'output' is missing"),
        ('[prices."nowhere/m"]\ninput = 1\noutput = 2', "the name must be PROVIDER/MODEL"),
        ("[prices.m]\ninput = 1\noutput = 2", "the name must be PROVIDER/MODEL"),
        ('[prices."deepseek/m"]\ninput = 1\noutput = 2\nregion = "cn"', "dashscope prices only"),
        ('[prices."dashscope/m"]\ninput = 1\noutput = 2\nregion = "eu"', "'region' must be one"),
        ('[prices."deepseek/m"]\ninput = 1\noutput = 2\ncurrency = "dollars"', "three-letter"),
        ("prices = 3", "'prices' must be"),
    ],
)
def test_bad_prices_are_exit_78_with_one_line(cli, table, message):
    cli.write_config(table)
    result = cli.run("ask", "hi")
    assert result.code == 78, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) <= 2
    assert cli.server.requests == []


# --- what caching did ----------------------------------------------------------------------


def test_the_usage_line_shows_the_cache_share_and_savings(cli):
    configure(cli)
    cli.server.enqueue(openai_stream(answer=["ok"], usage=USAGE))
    line = cli.run("ask", "-p", "intl", "-u", "hi").stderr.strip().splitlines()[-1]
    # 400 of 1000 input tokens cached; saved 0.00088 (see above).
    assert (
        "1000 in · 400 cached (40%) · 500 out · 100 reasoning · $0.00392 (cache saved $0.00088)"
        in line
    )


def test_usage_reports_hit_rate_and_savings_per_group_and_in_total(cli):
    configure(cli)
    other = {**USAGE, "prompt_tokens_details": {"cached_tokens": 0}}
    cli.server.enqueue(openai_stream(answer=["ok"], usage=USAGE))
    cli.server.enqueue(openai_stream(answer=["ok"], usage=other))
    assert cli.run("ask", "-p", "intl", "hi").code == 0
    assert cli.run("ask", "-p", "cn", "hi").code == 0
    data = json.loads(cli.run("usage", "--json", "--by", "profile").stdout)
    groups = {g["profile"]: g for g in data["groups"]}
    assert groups["intl"]["cache_hit_rate"] == 0.4
    assert groups["intl"]["cache_saved"] == {"USD": 0.00088}
    assert groups["cn"]["cache_hit_rate"] == 0.0 and groups["cn"]["cache_saved"] == {"USD": 0.0}
    # 400 of 2000 input tokens cached in total: 0.2.
    assert data["total"]["cache_hit_rate"] == 0.2
    assert data["total"]["cache_saved"] == {"USD": 0.00088}
    rows = list(csv.DictReader(io.StringIO(cli.run("usage", "--csv", "--by", "profile").stdout)))
    intl = next(r for r in rows if r["profile"] == "intl")
    assert (intl["cache_hit_rate"], intl["cache_saved_usd"]) == ("0.4000", "0.00088")
    table = cli.run("usage", "--by", "profile").stdout
    assert "40%" in table and "$0.00088" in table


def test_the_batch_summary_shows_the_cache_share_and_savings(cli):
    configure(cli)
    make_input(cli.home / "in.jsonl", 2)
    for _ in range(4):  # two runs of two lines
        cli.server.enqueue(openai_stream(answer=["ok"], usage=USAGE))
    result = cli.run("batch", "run", "in.jsonl", "-p", "intl", "--json")
    assert result.code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["cached_tokens"] == 800
    # Twice 0.00392, saving twice 0.00088.
    assert summary["cost"] == {"amount": 0.00784, "currency": "USD", "cache_saved": 0.00176}
    text = cli.run("batch", "run", "in.jsonl", "-p", "intl", "-o", "again.jsonl").stderr
    assert "(40% of input cached)" in text and "(cache saved $0.00176)" in text


def test_batch_submit_warns_about_a_model_off_beijings_batch_list(cli):
    from fake_batch import install

    install(cli.server)
    configure(cli)
    make_input(cli.home / "in.jsonl", 1)
    listed = cli.run("batch", "estimate", "in.jsonl", "-p", "cn", "--remote", "-m", "deepseek-v3")
    assert listed.code == 0 and "Batch list" not in listed.stderr
    unlisted = cli.run("batch", "submit", "in.jsonl", "-p", "cn", "-m", "deepseek-v4-pro")
    assert unlisted.code == 0, unlisted.stderr
    assert (
        "deepseek-v4-pro is not on DashScope's Beijing Batch list (deepseek-v3.2, deepseek-r1, "
        "deepseek-v3)" in unlisted.stderr
    )
