"""Commands are built only when used (``cli/lazy.py``): ``deepseek models`` imports the models
command and nothing of the others, while ``deepseek --help`` needs every command's summary."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Runs the CLI in-process (as the console script does) and reports our CLI modules it loaded.
PROBE = """
import json, sys
sys.argv = ["deepseek", *json.loads(sys.argv[1])]
try:
    from deepseek_cli.__main__ import main
    main()
except SystemExit:
    pass
ours = sorted(m for m in sys.modules if m.startswith("deepseek_cli.cli."))
print("\\nLOADED " + json.dumps(ours))
"""

PLUMBING = {
    "deepseek_cli.cli.app",
    "deepseek_cli.cli.boundary",
    "deepseek_cli.cli.lazy",
    "deepseek_cli.cli.options",
    "deepseek_cli.cli.typer_apps",
}


def loaded_modules(cli, *args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        env=cli.env,
        cwd=cli.home,
        timeout=60,
        check=False,
    )
    cli.outputs += [done.stdout, done.stderr]
    marker = [line for line in done.stdout.splitlines() if line.startswith("LOADED ")]
    assert marker, done.stdout + done.stderr
    return set(json.loads(marker[-1].removeprefix("LOADED ")))


@pytest.mark.parametrize(
    ("args", "command_modules"),
    [
        (["models"], {"deepseek_cli.cli.models"}),
        (["usage", "--json"], {"deepseek_cli.cli.usage"}),
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
    ids=["models", "usage", "batch estimate --help"],
)
def test_a_command_loads_only_itself(cli, args, command_modules):
    assert loaded_modules(cli, *args) == PLUMBING | command_modules


def test_help_lists_every_command(cli):
    result = cli.run("--help")
    assert result.code == 0, result.stderr
    commands = result.stdout.split("Commands:")[1].split()
    for name in ("ask", "chat", "batch", "models", "usage", "config", "completion"):
        assert name in commands
