"""How the catalog's facts about a model read in ``models`` and ``models show``.

``hybrid, on``, ``384K``, ``deprecated 2026-07-09; use …``, one price cell per window: plain
strings and label/value pairs, so the command only lays them out (Rich on a terminal, aligned
text in a pipe). The catalog is the source; nothing here decides a fact.
"""

from __future__ import annotations

from datetime import UTC, datetime

from deepseek_cli.catalog.models import PRICE_KIND_TEXT, ModelInfo, PeakDays, Price, ProviderInfo
from deepseek_cli.catalog.pricing import current_prices, price_order
from deepseek_cli.render.numbers import tokens_long, tokens_short

_WINDOW_LABEL = {"peak": "peak", "off_peak": "off-peak", None: ""}


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


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


def price_numbers(price: Price) -> str:
    """``hit/in/out``; a cache-hit price no source gives is ``?``."""
    hit = "?" if price.cache_hit is None else f"{price.cache_hit:g}"
    return f"{hit}/{price.input:g}/{price.output:g}"


# Short source kinds for a table cell (``models show`` spells them out).
_KIND_SHORT = {"provider": "provider", "third-party": "3rd-party", "config": "config"}


def kind_short(prices: list[Price]) -> str:
    return _KIND_SHORT[prices[0].kind] if prices else "-"


def region_text(price: Price) -> str:
    return price.region or "all"


def price_cell(prices: list[Price], currency: str) -> list[str]:
    """One line per window; the currency is named only when it is not the column's."""
    if not prices:
        return ["unknown"]
    # Rows of several regions (a DashScope model listed from another provider's profile) are
    # told apart by their region.
    regions = len({p.region for p in prices}) > 1
    lines = []
    for price in prices:
        label = _WINDOW_LABEL[price.window]
        code = "" if price.currency == currency else f"{price.currency} "
        where = f"{price.region}: " if regions and price.region else ""
        lines.append(f"{where}{code}{price_numbers(price)}{' ' + label if label else ''}")
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


def _days_text(days: tuple[int, ...]) -> str:
    if len(days) == 7 or not days:
        return "every day"
    if list(days) == list(range(days[0], days[-1] + 1)):
        return f"{_WEEKDAYS[days[0] - 1]}–{_WEEKDAYS[days[-1] - 1]}"
    return ", ".join(_WEEKDAYS[d - 1] for d in days)


def peak_hours_text(provider: ProviderInfo, now: datetime) -> str | None:
    """The peak rule in force at ``now``, and since when (the days changed over time)."""
    if not provider.peak_hours:
        return None
    rules = [rule for rule in provider.peak_days if rule.since <= now]
    rule: PeakDays | None = rules[-1] if rules else None
    spans = ", ".join(
        f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"
        for start, end in provider.peak_hours
    )
    offset = provider.peak_utc_offset_hours
    zone = "UTC" if offset == 0 else f"UTC{offset:+d}"
    text = f"{_days_text(rule.days if rule else ())} {spans} ({zone})"
    if rule is not None and len(rules) > 1:
        before = _days_text(rules[-2].days)
        text += f", since {rule.since.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({before} before)"
    return text


def model_fields(
    info: ModelInfo, provider: ProviderInfo | None, now: datetime
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
    if provider is not None and (hours := peak_hours_text(provider, now)):
        fields.append(("peak hours", hours))
    if info.batch_regions:
        fields.append(("batch service", "DashScope Batch in " + ", ".join(info.batch_regions)))
    fields.append(("catalog source", info.source or "unknown"))
    return fields


def price_history_rows(info: ModelInfo, now: datetime) -> list[list[str]]:
    """One row per dated price entry, marking the ones in force now (in every region)."""
    current = {id(p) for p in current_prices(info, now)}
    rows = []
    for price in sorted(info.prices, key=price_order):
        rows.append(
            [
                price.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                region_text(price),
                price.currency,
                _WINDOW_LABEL[price.window] or "all day",
                price_numbers(price),
                "now" if id(price) in current else "",
                PRICE_KIND_TEXT[price.kind],
                price.source,
            ]
        )
    return rows


def override_line(price: Price) -> str:
    """``models show``: the config's price, which wins over every row of the table."""
    where = f" in region {price.region}" if price.region else ""
    return (
        f"{price.currency} {price_numbers(price)} per 1M (hit/in/out){where}, from "
        f"{price.source}: used instead of the catalog's"
    )
