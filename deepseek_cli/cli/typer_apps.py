"""How every Typer app of ours is made: the settings they all share, said once.

- ``rich_markup_mode=None``: help is plain Click text; Typer's Rich help would import Rich
  (~45 ms) on every ``--help`` and TAB.
- ``add_completion=False``: no ``--install-completion``; ``deepseek completion SHELL`` prints
  the scripts instead of editing rc files (see ``completion``).
- ``pretty_exceptions_enable=False``: failures are reported by ``boundary``, never as Rich
  tracebacks (which could show local variables, keys among them).
- ``-h`` works like ``--help``.
"""

from __future__ import annotations

from typing import Any

import typer


def new_app(**settings: Any) -> typer.Typer:
    """A Typer app with our shared settings and the given ones (name, help, epilog...)."""
    return typer.Typer(
        rich_markup_mode=None,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
        **settings,
    )
