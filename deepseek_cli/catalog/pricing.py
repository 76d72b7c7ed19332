"""Turns token usage into money using the catalog's dated price table, and adds money up.

DeepSeek bills cached input, uncached input and output at different prices, with peak and
off-peak windows in Beijing time since 2026-08-16; the price that applies is the one in force
at the moment of the call. A missing price is unknown and stays ``None``: never guessed.

Sums follow one rule everywhere (:class:`Spend`): amounts stay split by currency (adding
dollars to yuan means nothing), and calls without a price are counted apart, never as zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Types only: summing money (``usage``'s report) must not load the catalog.
    from deepseek_cli.catalog.models import ModelInfo, Price, ProviderInfo
    from deepseek_cli.events import Usage


@dataclass(frozen=True)
class Cost:
    amount: float
    currency: str
    saved: float = 0.0  # what cache hits saved against the uncached input price

    def to_json(self) -> dict[str, object]:
        return {
            "amount": round(self.amount, 8),
            "currency": self.currency,
            "cache_saved": round(self.saved, 8),
        }


@dataclass
class Spend:
    """Money over many calls: a sum per currency, what the cache saved per currency, and how
    many calls had no price."""

    amounts: dict[str, float] = field(default_factory=dict)
    unpriced: int = 0
    saved: dict[str, float] = field(default_factory=dict)

    def add(self, cost: Cost | None) -> None:
        if cost is None:
            self.unpriced += 1
        else:
            self.amounts[cost.currency] = self.amounts.get(cost.currency, 0.0) + cost.amount
            self.saved[cost.currency] = self.saved.get(cost.currency, 0.0) + cost.saved

    def merge(self, other: Spend) -> None:
        for currency, amount in other.amounts.items():
            self.amounts[currency] = self.amounts.get(currency, 0.0) + amount
        for currency, amount in other.saved.items():
            self.saved[currency] = self.saved.get(currency, 0.0) + amount
        self.unpriced += other.unpriced

    def total(self) -> Cost | None:
        """The one total, when every call was priced and in the same currency; else ``None``
        (a partial sum passed off as the total would be a guess)."""
        if self.unpriced or len(self.amounts) != 1:
            return None
        ((currency, amount),) = self.amounts.items()
        return Cost(amount, currency, self.saved.get(currency, 0.0))

    def total_json(self) -> dict[str, object] | None:
        total = self.total()
        return total.to_json() if total else None

    def amounts_json(self) -> dict[str, float]:
        return {k: round(v, 8) for k, v in sorted(self.amounts.items())}

    def saved_json(self) -> dict[str, float]:
        return {k: round(v, 8) for k, v in sorted(self.saved.items())}


def is_peak(provider: ProviderInfo, when: datetime) -> bool:
    if not provider.peak_hours:
        return False
    local = when.astimezone(UTC) + timedelta(hours=provider.peak_utc_offset_hours)
    rules = [rule for rule in provider.peak_days if rule.since <= when]
    if rules and local.isoweekday() not in rules[-1].days:
        return False
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in provider.peak_hours)


def current_prices(
    info: ModelInfo, when: datetime, currency: str | None = None, region: str | None = None
) -> list[Price]:
    """The entries in force at ``when``, per currency (and per region, unless one is given:
    then rows for other regions are left out): all windows of the latest date, off-peak first
    (it is the base price, peak the surcharge)."""
    rows = [p for p in info.prices if p.region is None or region is None or p.region == region]
    groups: dict[tuple[str | None, str], list[Price]] = {}
    for p in rows:
        if p.since <= when and currency in (None, p.currency):
            groups.setdefault((p.region if region is None else None, p.currency), []).append(p)
    result: list[Price] = []
    for key in sorted(groups, key=lambda k: (k[1], k[0] or "")):
        candidates = groups[key]
        latest = max(p.since for p in candidates)
        result += sorted(
            (p for p in candidates if p.since == latest), key=lambda p: p.window != "off_peak"
        )
    return result


def display_prices(
    info: ModelInfo, when: datetime, currency: str, region: str | None = None
) -> list[Price]:
    """Prices for a table: in ``currency`` when the catalog has it there, else in any currency."""
    return current_prices(info, when, currency, region) or current_prices(info, when, None, region)


def price_order(price: Price) -> tuple[str, datetime, str, bool]:
    """Sort key of a price history: by region, date, currency, off-peak before peak."""
    return (price.region or "", price.since, price.currency, price.window != "off_peak")


def price_at(
    model: ModelInfo,
    provider: ProviderInfo | None,
    when: datetime,
    currency: str,
    region: str | None = None,
    *,
    strict: bool = False,
) -> Price | None:
    """The price in force at ``when`` in ``region``, honouring peak windows; else ``None``.

    In ``currency`` when the catalog has it there; otherwise (unless ``strict``: a budget
    must be in its own currency) in the only currency the model is priced in, since a Beijing
    price in yuan is the real price and converting it would be a guess. With several others
    to choose from, it is unknown.
    """
    current = current_prices(model, when, currency, region)
    if not current and not strict:
        current = current_prices(model, when, None, region)
        if len({p.currency for p in current}) != 1:
            current = []
    if any(p.window for p in current):
        window = "peak" if provider is not None and is_peak(provider, when) else "off_peak"
        current = [p for p in current if p.window == window]
    return current[0] if current else None


def peak_price(model: ModelInfo, when: datetime, currency: str, region: str | None) -> Price | None:
    """The dearest window's price in force at ``when``: what a budget reserves, because a
    request sent off-peak may finish, and be billed, at peak."""
    current = current_prices(model, when, currency, region)
    return max(current, key=lambda p: (p.output, p.input), default=None)


def cost_of(usage: Usage, price: Price | None, factor: float = 1.0) -> Cost | None:
    """Money for one call; ``factor`` scales it (0.5 for a provider's Batch price).

    Unknown (``None``) without a price, or when input came from the cache at a cache price no
    source gives.
    """
    if price is None:
        return None
    cached = min(usage.cached_tokens, usage.input_tokens)
    if cached and price.cache_hit is None:
        return None
    cache_hit = price.input if price.cache_hit is None else price.cache_hit
    uncached = usage.input_tokens - cached
    amount = cached * cache_hit + uncached * price.input + usage.output_tokens * price.output
    saved = cached * (price.input - cache_hit)
    return Cost(amount / 1_000_000 * factor, price.currency, saved / 1_000_000 * factor)
