"""Model facts, prices and deprecations, loaded from ``catalog/models.toml``.

The catalog is data, not code: providers change prices and model ids every few months, and
a dated table is easier to review than branches. This module only parses and looks up; cost
arithmetic lives in ``pricing``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

ThinkingKind = Literal["hybrid", "always", "never"]
# Every reasoning effort a command accepts; each model maps them to the ones it takes.
EFFORT_LEVELS = ("minimal", "low", "medium", "high", "xhigh", "max", "ultra")
Status = Literal["active", "legacy", "deprecated", "retired"]
# Where a price comes from: the provider's own page, third-party price catalogs (the source
# names them), or the user's config.
PriceKind = Literal["provider", "third-party", "config"]
PRICE_KIND_TEXT: dict[str, str] = {
    "provider": "provider's page",
    "third-party": "third-party catalogs",
    "config": "your config",
}


@dataclass(frozen=True)
class Price:
    """Prices per 1M tokens in one currency, valid from ``since`` (UTC) until superseded.

    ``cache_hit`` is ``None`` where no source gives it: a call with cache hits then has no
    known cost. ``region`` limits a row to one DashScope region (``None``: everywhere).
    """

    since: datetime
    currency: str
    cache_hit: float | None
    input: float
    output: float
    window: Literal["peak", "off_peak"] | None
    source: str
    region: str | None = None
    kind: PriceKind = "provider"


@dataclass(frozen=True)
class ModelInfo:
    provider: str
    id: str
    thinking: ThinkingKind
    thinking_default: bool
    context: int | None = None
    max_input: int | None = None
    max_thinking: int | None = None
    max_output: int | None = None
    shared_budget: int | None = None
    features: tuple[str, ...] = ()
    effort_values: tuple[str, ...] = ()
    effort_map: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    fixed_params: bool = False
    non_stream_thinking: bool | None = None
    status: Status = "active"
    status_since: date | None = None
    status_note: str | None = None
    replacements: tuple[str, ...] = ()
    description: str | None = None
    source: str = ""
    prices: tuple[Price, ...] = ()
    # Why a price is missing or doubtful (sources that disagree), shown next to the price.
    price_note: str | None = None
    # DashScope regions whose Batch service lists this model.
    batch_regions: tuple[str, ...] = ()

    def has_feature(self, prefix: str) -> bool:
        return any(f.split(" ")[0] == prefix for f in self.features)

    @property
    def thinks_by_default(self) -> bool:
        return self.thinking == "always" or (self.thinking == "hybrid" and self.thinking_default)

    def status_line(self) -> str | None:
        """One line for a deprecated, legacy or retired model; ``None`` when active."""
        if self.status == "active":
            return None
        when = f" on {self.status_since.isoformat()}" if self.status_since else ""
        verb = {"deprecated": "was deprecated", "retired": "was retired", "legacy": "is legacy"}[
            self.status
        ]
        text = f"{self.id} {verb}{when}"
        if self.status_note:
            text += f" ({self.status_note})"
        if self.replacements:
            text += "; use " + " or ".join(self.replacements)
        return text


@dataclass(frozen=True)
class PeakDays:
    """From ``since`` on, peak hours apply on these ISO weekdays (local time)."""

    since: datetime
    days: tuple[int, ...]


@dataclass(frozen=True)
class ProviderInfo:
    id: str
    name: str
    peak_hours: tuple[tuple[int, int], ...] = ()  # minutes since local midnight, [start, end)
    peak_days: tuple[PeakDays, ...] = ()  # by date; before the first, every day
    peak_utc_offset_hours: int = 0
    price_note: str | None = None


@dataclass(frozen=True)
class Catalog:
    providers: dict[str, ProviderInfo]
    models: tuple[ModelInfo, ...]

    def find(self, provider: str, model: str) -> ModelInfo | None:
        for info in self.models:
            if info.provider == provider and info.id == model:
                return info
        return None

    def for_provider(self, provider: str) -> list[ModelInfo]:
        return [m for m in self.models if m.provider == provider]

    def named(self, name: str, provider: str | None) -> list[ModelInfo]:
        """``name`` at the profile's provider, else wherever the catalog has it."""
        matches = [m for m in self.models if m.id == name]
        preferred = [m for m in matches if m.provider == provider]
        return preferred or matches

    def similar_names(self, name: str) -> list[str]:
        import difflib

        names = sorted({m.id for m in self.models})
        return difflib.get_close_matches(name, names, n=3, cutoff=0.6)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _price(raw: dict[str, Any]) -> Price:
    cache_hit = raw.get("cache_hit")
    return Price(
        since=raw["since"],
        currency=raw["currency"],
        cache_hit=None if cache_hit is None else float(cache_hit),
        input=float(raw["input"]),
        output=float(raw["output"]),
        window=raw.get("window"),
        source=raw.get("source", ""),
        region=raw.get("region"),
        kind=raw.get("kind", "provider"),
    )


def _model(raw: dict[str, Any]) -> ModelInfo:
    return ModelInfo(
        provider=raw["provider"],
        id=raw["id"],
        thinking=raw["thinking"],
        thinking_default=bool(raw.get("thinking_default", raw["thinking"] == "always")),
        context=raw.get("context"),
        max_input=raw.get("max_input"),
        max_thinking=raw.get("max_thinking"),
        max_output=raw.get("max_output"),
        shared_budget=raw.get("shared_budget"),
        features=tuple(raw.get("features", ())),
        effort_values=tuple(raw.get("effort_values", ())),
        effort_map=dict(raw.get("effort_map", {})),
        defaults=dict(raw.get("defaults", {})),
        fixed_params=bool(raw.get("fixed_params", False)),
        non_stream_thinking=raw.get("non_stream_thinking"),
        status=raw.get("status", "active"),
        status_since=raw.get("status_since"),
        status_note=raw.get("status_note"),
        replacements=tuple(raw.get("replacements", ())),
        description=raw.get("description"),
        source=raw.get("source", ""),
        prices=tuple(_price(p) for p in raw.get("prices", ())),
        price_note=raw.get("price_note"),
        batch_regions=tuple(raw.get("batch_regions", ())),
    )


def parse_catalog(data: dict[str, Any]) -> Catalog:
    providers = {}
    for pid, raw in data.get("providers", {}).items():
        hours = tuple(
            (_minutes(span.split("-")[0]), _minutes(span.split("-")[1]))
            for span in raw.get("peak_hours", ())
        )
        providers[pid] = ProviderInfo(
            id=pid,
            name=raw.get("name", pid),
            peak_hours=hours,
            peak_days=tuple(
                sorted(
                    (PeakDays(d["since"], tuple(d["days"])) for d in raw.get("peak_days", ())),
                    key=lambda d: d.since,
                )
            ),
            peak_utc_offset_hours=int(raw.get("peak_utc_offset_hours", 0)),
            price_note=raw.get("price_note"),
        )
    return Catalog(providers=providers, models=tuple(_model(m) for m in data.get("model", ())))


@cache
def load_catalog() -> Catalog:
    text = resources.files("deepseek_cli.catalog").joinpath("models.toml").read_text("utf-8")
    return parse_catalog(tomllib.loads(text))
