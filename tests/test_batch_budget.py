"""``batch run --max-cost`` and ``batch estimate --max-cost``: budgets, against the fake server.

Every amount below is worked out by hand from literal prices (the config's, per 1M tokens) and
what the fake server reports, never by our code:

- input lines ``{"id": "q<i>", "prompt": "prompt for q<i>"}`` (``batch_helpers.make_input``):
  13 ASCII characters, estimated as 13 x 0.3 = 3.9 tokens + 4 per message + 3 per request =
  10.9, so 11 prompt tokens;
- with ``--max-tokens 10`` one attempt reserves 11 x 1000 + 10 x 2000 = 31,000 per 1M tokens,
  so $0.031, at the config price input 1000, output 2000;
- the fake server answers each one with 11 prompt and 7 completion tokens, none cached:
  11 x 1000 + 7 x 2000 = 25,000 per 1M tokens, so $0.025 spent per answer.
"""

from __future__ import annotations

import json

import pytest
from batch_helpers import Script, check_exactly_once, deepseek_error, make_input, read_records
from batch_helpers import requested_ids as requested
from conftest import profiles_toml
from fakeserver import Reply

from deepseek_cli.errors import UsageError

PRICES = """
[prices."deepseek/deepseek-v4-pro"]
input = 1000
output = 2000
cache_hit = 100

[prices."deepseek/deepseek-flash"]
input = 100
output = 400

[prices."deepseek/my-model"]
input = 1
output = 2
"""
OUT = ("-o", "out.jsonl")
TEN = ("--max-tokens", "10")


@pytest.fixture
def priced(cli):
    cli.write_config(profiles_toml(cli.server.url) + PRICES)
    return cli


def files(cli):
    return cli.home / "out.jsonl", cli.home / "out.errors.jsonl"


def run(cli, *args):
    return cli.run("batch", "run", "in.jsonl", *OUT, *TEN, *args)


def last_line(text):
    return text.strip().splitlines()[-1]


def costs(cli):
    return [r["cost"]["amount"] for r in read_records(files(cli)[0])]


# --- stopping within the budget ----------------------------------------------------------------


def test_the_job_stops_within_its_budget_and_exits_75_with_one_line(priced):
    make_input(priced.home / "in.jsonl", 6)
    result = run(priced, "--max-cost", "0.1", "-j", "4", "--json")
    assert result.code == 75, result.stderr
    # Spent 0, 0.025, 0.05 before each of q0..q2 (+ 0.031 each: fits in 0.1); after three
    # answers 3 x 0.025 = 0.075, and 0.075 + 0.031 = 0.106 > 0.1: q3 is never sent.
    assert last_line(result.stderr) == (
        "error: budget reached: --max-cost $0.1; spent $0.075, and the next request reserves "
        "$0.031; 3 not done; raise --max-cost to go on (the same command resumes)"
    )
    assert sorted(requested(priced.server)) == ["q0", "q1", "q2"]
    assert sorted(r["id"] for r in read_records(files(priced)[0])) == ["q0", "q1", "q2"]
    assert not files(priced)[1].exists() or read_records(files(priced)[1]) == []
    assert costs(priced) == [0.025, 0.025, 0.025]  # 0.075 <= 0.1
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["exit_code"]) == ("stopped", 75)
    assert summary["budget"] == {
        "amount": 0.1,
        "currency": "USD",
        "spent": 0.075,
        "spent_before": 0.0,
        "uncounted_before": 0,
        "reached": True,
        "next_reserve": 0.031,
    }
    assert sum(r["cost"] for r in priced.ledger_rows()) == pytest.approx(0.075)


def test_a_request_that_does_not_fit_waits_for_the_requests_in_flight(priced):
    make_input(priced.home / "in.jsonl", 6)
    result = run(priced, "--max-cost", "0.09", "-j", "4")
    assert result.code == 75, result.stderr
    # 0.031 + 0.031 fit in 0.09, a third (0.093) does not while both are in flight; after one
    # answer 0.025 + 0.031 + 0.031 = 0.087 fits; after all three, 0.075 + 0.031 = 0.106 does
    # not. Stopping at the first misfit would have done two.
    assert sorted(requested(priced.server)) == ["q0", "q1", "q2"]
    assert sum(costs(priced)) == pytest.approx(0.075)
    assert "spent $0.075," in result.stderr
    assert "$0.075 ($0.075 of the $0.09 budget); 3 not done" in result.stderr  # the summary


def test_a_larger_budget_resumes_and_every_id_is_sent_once_over_both_runs(priced):
    prompts = make_input(priced.home / "in.jsonl", 6)
    assert run(priced, "--max-cost", "0.1").code == 75
    second = run(priced, "--max-cost", "0.2", "--json")
    assert second.code == 0, second.stderr
    # Earlier runs spent 0.075 (the ledger); q3..q5: 0.075 + 0.031 = 0.106, 0.131, 0.156 each
    # fit in 0.2; spent 0.075 + 3 x 0.025 = 0.15.
    budget = json.loads(second.stdout)["budget"]
    assert (budget["spent"], budget["spent_before"], budget["reached"]) == (0.15, 0.075, False)
    sent = requested(priced.server)
    assert sorted(sent) == sorted(prompts) and len(sent) == 6
    check_exactly_once(prompts, *files(priced))
    assert sum(costs(priced)) == pytest.approx(0.15)  # <= 0.2


def test_the_same_budget_again_sends_nothing(priced):
    make_input(priced.home / "in.jsonl", 6)
    assert run(priced, "--max-cost", "0.1").code == 75
    before = len(priced.server.requests)
    again = run(priced, "--max-cost", "0.1")
    assert again.code == 75
    # 0.075 spent by the first run, + 0.031 = 0.106 > 0.1.
    assert "spent $0.075 ($0.075 by earlier runs), and the next request reserves $0.031" in (
        again.stderr
    )
    assert len(priced.server.requests) == before


def test_without_max_tokens_the_catalog_default_is_reserved(priced):
    make_input(priced.home / "in.jsonl", 2)
    result = priced.run("batch", "run", "in.jsonl", *OUT, "--max-cost", "100")
    # No --max-tokens: deepseek-v4-pro's max_output, 393,216 tokens: 11 x 1000 + 393,216 x 2000
    # = 786,443,000 per 1M = $786.443 > $100.
    assert result.code == 75, result.stderr
    assert "the next request reserves $786.443; 2 not done" in result.stderr
    assert priced.server.requests == []


# --- retries ------------------------------------------------------------------------------------


def test_a_retry_reserves_again_and_an_unreadable_answer_counts_at_its_reservation(priced):
    make_input(priced.home / "in.jsonl", 1)
    cut = Reply(200, {"content-type": "application/json"}, b'{"id": "x", "choi')
    priced.server.handler = Script({"q0": [cut]})
    result = run(priced, "--max-cost", "0.05", "--backoff", "0.01")
    # q0's first attempt reserves 0.031 and its body does not parse: it may have been billed,
    # so it counts 0.031; the retry would take 0.031 + 0.031 = 0.062 past 0.05.
    assert result.code == 75, result.stderr
    assert "spent $0.031, and the next request reserves $0.031; 1 not done" in result.stderr
    assert len(priced.server.requests) == 1
    assert read_records(files(priced)[0]) == []


def test_an_error_status_costs_nothing_and_its_retry_reserves_again(priced):
    make_input(priced.home / "in.jsonl", 3)
    # Answers take 0.3 s, so q0's retry (backoff 0.01 s) is due when q1's answer comes and
    # goes before q2: on a busy machine q1 could otherwise finish first and q2 take its place.
    priced.server.handler = Script({"q0": [deepseek_error(500, "Internal error")]}, delay=0.3)
    result = run(priced, "--max-cost", "0.06", "-j", "1", "--backoff", "0.01")
    # A 500 is not billed: 0 spent. q1 and then the retry reserve 0.031 each and spend 0.025
    # each: 0.031, then 0.025 + 0.031 = 0.056 fit in 0.06; q2: 0.05 + 0.031 = 0.081 does not.
    assert result.code == 75, result.stderr
    assert sorted(requested(priced.server)) == ["q0", "q0", "q1"]
    records = read_records(files(priced)[0])
    assert sorted((r["id"], r["attempts"]) for r in records) == [("q0", 2), ("q1", 1)]
    assert "spent $0.05," in result.stderr


# --- refused before anything is sent ------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "model", "table"),
    [
        ("dsc", "deepseek-v4-pro-0813", "dashscope/deepseek-v4-pro-0813"),  # sources disagree
        ("ds", "mystery-1", "deepseek/mystery-1"),  # not in the catalog
    ],
)
def test_a_model_without_a_price_cannot_run_under_a_budget(priced, profile, model, table):
    lines = [{"id": "a", "prompt": "hi"}, {"id": "b", "prompt": "hi", "model": model}]
    (priced.home / "in.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = run(priced, "-p", profile, "--max-cost", "5")
    assert result.code == 78, result.stderr
    assert f"{model} has no price in USD: it cannot run under --max-cost" in result.stderr
    assert f'[prices."{table}"]' in result.stderr and "config.toml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert priced.server.requests == []
    assert not files(priced)[0].exists() and not files(priced)[1].exists()


def test_a_budget_in_another_currency_than_the_price_is_refused(priced):
    make_input(priced.home / "in.jsonl", 2)
    result = run(priced, "--max-cost", "20cny")
    # The config's price (USD) wins over the catalog's, and it has no CNY price.
    assert result.code == 78, result.stderr
    assert "deepseek-v4-pro has no price in CNY" in result.stderr
    assert "give --max-cost in USD" in result.stderr
    assert priced.server.requests == []


def test_a_line_without_max_tokens_anywhere_is_refused(priced):
    lines = [
        {"id": "a", "prompt": "hi", "model": "my-model", "max_tokens": 5},
        {"id": "b", "prompt": "hi", "model": "my-model"},
    ]
    (priced.home / "in.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = priced.run("batch", "run", "in.jsonl", *OUT, "--max-cost", "5")
    assert result.code == 2, result.stderr
    assert last_line(result.stderr) == (
        "error: --max-cost needs max_tokens: my-model has no default; "
        "set --max-tokens or max_tokens per line"
    )
    assert priced.server.requests == []
    assert run(priced, "--max-cost", "5").code == 0  # with --max-tokens it runs


def test_an_unreadable_ledger_refuses_the_budget(priced):
    make_input(priced.home / "in.jsonl", 2)
    (priced.home / "usage.db").write_bytes(b"this is not a database\n" * 200)
    result = run(priced, "--max-cost", "5")
    assert result.code == 74, result.stderr
    assert "cannot read the usage ledger" in result.stderr and "--max-cost" in result.stderr
    assert priced.server.requests == []
    assert not files(priced)[0].exists()


@pytest.mark.parametrize("value", ["-1", "0", "0.0", "nan", "inf", "abc", "1e3", "5 USD CNY", ""])
@pytest.mark.parametrize("command", ["run", "estimate"])
def test_a_bad_max_cost_is_exit_2_with_one_line(priced, value, command):
    make_input(priced.home / "in.jsonl", 1)
    result = priced.run("batch", command, "in.jsonl", "--max-cost", value)
    assert result.code == 2, result.stderr
    assert result.stderr.startswith("error: --max-cost ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert priced.server.requests == []


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("5", 5.0, None),  # the profile's currency
        ("0.5USD", 0.5, "USD"),
        ("20 CNY", 20.0, "CNY"),
        ("20cny", 20.0, "CNY"),
        (" USD 1.25 ", 1.25, "USD"),
        (".5", 0.5, None),
    ],
)
def test_max_cost_values(text, amount, currency):
    from deepseek_cli.batch.budget import MaxCost, parse_max_cost

    assert parse_max_cost(text) == MaxCost(amount, currency)


def test_max_cost_refusals_say_why():
    from deepseek_cli.batch.budget import parse_max_cost

    with pytest.raises(UsageError, match="more than 0"):
        parse_max_cost("-2USD")
    with pytest.raises(UsageError, match="two currencies"):
        parse_max_cost("USD 2 CNY")
    with pytest.raises(UsageError, match="an amount with an optional currency code"):
        parse_max_cost("\uff15")  # a full-width 5: digits as typed, not every script's


# --- batch estimate ----------------------------------------------------------------------------


def estimate_input(cli):
    lines = [
        {"id": "q0", "prompt": "prompt for q0"},
        {"id": "q1", "prompt": "prompt for q1"},
        {"id": "f0", "prompt": "prompt for f0", "model": "deepseek-flash"},
        {"id": "q2", "prompt": "prompt for q2"},
    ]
    (cli.home / "in.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_estimate_shows_the_reservation_and_how_many_lines_fit(priced):
    estimate_input(priced)
    result = priced.run("batch", "estimate", "in.jsonl", *TEN, "--max-cost", "0.07", "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    by_model = {m["model"]: m["reservation"] for m in data["models"]}
    # deepseek-v4-pro: 3 lines x 11 prompt tokens, 3 x 10 max_tokens: 33 x 1000 + 30 x 2000 =
    # 93,000 per 1M = $0.093; deepseek-flash: 11 x 100 + 10 x 400 = 5,100 per 1M = $0.0051.
    assert by_model["deepseek-v4-pro"] == {
        "prompt_tokens": 33,
        "max_tokens": 30,
        "price": {
            "input": 1000.0,
            "output": 2000.0,
            "currency": "USD",
            "window": None,
            "kind": "config",
            "source": 'config [prices."deepseek/deepseek-v4-pro"]',
        },
        "amount": 0.093,
        "currency": "USD",
        "lines_unreserved": 0,
    }
    assert (by_model["deepseek-flash"]["amount"], by_model["deepseek-flash"]["max_tokens"]) == (
        0.0051,
        10,
    )
    assert data["reservation"] == {
        "amount": 0.0981,
        "currency": "USD",
        "prompt_tokens": 44,
        "max_tokens": 40,
    }
    # In input order: q0 0.031, q1 0.062, f0 0.0671 fit in 0.07; q2 would make 0.0981.
    assert data["budget"] == {
        "amount": 0.07,
        "currency": "USD",
        "lines": 4,
        "lines_fit": 3,
        "reserved": 0.0671,
    }
    text = priced.run("batch", "estimate", "in.jsonl", *TEN, "--max-cost", "0.07")
    assert text.code == 0, text.stderr
    lines = text.stdout.splitlines()
    assert "--max-cost $0.07: 3 of 4 lines fit at worst, in input order" in lines[-1]
    row = next(x for x in lines if x.startswith("deepseek-flash ") and "your config" in x)
    cells = " ".join(row.split())  # the columns' widths aside
    assert cells == "deepseek-flash 1 11 10 $100 / $400 (your config) $0.0051"
    assert priced.server.requests == []


def test_estimate_reserves_at_the_dearest_window(priced):
    make_input(priced.home / "in.jsonl", 1)
    result = priced.run(
        "batch", "estimate", "in.jsonl", "-m", "deepseek-v4-flash", *TEN, "--max-cost", "1CNY"
    )
    assert result.code == 0, result.stderr
    # deepseek-v4-flash has no config price: the catalog's CNY peak row (input 2.0, output 8.0
    # per 1M, models.toml since 2026-09-10) whatever the hour: 11 x 2 + 10 x 8 = 102 per 1M.
    assert "¥2 / ¥8 peak (provider's page)" in result.stdout
    assert "¥0.000102" in result.stdout


def test_estimate_refuses_what_run_refuses(priced):
    lines = [{"id": "a", "prompt": "hi", "model": "mystery-1"}]
    (priced.home / "in.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = priced.run("batch", "estimate", "in.jsonl", *TEN, "--max-cost", "5")
    assert result.code == 78 and "mystery-1 has no price in USD" in result.stderr
    remote = priced.run("batch", "estimate", "in.jsonl", "--remote", "--max-cost", "5")
    assert remote.code == 2 and "--max-cost is for batch run" in remote.stderr


def test_past_the_scans_cap_on_models_every_line_is_checked(priced):
    # 1,000 distinct priced models fill the validation pass's table of models; the ones after
    # them are checked by reading the lines again.
    names = [f"m{i}" for i in range(1001)]
    prices = "".join(f'\n[prices."deepseek/{n}"]\ninput = 1\noutput = 2\n' for n in names)
    priced.write_config(profiles_toml(priced.server.url) + PRICES + prices)
    lines = [{"id": n, "prompt": "hi", "model": n} for n in [*names, "mystery-2"]]
    (priced.home / "in.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = priced.run("batch", "run", "in.jsonl", *OUT, *TEN, "--max-cost", "5")
    assert result.code == 78 and "mystery-2 has no price in USD" in result.stderr
    assert priced.server.requests == []
    del lines[-1]
    (priced.home / "in.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    estimate = priced.run("batch", "estimate", "in.jsonl", *TEN, "--max-cost", "5", "--json")
    assert estimate.code == 0, estimate.stderr
    # "hi": 2 x 0.3 + 4 + 3 = 7.6, so 8 prompt tokens; 8 x 1 + 10 x 2 = 28 per 1M each:
    # 1,001 x 0.000028 = $0.028028 fits in 5.
    budget = json.loads(estimate.stdout)["budget"]
    assert (budget["lines_fit"], budget["reserved"]) == (1001, 0.028028)


def test_the_spend_of_earlier_runs_is_read_from_the_ledger(tmp_path):
    from deepseek_cli.ledger import store

    path = tmp_path / "usage.db"
    assert store.batch_spend(path, "b1", "USD") == store.BatchSpend(0.0, 0)  # no ledger yet
    assert not path.exists()

    def row(batch_id, cost, currency, tokens=10):
        return store.LedgerRow(
            "batch", "ds", "deepseek", None, "m", "ok", input_tokens=tokens,
            cost=cost, currency=currency, batch_id=batch_id,
        )  # fmt: skip

    conn = store.connect(path)
    store.insert(
        conn,
        [
            row("b1", 0.5, "USD"),
            row("b1", 0.25, "USD"),
            row("b1", 1.0, "CNY"),  # another currency: not counted, but said
            row("b1", None, None),  # tokens without a price: not counted, but said
            row("b1", None, None, tokens=0),  # a 429: nothing to count
            row("b2", 9.0, "USD"),  # another job
        ],
    )
    conn.close()
    # 0.5 + 0.25 = 0.75 USD; the CNY row and the unpriced one with tokens are the 2 uncounted.
    assert store.batch_spend(path, "b1", "USD") == store.BatchSpend(0.75, 2)
