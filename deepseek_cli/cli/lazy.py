"""A root command group that builds a subcommand only when it is used.

Typer turns every registered command into a Click command up front, inspecting each
function's signature and resolving its annotations: about 1 ms per command, on every run,
whatever the user typed. With a dozen subcommands that alone was a third of the start-up of
``deepseek models``. Commands listed in ``lazy_commands`` (``name -> "module:attribute"``;
the attribute is a Typer app, or a command function whose module's ``EPILOG`` holds its
examples) are imported and built on first use, so ``deepseek models`` pays for ``models``
only and a TAB pays for the command being completed. ``deepseek --help`` and completing the
command name itself still load them all (they need every command's one-line help). Commands
registered the usual Typer way keep working.
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

import typer
from typer.core import TyperGroup

from deepseek_cli.cli.typer_apps import new_app


class LazyGroup(TyperGroup):
    lazy_commands: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[str, Any] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        eager = super().list_commands(ctx)
        return [*eager, *(name for name in self.lazy_commands if name not in eager)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.lazy_commands or cmd_name in self.commands:
            return super().get_command(ctx, cmd_name)
        if cmd_name not in self._loaded:
            module_name, _, attribute = self.lazy_commands[cmd_name].partition(":")
            module = importlib.import_module(module_name)
            target = getattr(module, attribute)
            if not isinstance(target, typer.Typer):
                # A command function, with its module's EPILOG as examples (as ask.py has).
                single = new_app()
                single.command(name=cmd_name, epilog=getattr(module, "EPILOG", None))(target)
                target = single
            # A Typer app with one command and no callback becomes that command itself.
            command = typer.main.get_command(target)
            # Click names the invoked command after command.name (usage lines, errors).
            command.name = cmd_name
            self._loaded[cmd_name] = command
        return self._loaded[cmd_name]
