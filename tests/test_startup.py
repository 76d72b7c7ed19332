"""The start-up path stays light: no SDK for ``--help``, ``models``, ``usage`` or a TAB, and every
command documents itself with examples. (Timing is shown by ``benchmarks/startup.py``, not
asserted here: wall-clock limits in tests only measure how busy the machine is.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Runs the CLI in-process (as the console script does) and reports what got imported.
PROBE = """
import json, sys
sys.argv = ["deepseek", *json.loads(sys.argv[1])]
try:
    from deepseek_cli.__main__ import main
    main()
except SystemExit:
    pass
heavy = ("openai", "dashscope", "httpx", "httpx2", "aiohttp", "rich", "tomlkit")
print("\\nIMPORTED " + json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""

# No case may import an SDK; the piped and TAB paths must not pay for Rich or tomlkit either.
CASES = {
    "help": (["--help"], {}),
    "models help": (["models", "--help"], {}),
    "models": (["models"], {}),
    "models json": (["models", "--json", "--all"], {}),
    "models show": (["models", "show", "deepseek-v4-pro"], {}),
    "usage": (["usage"], {}),
    "usage json": (["usage", "--json", "--by", "day"], {}),
    "config show": (["config", "show"], {}),
    "config profiles": (["config", "profiles"], {}),
    "completion script": (["completion", "zsh"], {}),
    "tab (bash)": (
        [],
        {
            "_DEEPSEEK_COMPLETE": "complete_bash",
            "COMP_WORDS": "deepseek ask -m deepseek-",
            "COMP_CWORD": "3",
        },
    ),
    "tab (zsh)": (
        [],
        {"_DEEPSEEK_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "deepseek mod"},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_light_commands_import_no_sdk_rich_or_tomlkit(cli, case):
    args, extra = CASES[case]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        env={**cli.env, **extra},
        cwd=cli.home,
        timeout=60,
        check=False,
    )
    cli.outputs += [done.stdout, done.stderr]
    marker = [line for line in done.stdout.splitlines() if line.startswith("IMPORTED ")]
    assert marker, done.stdout + done.stderr
    assert json.loads(marker[-1].removeprefix("IMPORTED ")) == [], done.stdout


HELP = [
    ["models"],
    ["models", "show"],
    ["usage"],
    ["usage", "balance"],
    ["config"],
    ["config", "path"],
    ["config", "show"],
    ["config", "profiles"],
    ["config", "init"],
    ["config", "set"],
    ["config", "doctor"],
    ["completion"],
]


@pytest.mark.parametrize("args", HELP, ids=" ".join)
def test_every_command_has_help_with_examples(cli, args):
    result = cli.run(*args, "--help")
    assert result.code == 0, result.stderr
    assert "Examples:" in result.stdout
    assert f"deepseek {' '.join(args)}" in result.stdout.split("Examples:")[1]
    assert "\x1b" not in result.stdout
