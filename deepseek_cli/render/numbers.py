"""Money and token counts as the user reads them, in every command's output.

One way to write an amount (``$0.0125``, ``¥1.5``, ``12.5 EUR``: up to six decimals, no float
noise, thousands grouped), one way to write a sum over calls whose prices may be unknown
(``¥1.5 + $0.0125 + unknown (1 call)``), what the cache did (``27%`` of input, ``cache saved
$0.01``), and the short and long forms of token limits.
"""

from __future__ import annotations

from collections.abc import Mapping

from deepseek_cli.catalog.pricing import Cost, Spend

SYMBOLS = {"USD": "$", "CNY": "¥"}
UNKNOWN = "cost unknown"


def money(amount: float, currency: str) -> str:
    text = f"{amount:,.6f}".rstrip("0").rstrip(".") if amount else "0"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def cost_text(cost: Cost | None) -> str:
    return UNKNOWN if cost is None else money(cost.amount, cost.currency)


def cost_json_text(cost: Mapping[str, object] | None) -> str:
    """A ``{"amount", "currency"}`` object as written in JSON summaries, or unknown."""
    if cost is None:
        return UNKNOWN
    return money(float(str(cost["amount"])), str(cost["currency"]))


def spend_text(
    spend: Spend,
    noun: str = "call",
    *,
    empty: str = "0",
    unpriced: str = "unknown ({count} {nouns})",
) -> str:
    """Every currency's sum, then the unpriced count: never a partial sum called the total.
    ``unpriced`` words the count (``{count}``, and ``{nouns}``: ``noun`` in the right number)
    to fit where the text stands: a table cell, or a sentence."""
    parts = [money(amount, currency) for currency, amount in sorted(spend.amounts.items())]
    if spend.unpriced:
        nouns = noun if spend.unpriced == 1 else noun + "s"
        parts.append(unpriced.format(count=spend.unpriced, nouns=nouns))
    return " + ".join(parts) if parts else empty


def cache_share(input_tokens: int, cached_tokens: int) -> str:
    """The share of input served from the cache: ``27%``, ``<1%`` (never a rounded-away 0)."""
    if not input_tokens or not cached_tokens:
        return "0%"
    share = min(cached_tokens / input_tokens, 1.0)
    return "<1%" if share < 0.005 else f"{share:.0%}"


def with_savings(text: str, saved: Mapping[str, float]) -> str:
    """``text`` and what the cache saved, when it saved anything: ``$0.02 (cache saved
    $0.01)``."""
    amounts = {c: v for c, v in saved.items() if v > 0}
    return f"{text} (cache saved {spend_text(Spend(amounts))})" if amounts else text


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
