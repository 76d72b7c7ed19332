"""``deepseek models`` and ``deepseek models show NAME``: the catalog, and the provider's list.

Listing reads only the packaged catalog, so it is instant and works offline; ``--live`` is the
one path that imports an SDK, to ask the provider which models this key can see.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from deepseek_cli.cli.boundary import guarded
from deepseek_cli.cli.options import ProfileChoice, complete_models, option, profile_options
from deepseek_cli.cli.typer_apps import new_app

if TYPE_CHECKING:
    from deepseek_cli.catalog.models import ModelInfo
    from deepseek_cli.catalog.price_book import PriceBook
    from deepseek_cli.config.profiles import Profile

EPILOG = """\b
Examples:
  deepseek models                      # the default profile's provider
  deepseek models -p deepseek          # DeepSeek's own API
  deepseek models --all                # every provider in the catalog
  deepseek models --live -p cn         # what this key can use in Beijing
  deepseek models --json | jq -r '.[].id'
  deepseek models show deepseek-v4-pro
"""

SHOW_EPILOG = """\b
Examples:
  deepseek models show deepseek-flash -p deepseek
  deepseek models show deepseek-r1 --json | jq .defaults
"""

app = new_app(
    name="models",
    help="List the models of a profile's provider: thinking, limits, features, prices, status.",
    epilog=EPILOG,
    invoke_without_command=True,
)

JsonOpt = Annotated[bool, option("--json", "Print JSON instead of a table.")]


@app.callback()
@guarded
@profile_options()
def models(
    ctx: typer.Context,
    *,
    choice: ProfileChoice,
    all_providers: Annotated[
        bool, option("--all", "Every provider in the catalog, not only the profile's.")
    ] = False,
    live: Annotated[
        bool,
        option(
            "--live",
            "Ask the provider which models the key can see; list the ones the catalog "
            "does not know.",
        ),
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """List the models of the profile's provider, with prices per 1M tokens in force now."""
    if ctx.invoked_subcommand is not None:
        return
    from deepseek_cli.catalog.models import load_catalog
    from deepseek_cli.catalog.price_book import PriceBook
    from deepseek_cli.config.prices import price_overrides
    from deepseek_cli.render import stderr as say

    loaded, prof = choice.load()
    catalog = load_catalog()
    book = PriceBook(catalog, price_overrides(loaded.data))
    now = datetime.now(UTC)
    infos = list(catalog.models) if all_providers else catalog.for_provider(prof.provider)
    visible: set[str] | None = None
    unknown: list[str] = []
    if live:
        from deepseek_cli.config.keys import resolve_api_key

        key = resolve_api_key(prof, os.environ, loaded)
        from deepseek_cli.backends.listing import fetch_live_ids

        ids = fetch_live_ids(prof, key.value if key else None)
        visible = set(ids)
        known = {m.id for m in catalog.for_provider(prof.provider)}
        unknown = sorted(set(ids) - known)

    def seen(provider: str, model_id: str) -> bool | None:
        return None if visible is None or provider != prof.provider else model_id in visible

    if json_output:
        from deepseek_cli.catalog.export import model_json, unknown_json
        from deepseek_cli.render.stdout import emit_json

        data = [
            model_json(
                m,
                now,
                visible=seen(m.provider, m.id),
                region=prof.region,
                override=book.override(m.provider, m.id, prof.region),
            )
            for m in infos
        ]
        data += [unknown_json(prof.provider, u) for u in unknown]
        emit_json(data, indent=2)
        return
    if not infos and not unknown:
        say.notice(
            f"the catalog has no models for '{prof.provider}' profiles; "
            "--live asks the server for its list"
        )
        return

    _print_catalog(prof, book, infos, seen, unknown, all_providers=all_providers, live=live)


def _print_catalog(
    prof: Profile,
    book: PriceBook,
    infos: list[ModelInfo],
    seen: Callable[[str, str], bool | None],
    unknown: list[str],
    *,
    all_providers: bool,
    live: bool,
) -> None:
    """The table: a Rich table on a terminal, one line per model in a pipe."""
    from deepseek_cli.catalog.pricing import display_prices
    from deepseek_cli.render import model_text as mt
    from deepseek_cli.render.numbers import tokens_short
    from deepseek_cli.render.tables import Column, print_table
    from deepseek_cli.render.terminal import stdout_is_terminal

    now = datetime.now(UTC)
    # A terminal gets short feature names and the price date inside the price cell; a pipe
    # gets the catalog's words and a separate Since column (width is free there).
    compact = stdout_is_terminal()
    currency = prof.currency
    limits = (
        [Column("Max in/think/out", "right", min_width=11)]
        if compact
        else [Column("Max in", "right"), Column("Max think", "right"), Column("Max out", "right")]
    )
    columns = [
        *([Column("Provider")] if all_providers else []),
        Column("Model", style="bold", no_wrap=True, title=True),
        Column("Thinking", min_width=7),
        Column("Context", "right", min_width=4),
        *limits,
        Column("Features", min_width=10),
        Column(f"{currency}/1M hit/in/out", min_width=15),
        *([] if compact else [Column("Since"), Column("Price source")]),
        Column("Status", min_width=10),
        *([Column("Live")] if live else []),
    ]
    rows: list[list[str | list[str]]] = []
    styles: list[str | None] = []
    region = prof.region
    for m in infos:
        own = book.override(m.provider, m.id, region)
        prices = [own] if own else display_prices(m, now, currency, region)
        price = mt.price_cell(prices, currency)
        if compact and prices:
            price.append(f"{mt.kind_short(prices)}, since {mt.price_since(prices)}")
        flag = seen(m.provider, m.id)
        rows.append(
            [
                *([m.provider] if all_providers else []),
                m.id,
                mt.thinking_text(m),
                tokens_short(m.context),
                *mt.limit_cells(m, compact=compact),
                mt.features_cell(m, compact=compact),
                price,
                *([] if compact else [mt.price_since(prices), mt.kind_short(prices)]),
                mt.status_text(m),
                *([("-" if flag is None else "yes" if flag else "no")] if live else []),
            ]
        )
        styles.append({"retired": "dim", "deprecated": "yellow"}.get(m.status))
    for model_id in unknown:
        # Only the model, the status and the live flag are known: every other cell is "-".
        head = [*([prof.provider] if all_providers else []), model_id]
        tail = ["not in catalog", *(["yes"] if live else [])]
        rows.append([*head, *(["-"] * (len(columns) - len(head) - len(tail))), *tail])
        styles.append("cyan")

    catalog = book.catalog
    provider_info = catalog.providers.get(prof.provider)
    scope = (
        "all providers"
        if all_providers
        else (provider_info.name if provider_info else prof.provider)
    )
    where = f" in {prof.region_name}" if prof.region_name else ""
    notes = [
        f"Prices per 1M tokens in force now{where}; `deepseek models show NAME` has their "
        "sources and history."
    ]
    for pid in sorted({m.provider for m in infos}):
        note = catalog.providers[pid].price_note if pid in catalog.providers else None
        if note:
            notes.append(note)
    if live:
        notes.append(f"Live: yes when the key of profile '{prof.name}' can use the model.")
    print_table(
        columns,
        rows,
        title=f"Models: {scope} (profile {prof.name})",
        caption="\n".join(notes),
        row_styles=styles,
    )


@app.command(epilog=SHOW_EPILOG)
@guarded
@profile_options()
def show(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Model id.", autocompletion=complete_models)
    ],
    *,
    choice: ProfileChoice,
    json_output: JsonOpt = False,
) -> None:
    """Everything the catalog knows about one model, with every dated price and its source."""
    from deepseek_cli.catalog.export import model_json
    from deepseek_cli.catalog.models import load_catalog
    from deepseek_cli.config.prices import price_overrides
    from deepseek_cli.errors import UsageError
    from deepseek_cli.render import model_text as mt
    from deepseek_cli.render.stdout import emit, emit_json
    from deepseek_cli.render.tables import Column, fields_text, plain_table

    loaded, prof = choice.load()
    catalog = load_catalog()
    overrides = price_overrides(loaded.data)
    matches = catalog.named(name, prof.provider)
    if not matches:
        close = catalog.similar_names(name)
        raise UsageError(
            f"'{name}' is not in the catalog",
            f"did you mean {' or '.join(close)}?" if close else "see `deepseek models --all`",
        )
    now = datetime.now(UTC)
    if json_output:
        data = [
            model_json(m, now, history=True, override=overrides.get(f"{m.provider}/{m.id}"))
            for m in matches
        ]
        emit_json(data, indent=2)
        return
    parts = []
    for m in matches:
        text = f"{m.id}\n" + fields_text(
            mt.model_fields(m, catalog.providers.get(m.provider), now), "  "
        )
        text += "  prices\n"
        if (own := overrides.get(f"{m.provider}/{m.id}")) is not None:
            text += f"    {mt.override_line(own)}\n"
        if m.price_note:
            text += f"    {m.price_note}\n"
        history = mt.price_history_rows(m, now)
        if history:
            columns = [
                Column("Since"),
                Column("Region"),
                Column("Currency"),
                Column("Window"),
                Column("Hit / in / out per 1M"),
                Column("Now"),
                Column("Kind"),
                Column("Source"),
            ]
            table = plain_table(columns, history)
            text += "".join(f"    {line}\n" for line in table.splitlines())
        elif own is None and not m.price_note:
            text += "    unknown: no source gives a price\n"
        parts.append(text)
    emit("\n".join(parts))
