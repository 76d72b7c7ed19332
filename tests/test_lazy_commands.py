"""Commands are built only when used (``cli/lazy.py``): ``deepseek models`` imports the models
command and nothing of the others, while ``deepseek --help`` needs every command's summary."""

from __future__ import annotations

import pytest

PLUMBING = {
    "deepseek_cli.cli.app",
    "deepseek_cli.cli.boundary",
    "deepseek_cli.cli.lazy",
    "deepseek_cli.cli.options",
    "deepseek_cli.cli.typer_apps",
}


def loaded_modules(cli, *args: str) -> set[str]:
    """Our CLI modules that running ``deepseek ARGS`` loaded."""
    return set(
        cli.probe('sorted(m for m in sys.modules if m.startswith("deepseek_cli.cli."))', *args)
    )


@pytest.mark.parametrize(
    ("args", "command_modules"),
    [
        (["models"], {"deepseek_cli.cli.models"}),
        (["usage", "--json"], {"deepseek_cli.cli.usage", "deepseek_cli.cli.usage_calls"}),
        (["usage", "calls"], {"deepseek_cli.cli.usage", "deepseek_cli.cli.usage_calls"}),
        (
            ["batch", "estimate", "--help"],
            {
                "deepseek_cli.cli.batch",
                "deepseek_cli.cli.batch.app",
                "deepseek_cli.cli.batch.help_texts",
                "deepseek_cli.cli.batch.local_commands",
                "deepseek_cli.cli.batch.options",
                "deepseek_cli.cli.batch.remote_commands",
            },
        ),
    ],
    ids=["models", "usage", "usage calls", "batch estimate --help"],
)
def test_a_command_loads_only_itself(cli, args, command_modules):
    assert loaded_modules(cli, *args) == PLUMBING | command_modules


def test_help_lists_every_command(cli):
    result = cli.run("--help")
    assert result.code == 0, result.stderr
    commands = result.stdout.split("Commands:")[1].split()
    for name in ("ask", "chat", "batch", "models", "usage", "config", "completion"):
        assert name in commands
