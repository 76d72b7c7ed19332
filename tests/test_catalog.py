"""The model catalog and the dated price table."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from deepseek_cli.catalog.models import load_catalog
from deepseek_cli.catalog.pricing import cost_of, is_peak, price_at
from deepseek_cli.events import Usage

SEED_000 = [
    "deepseek-v3.2",
    "deepseek-v3.2-exp",
    "deepseek-v3.1",
    "deepseek-r1",
    "deepseek-r1-0528",
    "deepseek-v3",
    "deepseek-r1-distill-qwen-1.5b",
    "deepseek-r1-distill-qwen-7b",
    "deepseek-r1-distill-qwen-14b",
    "deepseek-r1-distill-qwen-32b",
    "deepseek-r1-distill-llama-8b",
    "deepseek-r1-distill-llama-70b",
]
SEED_001 = ["deepseek-v4-pro", "deepseek-v4-flash"]
DEPRECATED_0709 = [
    "deepseek-v3",
    "deepseek-v3.1",
    "deepseek-v3.2",
    "deepseek-v3.2-exp",
    "deepseek-r1",
    "deepseek-r1-0528",
    "deepseek-r1-distill-qwen-7b",
    "deepseek-r1-distill-qwen-14b",
    "deepseek-r1-distill-qwen-32b",
]


def test_every_seed_model_is_in_the_dashscope_catalog():
    ids = {m.id for m in load_catalog().for_provider("dashscope")}
    assert set(SEED_000 + SEED_001) <= ids


def test_deepseek_api_models():
    ids = {m.id for m in load_catalog().for_provider("deepseek")}
    assert {"deepseek-v4-pro", "deepseek-flash", "deepseek-chat", "deepseek-reasoner"} <= ids


@pytest.mark.parametrize("model", DEPRECATED_0709)
def test_seed_001_deprecations_were_removed_on_2026_10_10(model):
    # Deprecated on 2026-07-09 (seed 001), removed on 2026-10-10 (the newer pages).
    info = load_catalog().find("dashscope", model)
    assert info.status == "retired"
    assert info.status_since == date(2026, 10, 10)
    assert info.replacements == ("deepseek-v4-flash", "deepseek-v4-pro")
    line = info.status_line()
    assert f"{model} was retired on 2026-10-10" in line
    assert "announced 2026-07-09" in line and "qwen3.7-plus" in line
    assert line.endswith("; use deepseek-v4-flash or deepseek-v4-pro")


def test_distills_not_in_the_deprecation_list_stay_active():
    for model in ("deepseek-r1-distill-qwen-1.5b", "deepseek-r1-distill-llama-8b"):
        assert load_catalog().find("dashscope", model).status == "active"


def test_retired_deepseek_api_models():
    for model in ("deepseek-chat", "deepseek-reasoner"):
        info = load_catalog().find("deepseek", model)
        assert info.status == "retired" and info.status_since == date(2026, 7, 24)
        assert info.replacements


def test_thinking_kinds_match_the_seeds():
    find = load_catalog().find
    assert find("dashscope", "deepseek-v3.2").thinking == "hybrid"
    assert not find("dashscope", "deepseek-v3.2").thinking_default
    assert find("dashscope", "deepseek-v4-pro").thinking_default
    assert find("dashscope", "deepseek-r1").thinking == "always"
    assert find("dashscope", "deepseek-v3").thinking == "never"
    assert find("dashscope", "deepseek-r1").max_output == 16384
    assert find("dashscope", "deepseek-v3.2").max_thinking == 32768
    assert find("dashscope", "deepseek-v4-pro").effort_map["xhigh"] == "max"


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("region", "model", "currency", "hit", "inp", "out"),
    [
        ("intl", "deepseek-v4-pro", "USD", 0.2, 2.4, 4.8),
        ("us", "deepseek-v4-pro", "USD", 0.2, 2.4, 4.8),
        ("cn", "deepseek-v4-pro", "USD", 0.138, 1.65, 3.301),
        ("intl", "deepseek-v4-flash", "USD", 0.04, 0.2, 0.4),
        ("us", "deepseek-v4-flash", "USD", 0.04, 0.2, 0.4),
        ("cn", "deepseek-v4-flash", "USD", 0.028, 0.138, 0.275),
        ("intl", "deepseek-v3.2", "USD", 0.114, 0.57, 1.71),
        ("cn", "deepseek-v3.2", "USD", 0.0574, 0.287, 0.431),
        ("cn", "deepseek-v3.1", "USD", 0.115, 0.574, 1.721),
        ("cn", "deepseek-r1", "CNY", None, 4.0, 16.0),
        ("cn", "deepseek-v3", "CNY", None, 2.0, 8.0),
        ("cn", "deepseek-r1-distill-qwen-32b", "CNY", None, 2.0, 6.0),
    ],
)
def test_dashscope_prices_per_region_from_prices_md(region, model, currency, hit, inp, out):
    catalog = load_catalog()
    price = price_at(catalog.find("dashscope", model), None, NOW, "USD", region)
    assert (price.currency, price.cache_hit, price.input, price.output) == (
        currency,
        hit,
        inp,
        out,
    )
    assert price.region == region and price.source


def test_dashscope_sources_are_named_with_their_kind():
    v31 = load_catalog().find("dashscope", "deepseek-v3.1")
    kinds = {p.currency: p.kind for p in v31.prices}
    assert kinds == {"USD": "provider", "CNY": "third-party"}  # P1 model card; Lobe
    pro = load_catalog().find("dashscope", "deepseek-v4-pro")
    assert {p.kind for p in pro.prices} == {"third-party"}
    assert all("agree" in p.source or "only" in p.source for p in pro.prices)


def test_beijing_v4_pro_cache_price_was_cut_on_2026_04_29():
    pro = load_catalog().find("dashscope", "deepseek-v4-pro")
    before = price_at(pro, None, datetime(2026, 4, 28, tzinfo=UTC), "USD", "cn")
    after = price_at(pro, None, datetime(2026, 4, 29, tzinfo=UTC), "USD", "cn")
    assert (before.cache_hit, after.cache_hit) == (0.33, 0.138)


def test_no_price_where_none_was_found():
    find = load_catalog().find
    # No US price for v3.x, none at all for the 1.5b distill, none for the llama distills.
    assert price_at(find("dashscope", "deepseek-v3.2"), None, NOW, "USD", "us") is None
    for model in ("deepseek-r1-distill-qwen-1.5b", "deepseek-r1-distill-llama-8b"):
        assert find("dashscope", model).prices == ()
    assert "no public price" in find("dashscope", "deepseek-r1-distill-qwen-1.5b").price_note


@pytest.mark.parametrize(
    ("model", "catwalk", "llmgw"),
    [
        ("deepseek-v4-pro-0813", "0.132/1.32/3.96", "0.2/2.4/4.8"),
        ("deepseek-v4-flash-0731", "0.044/0.44/1.32", "0.04/0.2/0.4"),
    ],
)
def test_snapshot_ids_whose_sources_disagree_say_so_and_stay_unpriced(model, catwalk, llmgw):
    info = load_catalog().find("dashscope", model)
    assert info.prices == ()
    assert "disagree" in info.price_note
    assert catwalk in info.price_note and llmgw in info.price_note


def test_beijing_batch_list():
    listed = {m.id for m in load_catalog().for_provider("dashscope") if "cn" in m.batch_regions}
    assert listed == {"deepseek-r1", "deepseek-v3.2", "deepseek-v3"}


def test_peak_window_is_beijing_weekday_hours():
    provider = load_catalog().providers["deepseek"]
    assert is_peak(provider, datetime(2026, 11, 30, 2, 0, tzinfo=UTC))  # Mon 10:00 Beijing
    assert not is_peak(provider, datetime(2026, 11, 30, 4, 30, tzinfo=UTC))  # 12:30 lunch
    assert is_peak(provider, datetime(2026, 11, 30, 9, 59, tzinfo=UTC))  # 17:59
    assert not is_peak(provider, datetime(2026, 11, 29, 2, 0, tzinfo=UTC))  # Sunday


def test_weekends_were_peak_in_the_first_week_of_peak_pricing():
    provider = load_catalog().providers["deepseek"]
    # Saturday 2026-08-22 10:00 Beijing: every day had peak hours until that weekend's Sunday.
    assert is_peak(provider, datetime(2026, 8, 22, 2, 0, tzinfo=UTC))
    # Sunday 2026-08-23 10:00 Beijing: weekends off-peak from then on.
    assert not is_peak(provider, datetime(2026, 8, 23, 2, 0, tzinfo=UTC))
    assert not is_peak(provider, datetime(2026, 8, 29, 2, 0, tzinfo=UTC))  # the next Saturday
    assert is_peak(provider, datetime(2026, 8, 24, 2, 0, tzinfo=UTC))  # Monday


def test_flash_prices_from_the_v41_launch_and_the_missing_cny_period():
    catalog = load_catalog()
    provider = catalog.providers["deepseek"]
    legacy = catalog.find("deepseek", "deepseek-v4-flash")
    flash = catalog.find("deepseek", "deepseek-flash")
    mon_peak = datetime(2026, 9, 14, 2, 0, tzinfo=UTC)  # Monday 10:00 Beijing
    for info in (legacy, flash):
        usd = price_at(info, provider, mon_peak, "USD")
        assert (usd.cache_hit, usd.input, usd.output) == (0.006, 0.30, 1.20)
        cny = price_at(info, provider, mon_peak, "CNY")
        assert (cny.cache_hit, cny.input, cny.output) == (0.04, 2.0, 8.0)
    aug_peak = datetime(2026, 8, 24, 2, 0, tzinfo=UTC)
    aug_off = datetime(2026, 8, 24, 12, 0, tzinfo=UTC)
    peak, off = (
        price_at(legacy, provider, aug_peak, "CNY"),
        price_at(legacy, provider, aug_off, "CNY"),
    )
    assert (peak.cache_hit, peak.input, peak.output) == (0.10, 3.0, 9.0)
    assert (off.cache_hit, off.input, off.output) == (0.05, 1.5, 4.5)
    assert price_at(flash, provider, aug_peak, "USD") is None  # not launched yet


def test_price_follows_date_window_and_currency():
    catalog = load_catalog()
    pro = catalog.find("deepseek", "deepseek-v4-pro")
    provider = catalog.providers["deepseek"]
    peak = price_at(pro, provider, datetime(2026, 11, 30, 2, 0, tzinfo=UTC), "USD")
    off = price_at(pro, provider, datetime(2026, 11, 30, 12, 0, tzinfo=UTC), "USD")
    assert (peak.input, off.input) == (1.32, 0.66)
    early = price_at(pro, provider, datetime(2026, 5, 1, tzinfo=UTC), "USD")
    assert early.cache_hit == 0.003625
    assert price_at(pro, provider, datetime(2026, 3, 1, tzinfo=UTC), "USD") is None
    assert price_at(pro, provider, datetime(2026, 11, 30, 2, tzinfo=UTC), "CNY").input == 9.0
    assert price_at(pro, provider, datetime(2026, 11, 30, 2, tzinfo=UTC), "EUR") is None


def test_cost_splits_cached_and_uncached_input():
    pro = load_catalog().find("deepseek", "deepseek-v4-pro")
    price = price_at(
        pro, load_catalog().providers["deepseek"], datetime(2026, 11, 30, 12, 0, tzinfo=UTC), "USD"
    )
    cost = cost_of(
        Usage(input_tokens=1_000_000, cached_tokens=400_000, output_tokens=500_000), price
    )
    assert cost.currency == "USD"
    assert cost.amount == pytest.approx(0.4 * 0.022 + 0.6 * 0.66 + 0.5 * 1.98)
    assert cost_of(Usage(input_tokens=10), None) is None
    half = cost_of(Usage(output_tokens=1_000_000), price, factor=0.5)
    assert half.amount == pytest.approx(0.99)
