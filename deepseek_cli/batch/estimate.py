"""``batch estimate``: tokens and cost of a batch input, without sending anything.

Why: a million-line job should be priced before it runs. Input tokens are estimated as
DeepSeek documents (``tokens``: about 0.3 per English and 0.6 per Chinese character). The
answer is ``--assume-output N`` tokens per line, else the line's max_tokens (from the line,
the flag or the profile), else unknown and reported as such: an unknown is never guessed. The
price is the catalog's, in force now (peak or off-peak where the provider has both);
``remote`` prices it for the provider's Batch service (``batch submit``): half of that, and
refused like ``submit`` where the profile or region has no Batch service for the model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from deepseek_cli.batch.input.grammar import RequestLine
from deepseek_cli.batch.input.scan import MAX_LINE_BYTES, iter_lines, scan
from deepseek_cli.batch.input.source import InputSource, check_input
from deepseek_cli.batch.planner import Planner
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


def estimate(
    flags: RequestFlags,
    input_path: str,
    *,
    assume_output: int | None = None,
    lenient: bool = False,
    max_line_bytes: int = MAX_LINE_BYTES,
    remote: bool = False,
) -> dict[str, Any]:
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
        planner = Planner(settings, say.notice)
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
            entry.input_tokens += prompt_tokens(planned.request.messages)
            output = assume_output if assume_output is not None else planned.request.max_tokens
            if output is None:
                entry.unknown_output += 1
            else:
                entry.output_tokens += output
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
        "models": rows,
    }
