"""Option declarations shared by the request-making commands (ask, chat, batch).

Declared once as ``Annotated`` aliases so every command spells ``-p``, ``-m``, ``--think`` and
friends the same way, with the same help and the same completion.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from deepseek_cli.config.settings import RequestFlags

REQUEST_PANEL = "Request options"

# Command parameter name -> RequestFlags field, for the options declared below.
_FLAG_FIELDS = {
    "profile": "profile",
    "model": "model",
    "think": "thinking",
    "budget": "thinking_budget",
    "effort": "reasoning_effort",
    "system": "system",
    "temperature": "temperature",
    "top_p": "top_p",
    "max_tokens": "max_tokens",
    "search": "search",
    "extra": "extra",
    "timeout": "timeout",
    "config": "config",
}


def request_flags(params: Mapping[str, Any]) -> RequestFlags:
    """The request options of a command, from its parameters (pass ``locals()``); options a
    command does not declare stay unset."""
    from deepseek_cli.config.settings import RequestFlags

    values: dict[str, Any] = {field: params.get(name) for name, field in _FLAG_FIELDS.items()}
    values["extra"] = tuple(values["extra"] or ())
    return RequestFlags(**values)


def complete_profiles(incomplete: str) -> list[str]:
    from deepseek_cli.config import paths
    from deepseek_cli.config.files import load_config_file
    from deepseek_cli.config.profiles import BUILTIN_PROFILES, profile_names
    from deepseek_cli.errors import ConfigError

    try:
        data = load_config_file(paths.config_file(os.environ)).data
    except ConfigError:
        data = {}
    names = profile_names(data) if data else sorted(BUILTIN_PROFILES)
    return [n for n in names if n.startswith(incomplete)]


def complete_models(ctx: typer.Context, incomplete: str) -> list[str]:
    """Model ids for the profile typed so far (``-p``) or the default one; all if unresolvable."""
    from deepseek_cli.catalog.models import load_catalog

    catalog = load_catalog()
    provider = _typed_profile_provider(ctx)
    models = catalog.for_provider(provider) if provider else catalog.models
    names = sorted({m.id for m in models} or {m.id for m in catalog.models})
    return [n for n in names if n.startswith(incomplete)]


def _typed_profile_provider(ctx: typer.Context) -> str | None:
    from deepseek_cli.config import paths
    from deepseek_cli.config.files import load_config_file
    from deepseek_cli.config.profiles import resolve_profile
    from deepseek_cli.errors import ConfigError

    try:
        data = load_config_file(paths.config_file(os.environ)).data
        name = ctx.params.get("profile")
        return resolve_profile(
            data, os.environ, profile=name if isinstance(name, str) else None
        ).provider
    except ConfigError:
        return None


ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "-p",
        "--profile",
        metavar="NAME",
        help="Profile: built-in (intl, cn, us, intl-native, cn-native, "
        "us-native, deepseek, local) or from config.toml. Env: DEEPSEEK_CLI_PROFILE.",
        autocompletion=complete_profiles,
        rich_help_panel=REQUEST_PANEL,
        show_default=False,
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "-m",
        "--model",
        metavar="MODEL",
        help="Model id. Env: DEEPSEEK_CLI_MODEL.",
        autocompletion=complete_models,
        rich_help_panel=REQUEST_PANEL,
        show_default=False,
    ),
]
ThinkOpt = Annotated[
    bool | None,
    typer.Option(
        "--think/--no-think",
        help="Switch thinking on or off (hybrid models).",
        rich_help_panel=REQUEST_PANEL,
        show_default=False,
    ),
]
BudgetOpt = Annotated[
    int | None,
    typer.Option(
        "--budget",
        min=1,
        metavar="TOKENS",
        help="Thinking budget in tokens (DashScope).",
        rich_help_panel=REQUEST_PANEL,
        show_default=False,
    ),
]
EffortOpt = Annotated[
    str | None,
    typer.Option(
        "--effort",
        metavar="LEVEL",
        help="Reasoning effort: minimal, low, medium, high, xhigh, max, ultra "
        "(mapped to what the model accepts, with a notice).",
        rich_help_panel=REQUEST_PANEL,
        show_default=False,
    ),
]
SystemOpt = Annotated[
    str | None,
    typer.Option(
        "-s",
        "--system",
        metavar="TEXT",
        help="System prompt.",
        rich_help_panel=REQUEST_PANEL,
        show_default=False,
    ),
]
TemperatureOpt = Annotated[
    float | None,
    typer.Option(
        "-t",
        "--temperature",
        metavar="FLOAT",
        min=0.0,
        max=2.0,
        help="Sampling temperature.",
        rich_help_panel=REQUEST_PANEL,
        show_default=False,
    ),
]
TopPOpt = Annotated[
    float | None,
    typer.Option(
        "--top-p",
        metavar="FLOAT",
        min=0.0,
        max=1.0,
        help="Nucleus sampling.",
        rich_help_panel=REQUEST_PANEL,
        show_default=False,
    ),
]
MaxTokensOpt = Annotated[
    int | None,
    typer.Option(
        "--max-tokens",
        metavar="N",
        min=1,
        help="Maximum answer tokens.",
        rich_help_panel=REQUEST_PANEL,
        show_default=False,
    ),
]
SearchOpt = Annotated[
    bool | None,
    typer.Option(
        "--search/--no-search",
        help="Web search (DashScope models that have it).",
        rich_help_panel=REQUEST_PANEL,
        show_default=False,
    ),
]
ExtraOpt = Annotated[
    list[str] | None,
    typer.Option(
        "-x",
        "--extra",
        metavar="KEY=VALUE",
        help="Raw request body field; VALUE is parsed as JSON when it parses. Repeatable.",
        rich_help_panel=REQUEST_PANEL,
        show_default=False,
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        min=0.1,
        metavar="SECONDS",
        help="Total time limit per attempt (default 600).",
        rich_help_panel=REQUEST_PANEL,
        show_default=False,
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="PATH",
        help="Config file. Env: DEEPSEEK_CLI_CONFIG.",
        show_default=False,
    ),
]
DebugOpt = Annotated[
    bool,
    typer.Option("--debug", help="Show tracebacks on errors (keys redacted)."),
]
