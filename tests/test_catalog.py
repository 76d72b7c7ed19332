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
def test_seed_001_deprecations(model):
    info = load_catalog().find("dashscope", model)
    assert info.status == "deprecated"
    assert info.status_since == date(2026, 7, 9)
    assert "qwen3.7-plus" in info.replacements
    assert "deprecated on 2026-07-09" in info.status_line()


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


def test_dashscope_prices_are_unknown():
    for info in load_catalog().for_provider("dashscope"):
        assert info.prices == ()


def test_peak_window_is_beijing_weekday_hours():
    provider = load_catalog().providers["deepseek"]
    assert is_peak(provider, datetime(2026, 11, 30, 2, 0, tzinfo=UTC))  # Mon 10:00 Beijing
    assert not is_peak(provider, datetime(2026, 11, 30, 4, 30, tzinfo=UTC))  # 12:30 lunch
    assert is_peak(provider, datetime(2026, 11, 30, 9, 59, tzinfo=UTC))  # 17:59
    assert not is_peak(provider, datetime(2026, 11, 29, 2, 0, tzinfo=UTC))  # Sunday


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
