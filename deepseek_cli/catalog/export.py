"""The catalog as ``deepseek models --json`` prints it: one plain object per model.

Prices are per 1M tokens; ``prices`` holds the entries in force at the given moment (for the
profile's region, or the config's own price) and, with ``history``, ``price_history`` every
dated entry with its source and the kind of source (provider, third-party, config).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from deepseek_cli.catalog.models import ModelInfo, Price
from deepseek_cli.catalog.pricing import current_prices, price_order
from deepseek_cli.timestamps import utc_iso


def _price_json(price: Price) -> dict[str, Any]:
    return {
        "since": utc_iso(price.since),
        "region": price.region,
        "currency": price.currency,
        "window": price.window,
        "cache_hit": price.cache_hit,
        "input": price.input,
        "output": price.output,
        "source": price.source,
        "source_kind": price.kind,
    }


def model_json(
    info: ModelInfo,
    when: datetime,
    *,
    history: bool = False,
    visible: bool | None = None,
    region: str | None = None,
    override: Price | None = None,
) -> dict[str, Any]:
    """Everything the catalog knows about one model; prices per 1M tokens (``prices``: the
    ones in force in ``region``, or the config's ``override`` that replaces them)."""
    prices = [override] if override else current_prices(info, when, None, region)
    data: dict[str, Any] = {
        "provider": info.provider,
        "id": info.id,
        "in_catalog": True,
        "description": info.description,
        "thinking": info.thinking,
        "thinking_default": info.thinks_by_default,
        "context": info.context,
        "max_input": info.max_input,
        "max_thinking": info.max_thinking,
        "max_output": info.max_output,
        "shared_budget": info.shared_budget,
        "features": list(info.features),
        "effort_values": list(info.effort_values),
        "effort_map": dict(info.effort_map),
        "defaults": dict(info.defaults),
        "fixed_params": info.fixed_params,
        "status": info.status,
        "status_since": info.status_since.isoformat() if info.status_since else None,
        "status_note": info.status_note,
        "replacements": list(info.replacements),
        "source": info.source,
        "prices": [_price_json(p) for p in prices],
        "price_note": info.price_note,
        "batch_regions": list(info.batch_regions),
    }
    if history:
        data["price_history"] = [_price_json(p) for p in sorted(info.prices, key=price_order)]
    if visible is not None:
        data["visible"] = visible
    return data


def unknown_json(provider: str, model_id: str) -> dict[str, Any]:
    """A model the provider lists but the catalog does not know."""
    return {"provider": provider, "id": model_id, "in_catalog": False, "visible": True}
