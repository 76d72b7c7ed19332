"""``deepseek completion bash|zsh|fish`` and the answers to the shells' completion requests.

The scripts are Typer's (the root app has ``add_completion=False`` so that ``--help`` does not
list ``--install-completion``, and because we print scripts rather than edit rc files). They
hold nothing about our commands: on every TAB the shell runs ``deepseek`` with
``_DEEPSEEK_COMPLETE=complete_<shell>`` and the words typed so far, and Click walks the real
command tree, so commands, options, profiles (``complete_profiles``) and model ids
(``complete_models``) are always current. The same scripts are pre-generated in
``completions/`` for packagers; a test fails when they go stale.

With ``add_completion=False`` Typer never registers its shell classes (its zsh and fish
formats differ from Click's), so :func:`init_shell_completion` does, and only when a
completion request is running. Our zsh and fish classes skip Typer's Rich-markup cleaning of
help texts: ``rich_markup_mode=None`` means there is no markup, and importing Rich would cost
~45 ms on every TAB.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

import typer

from deepseek_cli.cli.boundary import guarded

PROG_NAME = "deepseek"
COMPLETE_VAR = "_DEEPSEEK_COMPLETE"

EPILOG = """\b
Examples:
  deepseek completion bash > ~/.local/share/bash-completion/completions/deepseek
  deepseek completion fish > ~/.config/fish/completions/deepseek.fish
  deepseek completion zsh > ~/.deepseek-completion.zsh
      # then in ~/.zshrc, after compinit: source ~/.deepseek-completion.zsh
  eval "$(deepseek completion bash)"     # this shell only

\b
Commands, options, profile names and model ids complete; the lists come from
deepseek itself at each TAB, so they follow your config.toml and the catalog.
"""


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def script(shell: str) -> str:
    """The completion script for ``shell``, exactly as ``completions/`` holds it."""
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name=PROG_NAME, complete_var=COMPLETE_VAR, shell=shell) + "\n"


def init_shell_completion() -> None:
    """Register the bash/zsh/fish request formats that Typer's scripts speak."""
    from typer import _completion_classes as tc
    from typer._click.shell_completion import add_completion_class

    class ZshComplete(tc.ZshComplete):
        def format_completion(self, item: Any) -> str:
            def escape(s: str) -> str:
                return (
                    s.replace('"', '""')
                    .replace("'", "''")
                    .replace("$", "\\$")
                    .replace("`", "\\`")
                    .replace(":", r"\\:")
                )

            if item.help:
                return f'"{escape(item.value)}":"{escape(item.help)}"'
            return f'"{escape(item.value)}"'

    class FishComplete(tc.FishComplete):
        def format_completion(self, item: Any) -> str:
            if item.help:
                flat = re.sub(r"\s", " ", item.help)
                return f"{item.value}\t{flat}"
            return f"{item.value}"

    tc.completion_init()
    add_completion_class(ZshComplete, "zsh")
    add_completion_class(FishComplete, "fish")


@guarded
def completion(
    shell: Annotated[Shell, typer.Argument(metavar="SHELL", help="bash, zsh or fish.")],
) -> None:
    """Print the shell completion script (profiles and models complete dynamically)."""
    from deepseek_cli.render.stdout import emit

    emit(script(shell.value))
