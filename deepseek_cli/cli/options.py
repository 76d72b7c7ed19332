"""How our options are declared, the ones several commands share, and the groups of them that
commands take whole.

Every option is written with :func:`option`, the way ``--help`` shows it:
``option("-t, --temperature FLOAT", "Sampling temperature.", min=0.0, max=2.0)``. The options
several commands share are declared once here, so every command spells ``-p``, ``--config``
and friends the same way, with the same help and completion.

A group of options (an :class:`OptionGroup`) is given to a command as one value, by a decorator
that puts the group's options in the command's signature where a placeholder parameter stands:
:func:`request_options` gives the request-making commands (ask, chat, batch run/estimate/submit)
the dozen request options as one ``RequestFlags``, :func:`profile_options` gives the commands
that send no chat request ``-p`` (and ``-m``) as one :class:`ProfileChoice`, and
:func:`option_group` gives a command any other group as an instance of it.

No ``from __future__ import annotations`` here: the groups' annotations are read at import, and
kept as strings each would be compiled again on every start.
"""

import functools
import inspect
import math
import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, TypeVar, get_type_hints

import typer

# Typer (pinned below 0.29) carries its own copy of Click; a parameter type must be that
# copy's for its errors to become Typer's usage errors (exit 2).
from typer._click import types as click_types

if TYPE_CHECKING:
    from deepseek_cli.config.files import ConfigFile
    from deepseek_cli.config.profiles import Profile
    from deepseek_cli.config.settings import RequestFlags

R = TypeVar("R")
Command = Callable[..., R]

KEYWORD_ONLY = inspect.Parameter.KEYWORD_ONLY
REQUEST_PANEL = "Request options"


def option(usage: str, help: str, *, panel: str | None = None, **settings: Any) -> Any:
    """A ``typer.Option`` written as ``--help`` shows it: ``"-j, --concurrency N"`` names
    ``-j`` and ``--concurrency`` with the metavar ``N`` (a flag has none); ``help`` follows, then
    ``typer.Option``'s settings (``min=1``, ``autocompletion=...``). ``panel`` is the Rich help
    panel. Click shows no default for ``None``, so no option needs ``show_default=False``."""
    names = usage.replace(",", " ").split()
    metavar = names.pop() if names and not names[-1].startswith("-") else None
    if not names or not all(name.startswith("-") for name in names):
        raise ValueError(f"not an option's usage: {usage!r}")
    if isinstance(settings.get("min"), float) or isinstance(settings.get("max"), float):
        settings["click_type"] = FiniteFloat(settings.pop("min", None), settings.pop("max", None))
    return typer.Option(*names, metavar=metavar, help=help, rich_help_panel=panel, **settings)


class FiniteFloat(click_types.FloatRange):
    """A float option's range that also refuses ``nan`` and ``inf``: Click's ``FloatRange``
    lets ``nan`` through (every comparison with it is false), and a NaN temperature or
    timeout would fail much later as an internal error or never fire. Every float option
    declares a float ``min``, so :func:`option` gives them all this type."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        number = click_types.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


class OptionGroup:
    """Options a command takes as one value. A subclass declares them as annotated class
    attributes, ``name: Annotated[type, option(...)] = default``, in ``--help`` order; an
    instance holds what was given. (A plain class: a dataclass costs about a millisecond of
    start-up to make.)"""

    def __init__(self, **values: Any) -> None:
        vars(self).update(values)

    @classmethod
    def parameters(cls) -> list[inspect.Parameter]:
        """The options as the keyword-only parameters Typer reads."""
        hints = get_type_hints(cls, include_extras=True)
        return [
            inspect.Parameter(name, KEYWORD_ONLY, default=getattr(cls, name), annotation=hint)
            for name, hint in hints.items()
        ]

    def values(self) -> dict[str, Any]:
        """What was given, by option."""
        return dict(vars(self))


G = TypeVar("G", bound=OptionGroup)


def option_group(group: type[G], *, at: str) -> Callable[[Command[R]], Command[R]]:
    """Give a command the options of ``group`` where its ``at`` parameter stands; it gets them
    as one ``group``."""
    return grouped(at, group.parameters(), lambda values: group(**values))


def grouped(
    at: str,
    options: Sequence[inspect.Parameter],
    make: Callable[[dict[str, Any]], object],
    *,
    closing: Sequence[inspect.Parameter] = (),
) -> Callable[[Command[R]], Command[R]]:
    """Put ``options`` in a command's signature where its ``at`` parameter (keyword-only, no
    default) stands, and ``closing`` at the end. Typer reads the signature and annotations set
    here; the command is called with ``make(values)`` for ``at``, ``values`` being what was
    given for ``options`` and ``closing`` (but ``debug``: ``@guarded``, above, has read it)."""
    taken = [p.name for p in [*options, *closing] if p.name != "debug"]
    read_by_guarded = any(p.name == "debug" for p in closing)

    def decorate(func: Command[R]) -> Command[R]:
        own = _typer_parameters(func)
        names = [p.name for p in own]
        if at not in names or not _placeholder(own[names.index(at)]):
            raise TypeError(f"{func.__name__} must declare a keyword-only '{at}' parameter")
        i = names.index(at)
        parameters = [*own[:i], *options, *own[i + 1 :], *closing]

        @functools.wraps(func)
        def command(**kwargs: Any) -> R:
            values = {name: kwargs.pop(name) for name in taken}
            if read_by_guarded:
                del kwargs["debug"]
            return func(**kwargs, **{at: make(values)})

        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        return command

    return decorate


def _placeholder(parameter: inspect.Parameter) -> bool:
    """A group's place: keyword-only, without a default."""
    return parameter.kind is KEYWORD_ONLY and parameter.default is inspect.Parameter.empty


def _typer_parameters(func: Callable[..., Any]) -> list[inspect.Parameter]:
    """``func``'s parameters with their annotations as objects, as Typer needs them (modules
    with ``from __future__ import annotations`` hold strings). A placeholder's annotation stays
    a string: Typer never sees it, and it may name a type imported for type checking only
    (``RequestFlags``: config.settings costs start-up time)."""
    return [
        p.replace(annotation=eval(p.annotation, func.__globals__))
        if isinstance(p.annotation, str) and not _placeholder(p)
        else p
        for p in inspect.signature(func).parameters.values()
    ]


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


ConfigOpt = Annotated[
    Path | None, option("--config PATH", "Config file. Env: DEEPSEEK_CLI_CONFIG.")
]
DebugOpt = Annotated[bool, option("--debug", "Show tracebacks on errors (keys redacted).")]
JsonOpt = Annotated[bool, option("--json", "Print JSON.")]

# What ``usage`` and ``usage calls`` select from the ledger by (``ledger.reports.parse_when``
# reads the times).
SinceOpt = Annotated[
    str,
    option(
        "--since WHEN",
        "Start: 7d, 12h, 2w, today, yesterday, all, a date (local midnight) or an ISO time.",
    ),
]
UntilOpt = Annotated[
    str | None,
    option("--until WHEN", "End (exclusive); a bare date includes that whole day. Default: now."),
]
ProfileFilterOpt = Annotated[
    str | None,
    option(
        "-p, --profile NAME", "Only calls made with this profile.", autocompletion=complete_profiles
    ),
]
ModelFilterOpt = Annotated[
    str | None,
    option("-m, --model MODEL", "Only calls to this model.", autocompletion=complete_models),
]


class _Closing(OptionGroup):
    """The options every command ends with."""

    config: ConfigOpt = None
    debug: DebugOpt = False


_request = functools.partial(option, panel=REQUEST_PANEL)


def _timeout_option(default: float) -> Any:
    return _request(
        "--timeout SECONDS",
        f"Total time limit per attempt (default: the profile's timeout, else {default:g}).",
        min=0.1,
    )


class _RequestOptions(OptionGroup):
    """The request options in ``--help`` order, named after the ``RequestFlags`` fields they
    fill (``--think`` fills ``thinking``). A declaration only: commands get a RequestFlags."""

    profile: Annotated[
        str | None,
        _request(
            "-p, --profile NAME",
            "Profile: built-in (intl, cn, us, intl-native, cn-native, us-native, deepseek, "
            "local) or from config.toml. Env: DEEPSEEK_CLI_PROFILE.",
            autocompletion=complete_profiles,
        ),
    ] = None
    model: Annotated[
        str | None,
        _request(
            "-m, --model MODEL",
            "Model id. Env: DEEPSEEK_CLI_MODEL.",
            autocompletion=complete_models,
        ),
    ] = None
    thinking: Annotated[
        bool | None, _request("--think/--no-think", "Switch thinking on or off (hybrid models).")
    ] = None
    thinking_budget: Annotated[
        int | None, _request("--budget TOKENS", "Thinking budget in tokens (DashScope).", min=1)
    ] = None
    reasoning_effort: Annotated[
        str | None,
        _request(
            "--effort LEVEL",
            "Reasoning effort: minimal, low, medium, high, xhigh, max, ultra "
            "(mapped to what the model accepts, with a notice).",
        ),
    ] = None
    system: Annotated[str | None, _request("-s, --system TEXT", "System prompt.")] = None
    temperature: Annotated[
        float | None,
        _request("-t, --temperature FLOAT", "Sampling temperature.", min=0.0, max=2.0),
    ] = None
    top_p: Annotated[
        float | None, _request("--top-p FLOAT", "Nucleus sampling.", min=0.0, max=1.0)
    ] = None
    max_tokens: Annotated[
        int | None, _request("--max-tokens N", "Maximum answer tokens.", min=1)
    ] = None
    search: Annotated[
        bool | None,
        _request("--search/--no-search", "Web search (DashScope models that have it)."),
    ] = None
    extra: Annotated[
        list[str] | None,
        _request(
            "-x, --extra KEY=VALUE",
            "Raw request body field; VALUE is parsed as JSON when it parses. Repeatable.",
        ),
    ] = None
    timeout: Annotated[float | None, _timeout_option(600)] = None


_REQUEST_OPTIONS = _RequestOptions.parameters()
_CLOSING = _Closing.parameters()


def request_options(
    *, without: Collection[str] = (), timeout_default: float | None = None
) -> Callable[[Command[R]], Command[R]]:
    """Give a command the request options, ``--config`` and ``--debug``; it gets a
    ``RequestFlags`` instead.

    The command declares a ``flags: RequestFlags`` parameter (keyword-only, after options
    with defaults) where the request options belong in its ``--help``; ``--config`` and
    ``--debug`` close the list, as on every command. ``without`` names request options the
    command does not take; ``timeout_default`` is the command's own default for ``--timeout``
    when it is not the usual one (``--help`` must show the default that applies). Goes under
    ``@guarded``, which reads ``debug``.
    """
    unknown = set(without) - {p.name for p in _REQUEST_OPTIONS}
    if unknown:
        raise ValueError(f"not request options: {sorted(unknown)}")
    taken = [p for p in _REQUEST_OPTIONS if p.name not in without]
    if timeout_default is not None:
        timeout = Annotated[float | None, _timeout_option(timeout_default)]
        taken = [p.replace(annotation=timeout) if p.name == "timeout" else p for p in taken]
    return grouped("flags", taken, _request_flags, closing=_CLOSING)


def _request_flags(values: dict[str, Any]) -> "RequestFlags":
    from deepseek_cli.config.settings import RequestFlags

    return RequestFlags(**{**values, "extra": tuple(values.get("extra") or ())})


class ProfileChoice(NamedTuple):
    """``-p``, ``-m`` and ``--config`` of a command that sends no chat request (``models``,
    ``usage balance``, ``config show``...) as given, ``None`` where not."""

    profile: str | None
    config: Path | None
    model: str | None = None

    def file(self) -> tuple[Path, bool]:
        """The config file, and whether it was named explicitly (then it must exist)."""
        from deepseek_cli.config.view import config_path

        return config_path(os.environ, self.config)

    def load(self) -> "tuple[ConfigFile, Profile]":
        """The config file and the profile the command would use: file < environment < flags."""
        from deepseek_cli.config.view import load_profile

        return load_profile(os.environ, self.config, profile=self.profile, model=self.model)


def profile_options(*, model: bool = False) -> Callable[[Command[R]], Command[R]]:
    """Give a command that sends no chat request ``-p`` (and ``-m`` with ``model``), as the
    request options spell them, ``--config`` and ``--debug``; it gets a :class:`ProfileChoice`.

    The command declares a keyword-only ``choice: ProfileChoice`` parameter where ``-p``
    belongs in its ``--help``. Goes under ``@guarded``, which reads ``debug``.
    """
    names = ("profile", "model") if model else ("profile",)
    taken = [p for p in _REQUEST_OPTIONS if p.name in names]
    return grouped("choice", taken, lambda values: ProfileChoice(**values), closing=_CLOSING)
