"""Which price applies to a call: the user's ``[prices."PROVIDER/MODEL"]`` over the catalog.

Why a separate lookup: cost (ask, chat, batch), estimates, budgets and the ``models`` table
must all agree on one price, and a price from the config wins over the catalog's for every one
of them. A config price is flat (no peak windows), and one with a ``region`` applies only to
calls to that DashScope region.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from deepseek_cli.catalog.models import Catalog, Price
from deepseek_cli.catalog.pricing import peak_price, price_at


@dataclass(frozen=True)
class PriceBook:
    catalog: Catalog
    # "provider/model" -> the config's price for it.
    overrides: Mapping[str, Price] = field(default_factory=dict)

    def override(self, provider: str, model: str, region: str | None) -> Price | None:
        price = self.overrides.get(f"{provider}/{model}")
        if price is not None and price.region in (None, region):
            return price
        return None

    def price(
        self,
        provider: str,
        model: str,
        region: str | None,
        when: datetime,
        currency: str,
        *,
        strict: bool = False,
    ) -> Price | None:
        """The price of a call made at ``when``; ``None`` when unknown (``strict``: unknown
        unless it is in ``currency``)."""
        own = self.override(provider, model, region)
        if own is not None:
            return own if not strict or own.currency == currency else None
        info = self.catalog.find(provider, model)
        if info is None:
            return None
        providers = self.catalog.providers
        return price_at(info, providers.get(provider), when, currency, region, strict=strict)

    def reserve_price(
        self, provider: str, model: str, region: str | None, when: datetime, currency: str
    ) -> Price | None:
        """The price a budget reserves at, in ``currency`` only: the dearest window in force
        (a request sent off-peak may end at peak)."""
        own = self.override(provider, model, region)
        if own is not None:
            return own if own.currency == currency else None
        info = self.catalog.find(provider, model)
        return None if info is None else peak_price(info, when, currency, region)
