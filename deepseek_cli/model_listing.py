"""What ``deepseek models`` knows about a model, as plain data: cells, JSON and lookups.

The catalog is the source; this module decides how its facts read (``hybrid, on``, ``384K``,
``deprecated 2026-07-09; use …``), which prices are the current ones, and how a model list
from the provider (``--live``) lines up with the catalog. No Rich and no SDK here: the
command renders the cells, and only ``--live`` talks to the provider.

Current price: for each currency, the entries with the latest ``since`` not after now; a
provider with peak hours has two of them (off-peak and peak). The whole dated history, with the
source of every entry, is what ``models show`` prints.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from .catalog import Catalog, ModelInfo, Price, ProviderInfo
from .config import Profile

_WINDOW_LABEL = {"peak": "peak", "off_peak": "off-peak", None: ""}
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def tokens_short(value: int | None) -> str:
    """``131072`` -> ``128K``, ``1048576`` -> ``1M``; unknown -> ``-``. Limits are powers of 2."""
    if value is None:
        return "-"
    for unit, size in (("M", 1024 * 1024), ("K", 1024)):
        if value >= size and value % (size // 16 or 1) == 0:
            amount = value / size
            return f"{amount:g}{unit}"
    return str(value)


def tokens_long(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"


def limit_cells(info: ModelInfo, *, compact: bool) -> list[str]:
    """Max input, thinking and output: one ``96K/32K/64K`` cell on a terminal, else three."""
    cells = [tokens_short(v) for v in (info.max_input, info.max_thinking, info.max_output)]
    return ["/".join(cells)] if compact else cells


def thinking_text(info: ModelInfo) -> str:
    if info.thinking == "hybrid":
        return f"hybrid, {'on' if info.thinking_default else 'off'}"
    return info.thinking


def status_text(info: ModelInfo) -> str:
    text: str = info.status
    if info.status_since:
        text += f" {info.status_since.isoformat()}"
    if info.replacements:
        text += "; use " + ", ".join(info.replacements)
    return text


def current_prices(info: ModelInfo, when: datetime, currency: str | None = None) -> list[Price]:
    """The entries in force at ``when``: per currency, all windows of the latest date."""
    result: list[Price] = []
    currencies = sorted({p.currency for p in info.prices})
    for cur in currencies if currency is None else [currency]:
        candidates = [p for p in info.prices if p.currency == cur and p.since <= when]
        if not candidates:
            continue
        latest = max(p.since for p in candidates)
        # Off-peak first: it is the base price, peak is the surcharge.
        result += sorted(
            (p for p in candidates if p.since == latest), key=lambda p: p.window != "off_peak"
        )
    return result


def display_prices(info: ModelInfo, when: datetime, currency: str) -> list[Price]:
    """Prices for a table: in ``currency`` when the catalog has it there, else in any currency."""
    return current_prices(info, when, currency) or current_prices(info, when)


def price_numbers(price: Price) -> str:
    return f"{price.cache_hit:g}/{price.input:g}/{price.output:g}"


def price_cell(prices: list[Price], currency: str) -> list[str]:
    """One line per window; the currency is named only when it is not the column's."""
    if not prices:
        return ["unknown"]
    lines = []
    for price in prices:
        label = _WINDOW_LABEL[price.window]
        code = "" if price.currency == currency else f"{price.currency} "
        lines.append(f"{code}{price_numbers(price)}{' ' + label if label else ''}")
    return lines


# Short names for the table on a terminal, where width is scarce; JSON and ``models show``
# keep the catalog's words. Unknown features pass through unchanged.
_SHORT_FEATURES = {
    "multi-turn": None,  # every model has it
    "function-calling": "tools",
    "json-output": "json",
    "web-search": "search",
    "context-cache": "cache",
    "context-cache (non-thinking only)": "cache (non-thinking)",
    "chat-prefix (beta)": "prefix",
    "fim (beta)": "fim",
}


def features_cell(info: ModelInfo, *, compact: bool) -> str:
    if not compact:
        return ", ".join(info.features) or "-"
    short = [_SHORT_FEATURES.get(f, f) for f in info.features]
    return ", ".join(f for f in short if f) or "-"


def price_since(prices: list[Price]) -> str:
    return prices[0].since.date().isoformat() if prices else "-"


def peak_hours_text(provider: ProviderInfo) -> str | None:
    if not provider.peak_hours:
        return None
    days = provider.peak_days
    if days and list(days) == list(range(days[0], days[-1] + 1)):
        day_text = f"{_WEEKDAYS[days[0] - 1]}–{_WEEKDAYS[days[-1] - 1]}"
    else:
        day_text = ", ".join(_WEEKDAYS[d - 1] for d in days) or "every day"
    spans = ", ".join(
        f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"
        for start, end in provider.peak_hours
    )
    offset = provider.peak_utc_offset_hours
    zone = "UTC" if offset == 0 else f"UTC{offset:+d}"
    return f"{day_text} {spans} ({zone})"


def _price_json(price: Price) -> dict[str, Any]:
    return {
        "since": price.since.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "currency": price.currency,
        "window": price.window,
        "cache_hit": price.cache_hit,
        "input": price.input,
        "output": price.output,
        "source": price.source,
    }


def model_json(
    info: ModelInfo, when: datetime, *, history: bool = False, visible: bool | None = None
) -> dict[str, Any]:
    """Everything the catalog knows about one model; prices per 1M tokens."""
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
        "prices": [_price_json(p) for p in current_prices(info, when)],
    }
    if history:
        data["price_history"] = [_price_json(p) for p in sorted(info.prices, key=_price_order)]
    if visible is not None:
        data["visible"] = visible
    return data


def _price_order(price: Price) -> tuple[datetime, str, bool]:
    return (price.since, price.currency, price.window != "off_peak")


def unknown_json(provider: str, model_id: str) -> dict[str, Any]:
    """A model the provider lists but the catalog does not know."""
    return {"provider": provider, "id": model_id, "in_catalog": False, "visible": True}


def find_models(catalog: Catalog, name: str, provider: str | None) -> list[ModelInfo]:
    """``name`` at the profile's provider, else wherever the catalog has it."""
    matches = [m for m in catalog.models if m.id == name]
    preferred = [m for m in matches if m.provider == provider]
    return preferred or matches


def similar_names(catalog: Catalog, name: str) -> list[str]:
    import difflib

    names = sorted({m.id for m in catalog.models})
    return difflib.get_close_matches(name, names, n=3, cutoff=0.6)


def listing_profile(profile: Profile) -> Profile | None:
    """The profile to ask for a model list. DashScope's native API has no list, but the same
    host serves compatible mode with the same key, so a native profile asks there."""
    if profile.api != "native":
        return profile
    base = profile.base_url.rstrip("/")
    if not base.endswith("/api/v1"):
        return None
    compat = base[: -len("/api/v1")] + "/compatible-mode/v1"
    return dataclasses.replace(profile, api="compatible", base_url=compat)


def show_fields(
    info: ModelInfo, provider: ProviderInfo | None
) -> list[tuple[str, str | list[str]]]:
    """``models show``: label/value pairs, in reading order."""
    fields: list[tuple[str, str | list[str]]] = [
        ("provider", provider.name if provider else info.provider),
    ]
    if info.description:
        fields.append(("description", info.description))
    status = info.status_line() or "active"
    fields.append(("status", status))
    fields.append(
        (
            "thinking",
            {
                "hybrid": f"hybrid (switchable), {'on' if info.thinking_default else 'off'} "
                "by default",
                "always": "always (cannot be switched off)",
                "never": "never",
            }[info.thinking],
        )
    )
    if info.effort_values:
        effort = ", ".join(info.effort_values)
        if info.effort_map:
            effort += " (" + ", ".join(f"{k}→{v}" for k, v in info.effort_map.items()) + ")"
        fields.append(("reasoning effort", effort))
    fields += [
        ("context", tokens_long(info.context)),
        ("max input", tokens_long(info.max_input)),
        ("max thinking", tokens_long(info.max_thinking)),
        ("max output", tokens_long(info.max_output)),
    ]
    if info.shared_budget:
        fields.append(("shared budget", f"{info.shared_budget:,} (thinking and answer together)"))
    fields.append(("features", ", ".join(info.features) or "none listed"))
    defaults = ", ".join(f"{k}={v}" for k, v in info.defaults.items()) or "none listed"
    fields.append(("default parameters", defaults))
    if info.fixed_params:
        fields.append(("fixed parameters", "yes: sampling overrides are not supported"))
    if info.non_stream_thinking is not None:
        fields.append(
            ("thinking without streaming", "supported" if info.non_stream_thinking else "no")
        )
    if provider is not None and (hours := peak_hours_text(provider)):
        fields.append(("peak hours", hours))
    fields.append(("catalog source", info.source or "unknown"))
    return fields


def price_history_rows(info: ModelInfo, now: datetime) -> list[list[str]]:
    """One row per dated price entry, marking the ones in force now."""
    current = {id(p) for p in current_prices(info, now)}
    rows = []
    for price in sorted(info.prices, key=_price_order):
        rows.append(
            [
                price.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                price.currency,
                _WINDOW_LABEL[price.window] or "all day",
                price_numbers(price),
                "now" if id(price) in current else "",
                price.source,
            ]
        )
    return rows


def fetch_live_ids(profile: Profile, api_key: str | None) -> list[str]:
    """The provider's model list for this key (imports the profile's SDK: ``--live`` only)."""
    import asyncio

    from .backends import make_backend
    from .errors import UsageError

    target = listing_profile(profile)
    if target is None:
        raise UsageError(
            f"profile '{profile.name}' uses the DashScope native API, which has no model list",
            "use the compatible-mode profile of the same region (e.g. intl instead of intl-native)",
        )

    async def run() -> list[str]:
        backend = make_backend(target, api_key)
        try:
            return await backend.list_models()
        finally:
            await backend.aclose()

    return asyncio.run(run())
