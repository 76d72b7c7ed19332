"""The ``deepseek`` Typer application: global options and command registration."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__
from . import ask as ask_module
from .boundary import debug_mode

app = typer.Typer(
    name="deepseek",
    help="Chat with DeepSeek-family models on DashScope (Model Studio), DeepSeek's API and "
    "OpenAI-compatible servers.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"deepseek-cli {__version__}")
        raise typer.Exit


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Chat with DeepSeek-family models from the terminal."""
    debug_mode["on"] = debug


app.command(epilog=ask_module.EPILOG)(ask_module.ask)
