"""``batch estimate``: tokens and cost of a batch input, without sending anything.

Why: a million-line job should be priced before it runs. Input tokens are estimated as
DeepSeek documents (``tokens``: about 0.3 per English and 0.6 per Chinese character). The
answer is ``--assume-output N`` tokens per line, else the line's max_tokens (from the line,
the flag or the profile), else unknown and reported as such: an unknown is never guessed. The
price is the catalog's, in force now (peak or off-peak where the provider has both);
``remote`` prices it for the provider's Batch service (``batch submit``): half of that, and
refused like ``submit`` where the profile or region has no Batch service for the model.

Beside the expected cost, the reservation a ``batch run --max-cost`` makes (``budget``, the
same formula): each line's prompt estimate and max_tokens (the catalog's default when no line,
flag or profile sets one) at the dearest price in force, in the budget's currency (else the
profile's). With ``--max-cost`` the input is checked as ``batch run`` checks it (exit 78 for
a model without a price in that currency, 2 for no max_tokens), and the estimate says how many
lines fit in the budget at worst, in input order (a run fits more: an answer shorter than its
max_tokens frees the rest of its reservation). Spend by earlier runs is not counted: an
estimate has no output file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from deepseek_cli.batch.budget import (
    Budget,
    MaxCost,
    Reserve,
    Reserver,
    models_to_check,
    open_budget,
)
from deepseek_cli.batch.input.grammar import RequestLine
from deepseek_cli.batch.input.scan import MAX_LINE_BYTES, iter_lines, scan
from deepseek_cli.batch.input.source import InputSource, check_input
from deepseek_cli.batch.planner import Planner
from deepseek_cli.catalog.models import Price
from deepseek_cli.catalog.pricing import Spend, cost_of
from deepseek_cli.catalog.tokens import prompt_tokens
from deepseek_cli.config.settings import RequestFlags, load
from deepseek_cli.errors import InputDataError, UsageError
from deepseek_cli.events import Usage
from deepseek_cli.render import stderr as say


@dataclass
class ModelEstimate:
    model: str
    lines: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    unknown_output: int = 0  # lines with no max_tokens and no --assume-output
    reserved: float = 0.0  # what batch run --max-cost reserves for one attempt of each line
    reserved_max_tokens: int = 0
    unreserved: int = 0  # lines without a price in the currency or without any max_tokens
    reserve_price: Price | None = None

    def reserve(self, found: Reserve | None) -> None:
        if found is None:
            self.unreserved += 1
            return
        self.reserved += found.amount
        self.reserved_max_tokens += found.max_tokens
        self.reserve_price = self.reserve_price or found.price

    def reservation_json(self, currency: str) -> dict[str, Any]:
        price = self.reserve_price
        return {
            "prompt_tokens": self.input_tokens,
            "max_tokens": self.reserved_max_tokens,
            "price": None if price is None else _price_json(price),
            # Null when a line has no price in the currency or no max_tokens: never a guess.
            "amount": None if self.unreserved else round(self.reserved, 8),
            "currency": currency,
            "lines_unreserved": self.unreserved,
        }


def estimate(
    flags: RequestFlags,
    input_path: str,
    *,
    assume_output: int | None = None,
    lenient: bool = False,
    max_line_bytes: int = MAX_LINE_BYTES,
    remote: bool = False,
    max_cost: MaxCost | None = None,
) -> dict[str, Any]:
    if remote and max_cost is not None:
        raise UsageError("--max-cost is for batch run; batch submit has no budget (no --remote)")
    settings = load(flags, os.environ, need_key=False)
    factor = 1.0
    if remote:
        from deepseek_cli.batch import eligibility

        eligibility.check_profile(settings.profile)
        factor = eligibility.BATCH_PRICE_FACTOR
    check_input(input_path)
    try:
        source = InputSource(input_path, max_line_bytes=max_line_bytes)
        found = scan(source, max_line_bytes)
    except OSError as exc:
        raise UsageError(f"cannot read {input_path}: {exc.strerror or exc}") from None
    try:
        if found.bad_lines and not lenient:
            raise InputDataError(
                found.message(),
                "fix those lines, or use --lenient to estimate the valid ones",
            )
        budget = None
        if max_cost is not None:
            models_used = models_to_check(found, source, max_line_bytes)
            budget = open_budget(settings, max_cost, models_used)
        planner = Planner(settings, say.notice, budget.currency if budget else None)
        reserver = None
        if not remote:  # batch submit reserves nothing
            reserver = budget.reserver if budget else Reserver(settings, settings.profile.currency)
        fit = _Fit(budget)
        models: dict[str, ModelEstimate] = {}
        for parsed in iter_lines(source, found, max_line_bytes):
            if not isinstance(parsed, RequestLine):
                continue
            try:
                planned = planner.plan(parsed)
            except UsageError:
                continue
            entry = models.get(planned.model)
            if entry is None:
                entry = models[planned.model] = ModelEstimate(planned.model)
            entry.lines += 1
            entry.input_tokens += prompt_tokens(planned.request.messages, planned.request.tools)
            output = assume_output if assume_output is not None else planned.request.max_tokens
            if output is None:
                entry.unknown_output += 1
            else:
                entry.output_tokens += output
            if reserver is not None:
                reserve = reserver.line(planned)
                entry.reserve(reserve)
                fit.add(reserve)
    finally:
        source.close()
    rows = []
    spend = Spend()
    for entry in models.values():
        if remote:
            eligibility.check_model(settings.profile, entry.model)
            if warning := eligibility.unlisted_warning(settings.profile, entry.model):
                say.warning(warning)
        price = planner.price(entry.model)
        cost = cost_of(Usage(entry.input_tokens, 0, entry.output_tokens), price, factor)
        spend.add(cost)
        rows.append(
            {
                "model": entry.model,
                "lines": entry.lines,
                "input_tokens": entry.input_tokens,
                "output_tokens": entry.output_tokens,
                "lines_without_output_estimate": entry.unknown_output,
                "cost": cost.to_json() if cost else None,
                "price_window": price.window if price else None,
                "reservation": entry.reservation_json(reserver.currency) if reserver else None,
            }
        )
    return {
        "input": input_path,
        "profile": settings.profile.name,
        "provider": settings.profile.provider,
        "lines": sum(e.lines for e in models.values()),
        "invalid_lines": found.bad_lines,
        "input_tokens": sum(e.input_tokens for e in models.values()),
        "output_tokens": sum(e.output_tokens for e in models.values()),
        "assumed_output": assume_output,
        "price": "batch" if remote else "real-time",
        "lines_without_output_estimate": sum(e.unknown_output for e in models.values()),
        # Null when a model has no price or the models' currencies differ: never a guess.
        "cost": spend.total_json(),
        "reservation": _total_json(list(models.values()), reserver.currency) if reserver else None,
        "budget": fit.to_json(),
        "models": rows,
    }


class _Fit:
    """How many lines fit in a budget, in input order, each at its full reservation."""

    def __init__(self, budget: Budget | None) -> None:
        self.budget = budget
        self.lines = 0
        self.fit = 0
        self.full = False

    def add(self, found: Reserve | None) -> None:
        self.lines += 1
        budget = self.budget
        if budget is None or self.full:
            return
        if found is None or not budget.fits(found.amount):
            self.full = True
            return
        budget.take(found.amount)
        self.fit += 1

    def to_json(self) -> dict[str, Any] | None:
        if self.budget is None:
            return None
        return {
            "amount": self.budget.limit,
            "currency": self.budget.currency,
            "lines": self.lines,
            "lines_fit": self.fit,
            "reserved": round(self.budget.reserved, 8),
        }


def _price_json(price: Price) -> dict[str, Any]:
    return {
        "input": price.input,
        "output": price.output,
        "currency": price.currency,
        "window": price.window,
        "kind": price.kind,
        "source": price.source,
    }


def _total_json(entries: list[ModelEstimate], currency: str) -> dict[str, Any]:
    unknown = any(e.unreserved for e in entries)
    return {
        "amount": None if unknown else round(sum(e.reserved for e in entries), 8),
        "currency": currency,
        "prompt_tokens": sum(e.input_tokens for e in entries),
        "max_tokens": sum(e.reserved_max_tokens for e in entries),
    }
