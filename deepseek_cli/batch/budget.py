"""Budgets: ``--max-cost AMOUNT[CUR]``, what one attempt reserves, and what a job has spent.

Why one module: ``batch run`` keeps a budget, ``batch estimate`` shows the same arithmetic
and ``compare`` will take the same flag: one parser, one reservation formula, one account.

The rules:

- **Nothing unpriced runs.** Before anything is sent, every model the input uses must have a
  price in the budget's currency (``PriceBook.reserve_price``: the config's price, else the
  dearest window in force, since a request sent off-peak may be billed at peak; exit 78), and
  every line a max_tokens: its own, the flag's or profile's, else the catalog's default for
  the model (exit 2).
- **An attempt reserves its worst case**: the prompt estimate at the input price plus
  max_tokens at the output price, per 1M tokens; cache hits are not assumed.
- **No attempt starts past the budget** (a new item or a retry alike): spent + reserved in
  flight + its reservation must not exceed the amount. When it would, the job waits for the
  attempts in flight (an answer shorter than max_tokens frees what it did not use) and stops
  when none is left; the items not started stay pending, and a larger budget resumes them.
- **Spent** is what earlier runs of the job (same output file) recorded in the usage ledger,
  plus every attempt of this run that ended: its cost, or its reservation when its cost is
  unknown but it may have been billed (a timeout, a cut-off answer). An error status from the
  provider (429, 5xx, 400) costs nothing.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from deepseek_cli.batch.input.grammar import RequestLine
from deepseek_cli.batch.input.scan import InputScan, iter_lines
from deepseek_cli.batch.input.source import InputSource
from deepseek_cli.batch.planner import PerMinute, Planned
from deepseek_cli.catalog.models import ModelInfo, Price
from deepseek_cli.catalog.pricing import Cost
from deepseek_cli.catalog.tokens import prompt_tokens
from deepseek_cli.config.settings import Settings
from deepseek_cli.errors import ApiError, ConfigError, LocalIOError, UsageError
from deepseek_cli.ledger import store as ledger
from deepseek_cli.render import stderr as say
from deepseek_cli.render.numbers import money

MILLION = 1_000_000
# Relative slack on the comparison, so that float sums (0.1 + 0.2) do not miss an exact fit.
_SLACK = 1e-9
_MAX_COST = re.compile(
    r"(?:(?P<before>[A-Za-z]{3})\s*)?(?P<sign>[+-]?)(?P<number>\d+(?:\.\d*)?|\.\d+)"
    r"\s*(?P<after>[A-Za-z]{3})?",
    re.ASCII,  # digits and spaces as typed on a command line, not every script's
)
_CHECKED_MAX = 4096  # (model, no max_tokens) pairs remembered while checking line by line


@dataclass(frozen=True)
class MaxCost:
    """A ``--max-cost`` as given: the amount, and its currency (``None``: the profile's)."""

    amount: float
    currency: str | None = None


def parse_max_cost(text: str) -> MaxCost:
    """``5``, ``0.5USD``, ``20 CNY``, ``20cny``, ``USD 5``; anything else is exit 2."""
    value = text.strip()
    shown = value if len(value) <= 40 else value[:40] + "..."
    match = _MAX_COST.fullmatch(value)
    if match is None:
        raise UsageError(
            f"--max-cost must be an amount with an optional currency code, such as 5, 0.5USD "
            f"or '20 CNY', not {shown!r}"
        )
    before, after = match["before"], match["after"]
    if before and after:
        raise UsageError(f"--max-cost names two currencies: {shown!r}")
    amount = float(match["number"])
    if match["sign"] == "-" or not amount > 0 or not math.isfinite(amount):
        raise UsageError(f"--max-cost must be more than 0, not {shown!r}")
    code = before or after
    return MaxCost(amount, code.upper() if code else None)


def reservation(prompt: int, max_tokens: int, price: Price) -> float:
    """What one attempt reserves: its prompt estimate at the input price plus its max_tokens
    at the output price (prices per 1M tokens; no cache hits assumed)."""
    return (prompt * price.input + max_tokens * price.output) / MILLION


def catalog_max_tokens(info: ModelInfo | None) -> int | None:
    """The answer allowance the provider applies when a request sets none (the catalog's)."""
    if info is None:
        return None
    value = info.defaults.get("max_tokens")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return info.max_output


@dataclass(frozen=True, slots=True)
class Reserve:
    """One line's reservation and its parts."""

    prompt_tokens: int
    max_tokens: int
    price: Price
    amount: float


class Reserver:
    """Reservations in one currency for one profile's calls."""

    def __init__(self, settings: Settings, currency: str) -> None:
        self.settings = settings
        self.currency = currency
        self._default_max = settings.option("max_tokens")
        self._prices = PerMinute()

    def price(self, model: str) -> Price | None:
        """The price reserved at (looked up each minute, as ``Planner.price``)."""
        p = self.settings.profile

        def look_up() -> Price | None:
            return self.settings.prices.reserve_price(
                p.provider, model, p.region, datetime.now(UTC), self.currency
            )

        return self._prices.get(model, look_up)

    def line(self, planned: Planned) -> Reserve | None:
        """The reservation of one attempt of ``planned``; ``None`` when it has no price in the
        currency or no max_tokens anywhere."""
        price = self.price(planned.model)
        max_tokens = planned.request.max_tokens or catalog_max_tokens(planned.info)
        if price is None or max_tokens is None:
            return None
        prompt = prompt_tokens(planned.request.messages, planned.request.tools)
        return Reserve(prompt, max_tokens, price, reservation(prompt, max_tokens, price))

    def amount(self, planned: Planned) -> float:
        """What one attempt reserves; refuses as :meth:`check` does (a line it did not see)."""
        found = self.line(planned)
        if found is not None:
            return found.amount
        if self.price(planned.model) is None:
            raise self._unpriced(planned.model)
        raise self._no_max_tokens(planned.model)

    def check(self, models: Iterable[tuple[str | None, bool]]) -> None:
        """Refuse a budget that cannot be kept, before anything is sent: a model without a
        price in the currency (exit 78), a line without max_tokens anywhere (exit 2).
        ``models``: (the model a line names, ``None`` for the profile's; whether the line has
        no max_tokens of its own)."""
        checked: set[tuple[str, bool]] = set()
        catalog = self.settings.prices.catalog
        profile = self.settings.profile
        for named, no_max in models:
            model = named or profile.model
            if (model, no_max) in checked:
                continue
            if len(checked) >= _CHECKED_MAX:
                checked.clear()
            checked.add((model, no_max))
            if self.price(model) is None:
                raise self._unpriced(model)
            if (
                no_max
                and not self._default_max
                and catalog_max_tokens(catalog.find(profile.provider, model)) is None
            ):
                raise self._no_max_tokens(model)

    @staticmethod
    def _no_max_tokens(model: str) -> UsageError:
        return UsageError(
            f"--max-cost needs max_tokens: {model} has no default",
            "set --max-tokens or max_tokens per line",
        )

    def _unpriced(self, model: str) -> ConfigError:
        provider, cur = self.settings.profile.provider, self.currency
        hint = (
            f'set [prices."{provider}/{model}"] input = ..., output = ..., currency = "{cur}" '
            f"(per 1M tokens) in {self.settings.config.path}"
        )
        other = self.settings.price(model)
        if other is not None and other.currency != cur:
            hint += f", or give --max-cost in {other.currency}"
        return ConfigError(f"{model} has no price in {cur}: it cannot run under --max-cost", hint)


def line_models(lines: Iterable[object]) -> Iterator[tuple[str | None, bool]]:
    """(model named, no max_tokens of its own) of each valid line, for :meth:`Reserver.check`."""
    for line in lines:
        if isinstance(line, RequestLine):
            yield line.model, "max_tokens" not in line.overrides


def models_to_check(
    found: InputScan, source: InputSource, limit: int
) -> Iterable[tuple[str | None, bool]]:
    """What the validation pass collected; past its cap on distinct models, every line again
    (one more pass over the input, only then)."""
    if found.models_complete:
        return found.models.items()
    return line_models(iter_lines(source, found, limit))


def attempt_spend(
    reserved: float, currency: str, cost: Cost | None, error: ApiError | None, got_output: bool
) -> float:
    """What an attempt that ended counts against the budget."""
    if error is None:
        return cost.amount if cost is not None and cost.currency == currency else reserved
    if error.status is not None and not got_output:
        return 0.0  # the provider answered with an error status: nothing was billed
    return reserved  # a timeout, a cut-off or unreadable answer: it may have been billed


@dataclass
class Budget:
    """The account of a job under ``--max-cost``."""

    limit: float
    currency: str
    reserver: Reserver
    spent_before: float = 0.0  # recorded in the ledger by earlier runs of the job
    uncounted_before: int = 0  # earlier rows with tokens but no price in the currency
    spent: float = 0.0  # by this run's attempts that ended
    reserved: float = 0.0  # by the attempts in flight
    next_reserve: float | None = None  # what the attempt that did not fit would reserve

    @property
    def total(self) -> float:
        return self.spent_before + self.spent

    @property
    def reached(self) -> bool:
        return self.next_reserve is not None

    def fits(self, amount: float) -> bool:
        return self.total + self.reserved + amount <= self.limit * (1 + _SLACK)

    def take(self, amount: float) -> None:
        self.reserved += amount

    def settle(self, reserved: float, spent: float) -> None:
        self.reserved = max(self.reserved - reserved, 0.0)
        self.spent += spent

    def refuse(self, amount: float) -> None:
        self.next_reserve = amount

    def money(self, amount: float) -> str:
        return money(amount, self.currency)

    def to_json(self) -> dict[str, object]:
        return {
            "amount": self.limit,
            "currency": self.currency,
            "spent": round(self.total, 8),
            "spent_before": round(self.spent_before, 8),
            "uncounted_before": self.uncounted_before,
            "reached": self.reached,
            "next_reserve": None if self.next_reserve is None else round(self.next_reserve, 8),
        }

    def reached_text(self, not_done: int) -> str:
        """The one line of a job that stopped at its budget."""
        limit, spent = self.money(self.limit), self.money(self.total)
        text = f"budget reached: --max-cost {limit}; spent {spent}"
        if self.spent_before:
            text += f" ({self.money(self.spent_before)} by earlier runs)"
        if self.next_reserve is not None:
            text += f", and the next request reserves {self.money(self.next_reserve)}"
        return text + f"; {not_done:,} not done"


def open_budget(
    settings: Settings,
    max_cost: MaxCost,
    models: Iterable[tuple[str | None, bool]],
    batch_id: str | None = None,
) -> Budget:
    """The budget of a job: checked against the input's models, with the spend its earlier
    runs recorded under ``batch_id``. A ledger that cannot be read is exit 74: what was spent
    is then unknown, and a budget kept on a guess is no budget."""
    currency = max_cost.currency or settings.profile.currency
    reserver = Reserver(settings, currency)
    reserver.check(models)
    before = ledger.BatchSpend()
    if batch_id is not None:
        path = settings.ledger_path
        try:
            before = ledger.batch_spend(path, batch_id, currency)
        except (sqlite3.Error, OSError) as exc:
            raise LocalIOError(
                f"cannot read the usage ledger ({path}: {exc}): what earlier runs of this job "
                "spent is unknown, so --max-cost cannot be kept",
                "repair or move the ledger, or run without --max-cost",
            ) from None
    if before.uncounted:
        say.warning(
            f"{before.uncounted:,} earlier call(s) of this job have no cost in {currency}: "
            "not counted in what --max-cost sees as spent"
        )
    return Budget(max_cost.amount, currency, reserver, before.amount, before.uncounted)
