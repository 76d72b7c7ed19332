"""How every Typer app of ours is made: the settings they all share, said once.

- ``rich_markup_mode=None``: help is plain Click text; Typer's Rich help would import Rich
  (~45 ms) on every ``--help`` and TAB.
- ``add_completion=False``: no ``--install-completion``; ``deepseek completion SHELL`` prints
  the scripts instead of editing rc files (see ``completion``).
- ``pretty_exceptions_enable=False``: failures are reported by ``boundary``, never as Rich
  tracebacks (which could show local variables, keys among them).
- ``-h`` works like ``--help``.
- Usage lines show a required argument as ``INPUT``, the way manuals write it, not Typer's
  ``{INPUT}`` (which reads like a set of choices); optional ones stay ``[VALUE]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperCommand


class PlainUsageCommand(TyperCommand):
    """A command whose usage line writes required arguments bare: ``batch run INPUT``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces: list[str] = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]


class App(typer.Typer):
    """``typer.Typer`` whose commands are :class:`PlainUsageCommand` unless told otherwise."""

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **settings: Any
    ) -> Callable[[Any], Any]:
        return super().command(name, cls=cls or PlainUsageCommand, **settings)


def new_app(**settings: Any) -> typer.Typer:
    """A Typer app with our shared settings and the given ones (name, help, epilog...)."""
    return App(
        rich_markup_mode=None,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
        **settings,
    )
