"""The start-up path stays light: no SDK for ``--help``, ``models``, ``usage`` or a TAB, and every
command documents itself with examples. (Timing is shown by ``benchmarks/startup.py``, not
asserted here: wall-clock limits in tests only measure how busy the machine is.)"""

from __future__ import annotations

import pytest

# No case may import an SDK; the piped and TAB paths must not pay for Rich or tomlkit either.
HEAVY = ("openai", "dashscope", "httpx", "httpx2", "aiohttp", "rich", "tomlkit", "mcp")
CASES = {
    "help": (["--help"], {}),
    "models help": (["models", "--help"], {}),
    "models": (["models"], {}),
    "models json": (["models", "--json", "--all"], {}),
    "models show": (["models", "show", "deepseek-v4-pro"], {}),
    "usage": (["usage"], {}),
    "usage json": (["usage", "--json", "--by", "day"], {}),
    "usage calls": (["usage", "calls"], {}),
    "usage calls json": (["usage", "calls", "--json", "--prompts", "--grep", "x"], {}),
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
    report = f"[m for m in {HEAVY!r} if m in sys.modules]"
    assert cli.probe(report, *args, env=extra) == []


HELP = [
    ["batch"],
    ["batch", "submit"],
    ["models"],
    ["models", "show"],
    ["usage"],
    ["usage", "balance"],
    ["usage", "calls"],
    ["config"],
    ["config", "path"],
    ["config", "show"],
    ["config", "profiles"],
    ["config", "init"],
    ["config", "set"],
    ["config", "doctor"],
    ["completion"],
    ["tools"],
    ["compare"],
]


@pytest.mark.parametrize("args", HELP, ids=" ".join)
def test_every_command_has_help_with_examples(cli, args):
    result = cli.run(*args, "--help")
    assert result.code == 0, result.stderr
    assert "Examples:" in result.stdout
    assert f"deepseek {' '.join(args)}" in result.stdout.split("Examples:")[1]
    assert "\x1b" not in result.stdout


USAGE_LINES = {
    ("batch", "run"): "Usage: deepseek batch run [OPTIONS] INPUT",
    ("batch", "estimate"): "Usage: deepseek batch estimate [OPTIONS] INPUT",
    ("batch", "submit"): "Usage: deepseek batch submit [OPTIONS] INPUT",
    ("batch", "status"): "Usage: deepseek batch status [OPTIONS] [JOB]",
    ("batch", "fetch"): "Usage: deepseek batch fetch [OPTIONS] JOB",
    ("batch", "cancel"): "Usage: deepseek batch cancel [OPTIONS] JOB",
    ("config", "set"): "Usage: deepseek config set [OPTIONS] KEY [VALUE]",
    ("models", "show"): "Usage: deepseek models show [OPTIONS] NAME",
    ("completion",): "Usage: deepseek completion [OPTIONS] SHELL",
    ("ask",): "Usage: deepseek ask [OPTIONS] [PROMPT...]",
    ("compare",): "Usage: deepseek compare [OPTIONS] INPUT",
}


@pytest.mark.parametrize("args", sorted(USAGE_LINES), ids=" ".join)
def test_usage_lines_write_arguments_as_manuals_do(cli, args):
    # Typer writes a required argument as {INPUT}, which reads like a set of choices.
    result = cli.run(*args, "--help")
    assert result.stdout.splitlines()[0] == USAGE_LINES[args]
