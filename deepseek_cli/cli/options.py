"""The options shared by several commands, declared once, and the decorator that gives the
request-making commands (ask, chat, batch run/estimate/submit) the request options.

Declared once as ``Annotated`` aliases so every command spells ``-p``, ``-m``, ``--think`` and
friends the same way, with the same help and the same completion; :func:`request_options`
adds the dozen request options to a command's signature so that each command lists only its
own.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

R = TypeVar("R")

REQUEST_PANEL = "Request options"


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
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


# The request options in --help order: command parameter, declaration, RequestFlags field.
_REQUEST_OPTIONS: tuple[tuple[str, object, str], ...] = (
    ("profile", ProfileOpt, "profile"),
    ("model", ModelOpt, "model"),
    ("think", ThinkOpt, "thinking"),
    ("budget", BudgetOpt, "thinking_budget"),
    ("effort", EffortOpt, "reasoning_effort"),
    ("system", SystemOpt, "system"),
    ("temperature", TemperatureOpt, "temperature"),
    ("top_p", TopPOpt, "top_p"),
    ("max_tokens", MaxTokensOpt, "max_tokens"),
    ("search", SearchOpt, "search"),
    ("extra", ExtraOpt, "extra"),
    ("timeout", TimeoutOpt, "timeout"),
)
_FLAGS = "flags"


def request_options(
    *, without: Collection[str] = ()
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Give a command the request options, ``--config`` and ``--debug``; it gets a
    ``RequestFlags`` instead.

    The command declares a ``flags: RequestFlags`` parameter (keyword-only, after options
    with defaults) where the request options belong in its ``--help``; ``--config`` and
    ``--debug`` close the list, as on every command. ``without`` names request options the
    command does not take. Typer reads the options from the signature and annotations set
    here. Goes under ``@guarded``, which reads ``debug``.
    """
    unknown = set(without) - {name for name, _, _ in _REQUEST_OPTIONS}
    if unknown:
        raise ValueError(f"not request options: {sorted(unknown)}")
    taken = [
        (name, declared, field) for name, declared, field in _REQUEST_OPTIONS if name not in without
    ]

    def decorate(func: Callable[..., R]) -> Callable[..., R]:
        own = _evaluated_parameters(func)
        names = [p.name for p in own]
        if _FLAGS not in names:
            raise TypeError(f"{func.__name__} must declare a keyword-only '{_FLAGS}' parameter")
        at = names.index(_FLAGS)
        shared = [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=declared
            )
            for name, declared, _ in taken
        ]
        closing = [
            inspect.Parameter(
                "config", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ConfigOpt
            ),
            inspect.Parameter(
                "debug", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=DebugOpt
            ),
        ]
        parameters = [*own[:at], *shared, *own[at + 1 :], *closing]

        @functools.wraps(func)
        def command(**kwargs: Any) -> R:
            from deepseek_cli.config.settings import RequestFlags

            del kwargs["debug"]  # already read by @guarded
            values = {field: kwargs.pop(name) for name, _, field in taken}
            values["extra"] = tuple(values.get("extra") or ())
            flags = RequestFlags(**values, config=kwargs.pop("config"))
            return func(**kwargs, flags=flags)

        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        return command

    return decorate


def _evaluated_parameters(func: Callable[..., Any]) -> list[inspect.Parameter]:
    """``func``'s parameters with their annotations as objects, as Typer needs them (modules
    with ``from __future__ import annotations`` hold strings). ``flags`` stays a string: its
    ``RequestFlags`` is imported for type checking only, since config.settings costs start-up
    time."""
    return [
        p.replace(annotation=eval(p.annotation, func.__globals__))
        if p.name != _FLAGS and isinstance(p.annotation, str)
        else p
        for p in inspect.signature(func).parameters.values()
    ]
