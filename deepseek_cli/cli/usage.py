"""``deepseek usage``: calls, tokens and cost from the local ledger; ``usage balance``.

The report reads only ``usage.db`` (no config, no network, no SDK); ``balance`` asks DeepSeek.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from deepseek_cli.cli.boundary import guarded
from deepseek_cli.cli.options import (
    DebugOpt,
    JsonOpt,
    ModelFilterOpt,
    ProfileChoice,
    ProfileFilterOpt,
    SinceOpt,
    UntilOpt,
    option,
    profile_options,
)
from deepseek_cli.cli.typer_apps import new_app

if TYPE_CHECKING:
    from deepseek_cli.ledger.reports import GroupKey, Report, Totals

EPILOG = """\b
Examples:
  deepseek usage                       # last 30 days, by model
  deepseek usage --since 7d --by day
  deepseek usage --since 2026-11-01 --until 2026-11-30 --by profile
  deepseek usage --since all --csv > usage.csv
  deepseek usage --json | jq .total.cost
  deepseek usage balance -p deepseek

\b
Input includes cached (cache-hit) input tokens; output includes reasoning tokens.
Cost is what each call cost when it was made, per currency; calls whose price is
unknown are counted as unpriced, never guessed. Cache hits is the share of input
served from the provider's cache; cache saved is what those hits saved against
the uncached input price. Days are local calendar days.
"""

BALANCE_EPILOG = """\b
Examples:
  deepseek usage balance -p deepseek
  deepseek usage balance -p deepseek --json | jq -r '.balances[0].total'

\b
Only DeepSeek's API has a balance endpoint. For DashScope (Model Studio) profiles
this exits 2 and says so: see the Billing pages of the Alibaba Cloud console.
"""


class By(StrEnum):
    day = "day"
    model = "model"
    profile = "profile"
    command = "command"


app = new_app(
    name="usage",
    help="Calls, tokens and cost from the local usage ledger.",
    epilog=EPILOG,
    invoke_without_command=True,
)


@app.callback()
@guarded
def usage(
    ctx: typer.Context,
    since: SinceOpt = "30d",
    until: UntilOpt = None,
    by: Annotated[By, option("--by", "Group rows by this.")] = By.model,
    profile: ProfileFilterOpt = None,
    model: ModelFilterOpt = None,
    json_output: JsonOpt = False,
    csv_output: Annotated[bool, option("--csv", "Print CSV, one line per group.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Totals from the local ledger: calls, input/cached/output/reasoning tokens, cost."""
    if ctx.invoked_subcommand is not None:
        return
    from deepseek_cli.config import paths
    from deepseek_cli.errors import UsageError
    from deepseek_cli.ledger import reports
    from deepseek_cli.render import stderr as say

    if json_output and csv_output:
        raise UsageError("--json and --csv exclude each other")
    start, end = reports.time_range(since, until, now=datetime.now(UTC))
    report = reports.build_report(
        paths.ledger_file(os.environ),
        by=by.value,
        since=start,
        until=end,
        profile=profile,
        model=model,
    )
    if json_output:
        from deepseek_cli.render.stdout import emit_json

        emit_json(report.to_json(), indent=2)
        return
    if csv_output:
        import io

        from deepseek_cli.render.stdout import emit

        buffer = io.StringIO()
        reports.write_csv(report, buffer)
        emit(buffer.getvalue())
        return
    if not report.groups:
        when = f"since {_local(start)}" if start else "at all"
        say.notice(f"no calls recorded {when}")
        return
    _print_report(report)


def _local(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "now"


def _print_report(report: Report) -> None:
    from deepseek_cli.catalog.pricing import Spend
    from deepseek_cli.render.numbers import cache_share, spend_text
    from deepseek_cli.render.tables import Column, print_table

    columns = [
        Column(report.by.capitalize(), style="bold", no_wrap=True, title=True),
        *([Column("Provider")] if report.with_provider else []),
        Column("Calls", "right"),
        Column("Errors", "right"),
        Column("Input", "right"),
        Column("Cached", "right"),
        Column("Output", "right"),
        Column("Reasoning", "right"),
        Column("Cache hits", "right"),
        Column("Cache saved"),
        Column("Cost"),
    ]

    def cells(key: GroupKey, t: Totals) -> list[str | list[str]]:
        name, provider = key
        return [
            name,
            *([provider or ""] if report.with_provider else []),
            f"{t.calls:,}",
            f"{t.errors:,}",
            f"{t.input_tokens:,}",
            f"{t.cached_tokens:,}",
            f"{t.output_tokens:,}",
            f"{t.reasoning_tokens:,}",
            cache_share(t.input_tokens, t.cached_tokens) if t.input_tokens else "-",
            spend_text(Spend(amounts=t.spend.saved), empty="-"),
            spend_text(t.spend),
        ]

    rows = [cells(key, t) for key, t in report.groups]
    styles: list[str | None] = [None] * len(rows)
    if len(rows) > 1:
        rows.append(cells(("total", None), report.total))
        styles.append("bold")
    period = (
        f"{_local(report.since) if report.since else 'the beginning'} to {_local(report.until)}"
    )
    print_table(
        columns,
        rows,
        title=f"Usage from {period}, by {report.by}",
        caption=(
            "Input includes cached tokens; output includes reasoning tokens. Cache hits: the "
            "share of input served from the cache; cache saved: what that saved."
        ),
        row_styles=styles,
    )


@app.command(epilog=BALANCE_EPILOG)
@guarded
@profile_options()
def balance(*, choice: ProfileChoice, json_output: JsonOpt = False) -> None:
    """The account balance (DeepSeek's API only; DashScope has no balance API)."""
    from deepseek_cli.backends import account
    from deepseek_cli.config.keys import resolve_api_key
    from deepseek_cli.errors import UsageError
    from deepseek_cli.render import stderr as say
    from deepseek_cli.render.stdout import emit, emit_json

    loaded, prof = choice.load()
    if (reason := account.no_balance_reason(prof)) is not None:
        hint = (
            "see Expenses and Costs in the Alibaba Cloud console; `deepseek usage` shows "
            "what this tool recorded"
            if prof.provider == "dashscope"
            else "`deepseek usage` shows what this tool recorded"
        )
        raise UsageError(reason, hint)
    key = resolve_api_key(prof, os.environ, loaded)
    assert key is not None  # deepseek profiles always need one
    result = account.fetch_balance(prof, key.value)
    if json_output:
        emit_json({"profile": prof.name, "provider": prof.provider, **result.to_json()}, indent=2)
        return
    if not result.balances:
        say.notice("DeepSeek reported no balance entries")
    for b in result.balances:
        emit(f"{b.currency} {b.total} (granted {b.granted}, topped up {b.topped_up})\n")
    if result.available is False:
        say.warning("DeepSeek says the balance is not enough for API calls (is_available: false)")


# ``usage calls`` lives in its own module; registered last so that ``usage`` reads top down.
from deepseek_cli.cli import usage_calls  # noqa: E402

app.command(name="calls", epilog=usage_calls.EPILOG)(usage_calls.calls)
