"""``[prices."PROVIDER/MODEL"]`` in config.toml: your own prices, checked like every value.

Why: a negotiated rate, a model the catalog does not price (a self-hosted server, a new
snapshot id) or a price that changed since the catalog was written; the config's price then
wins for cost, estimates and budgets (``catalog.price_book``). Every key is checked when the
config is read (exit 78 naming the table and key), never when the first call is priced.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from deepseek_cli.catalog.models import Price
from deepseek_cli.config.profiles import PROVIDERS, REGIONS
from deepseek_cli.errors import ConfigError

PRICE_KEYS = ("input", "output", "cache_hit", "currency", "region")
_NUMBERS = ("input", "output", "cache_hit")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def check_currency(value: str, where: str) -> None:
    """A currency code as profiles and prices take it: three ASCII letters."""
    if not (len(value) == 3 and value.isascii() and value.isalpha()):
        raise ConfigError(f"{where}: 'currency' must be a three-letter code such as USD or CNY")


def check_prices(table: Any, path: str) -> None:
    """Raise ``ConfigError`` for the first bad entry of the ``[prices]`` table."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: 'prices' must be tables such as [prices.\"deepseek/MODEL\"]")
    for name, entry in table.items():
        where = f'{path} [prices."{name}"]'
        provider, sep, model = name.partition("/")
        if not sep or provider not in PROVIDERS or not model.strip():
            raise ConfigError(
                f"{where}: the name must be PROVIDER/MODEL",
                f"PROVIDER is one of {', '.join(PROVIDERS)}, e.g. "
                '[prices."dashscope/deepseek-v4-pro"]',
            )
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a table with input and output")
        _check_entry(entry, where, provider)


def _check_entry(entry: Mapping[str, Any], where: str, provider: str) -> None:
    for key, value in entry.items():
        if key not in PRICE_KEYS:
            raise ConfigError(
                f"{where}: unknown key '{key}'", f"known keys: {', '.join(PRICE_KEYS)}"
            )
        if key in _NUMBERS:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{where}: '{key}' must be a number (per 1M tokens)")
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"{where}: '{key}' must be a number of at least 0, not {value}")
        elif not isinstance(value, str):
            raise ConfigError(f"{where}: '{key}' must be a string")
    for key in ("input", "output"):
        if key not in entry:
            raise ConfigError(f"{where}: '{key}' is missing", "give input and output per 1M tokens")
    check_currency(entry.get("currency", "USD"), where)
    if "region" in entry:
        if provider != "dashscope":
            raise ConfigError(f"{where}: 'region' applies to dashscope prices only")
        if entry["region"] not in REGIONS:
            raise ConfigError(f"{where}: 'region' must be one of {', '.join(REGIONS)}")


def price_overrides(data: Mapping[str, Any]) -> dict[str, Price]:
    """The config's prices by "provider/model" (already checked by ``check_prices``).
    ``cache_hit`` defaults to the input price: no discount was given."""
    result: dict[str, Price] = {}
    for name, entry in data.get("prices", {}).items():
        region = entry.get("region")
        price = Price(
            since=_EPOCH,
            currency=str(entry.get("currency", "USD")).upper(),
            cache_hit=float(entry.get("cache_hit", entry["input"])),
            input=float(entry["input"]),
            output=float(entry["output"]),
            window=None,
            source=f'config [prices."{name}"]' + (f" (region {region})" if region else ""),
            region=region,
            kind="config",
        )
        result[name] = price
    return result
