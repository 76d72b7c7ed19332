"""The ``deepseek`` Typer application: global options and command registration."""

from __future__ import annotations

import os
from typing import Annotated, ClassVar

import typer

from deepseek_cli import __version__
from deepseek_cli.cli.boundary import debug_mode
from deepseek_cli.cli.lazy import LazyGroup
from deepseek_cli.cli.options import option
from deepseek_cli.cli.typer_apps import new_app

if "_DEEPSEEK_COMPLETE" in os.environ:
    # A shell is asking for completions (TAB): register the formats its script speaks.
    from deepseek_cli.cli.completion import init_shell_completion

    init_shell_completion()


class RootGroup(LazyGroup):
    # Built on first use: see cli/lazy.py (start-up pays only for the command run).
    lazy_commands: ClassVar[dict[str, str]] = {
        "ask": "deepseek_cli.cli.ask:ask",
        "chat": "deepseek_cli.cli.chat:chat",
        "batch": "deepseek_cli.cli.batch.app:app",
        "compare": "deepseek_cli.cli.compare:compare",
        "models": "deepseek_cli.cli.models:app",
        "usage": "deepseek_cli.cli.usage:app",
        "config": "deepseek_cli.cli.config_cmd:app",
        "tools": "deepseek_cli.cli.tools_cmd:tools",
        "completion": "deepseek_cli.cli.completion:completion",
    }


app = new_app(
    name="deepseek",
    help="Chat with DeepSeek-family models on DashScope (Model Studio), DeepSeek's API and "
    "OpenAI-compatible servers.",
    no_args_is_help=True,
    cls=RootGroup,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"deepseek-cli {__version__}")
        raise typer.Exit


@app.callback()
def root(
    version: Annotated[
        bool, option("--version", "Show the version.", callback=_version, is_eager=True)
    ] = False,
    debug: Annotated[bool, option("--debug", "Show tracebacks on errors.")] = False,
) -> None:
    """Chat with DeepSeek-family models from the terminal."""
    debug_mode["on"] = debug
