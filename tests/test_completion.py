"""Shell completion: the scripts in ``completions/`` are current, and TAB offers live values."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = "for s in bash zsh fish; do deepseek completion $s > completions/deepseek.$s; done"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_pregenerated_scripts_are_current(cli, shell):
    result = cli.run("completion", shell)
    assert result.code == 0, result.stderr
    assert "_DEEPSEEK_COMPLETE" in result.stdout
    stored = (ROOT / "completions" / f"deepseek.{shell}").read_text()
    assert stored == result.stdout, f"completions/deepseek.{shell} is stale; run: {REGENERATE}"


def test_unknown_shell_is_a_usage_error(cli):
    assert cli.run("completion", "tcsh").code == 2


def complete_bash(cli, line: str) -> list[str]:
    """What ``deepseek`` answers when bash asks for completions of ``line``."""
    words = line.split(" ")
    env = {
        "_DEEPSEEK_COMPLETE": "complete_bash",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
    }
    result = cli.run(env=env)
    assert result.code == 0, result.stderr
    return result.stdout.split()


def test_subcommands_complete(cli):
    assert complete_bash(cli, "deepseek mo") == ["models"]
    assert set(complete_bash(cli, "deepseek ")) >= {
        "ask",
        "models",
        "usage",
        "config",
        "completion",
    }
    assert complete_bash(cli, "deepseek config s") == ["show", "set"]
    assert complete_bash(cli, "deepseek usage b") == ["balance"]


def test_profiles_complete_from_the_config_file(cli):
    offered = complete_bash(cli, "deepseek ask -p ")
    assert {"ds", "dsc", "dsn", "oai", "intl", "cn-native", "deepseek"} <= set(offered)
    assert complete_bash(cli, "deepseek models -p ds") == ["ds", "dsc", "dsn"]
    cli.write_config('[profiles.work]\nprovider = "deepseek"\n')
    assert "work" in complete_bash(cli, "deepseek config show -p w")


def test_models_complete_for_the_typed_profile(cli):
    deepseek = complete_bash(cli, "deepseek ask -p ds -m deepseek-")
    assert "deepseek-flash" in deepseek and "deepseek-r1" not in deepseek
    dashscope = complete_bash(cli, "deepseek ask -p dsc -m deepseek-r1")
    assert "deepseek-r1-0528" in dashscope and "deepseek-reasoner" not in dashscope
    default = complete_bash(cli, "deepseek ask -m deepseek-f")  # default profile ds
    assert default == ["deepseek-flash"]
    assert complete_bash(cli, "deepseek models show deepseek-v4-p") == ["deepseek-v4-pro"]


def test_config_set_keys_complete(cli):
    assert complete_bash(cli, "deepseek config set ds.mo") == ["ds.model"]
    assert "default_profile" in complete_bash(cli, "deepseek config set d")
    assert "dsc." in complete_bash(cli, "deepseek config set ds")
    assert complete_bash(cli, "deepseek config set -p ds mo") == ["model"]


def test_usage_options_complete(cli):
    assert complete_bash(cli, "deepseek usage --by ") == ["day", "model", "profile", "command"]


def test_zsh_and_fish_formats(cli):
    zsh = cli.run(
        env={"_DEEPSEEK_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "deepseek ask -p ds"}
    )
    assert zsh.stdout.startswith("_arguments '*: :((") and '"dsc"' in zsh.stdout
    fish = cli.run(
        env={
            "_DEEPSEEK_COMPLETE": "complete_fish",
            "_TYPER_COMPLETE_ARGS": "deepseek mod",
            "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        }
    )
    assert fish.stdout.startswith("models\tList the models")


def deepseek_executable() -> str | None:
    candidate = Path(sys.executable).with_name("deepseek")
    return str(candidate) if candidate.exists() else shutil.which("deepseek")


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_bash_script_works_in_bash(cli):
    exe = deepseek_executable()
    if exe is None:
        pytest.skip("the deepseek console script is not installed")
    script = (ROOT / "completions" / "deepseek.bash").read_text()
    program = (
        script
        + "\nCOMP_WORDS=(deepseek ask -p ds); COMP_CWORD=3\n"
        + f'_deepseek_completion "{exe}"\n'
        + 'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        capture_output=True,
        text=True,
        env=cli.env,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ds", "dsc", "dsn"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_the_script_parses_in_its_shell(shell):
    exe = shutil.which(shell)
    if exe is None:
        pytest.skip(f"{shell} is not installed")
    path = ROOT / "completions" / f"deepseek.{shell}"
    check = [exe, "-n", str(path)] if shell == "zsh" else [exe, "--no-execute", str(path)]
    done = subprocess.run(check, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_the_fish_script_works_in_fish(cli):
    exe = deepseek_executable()
    if exe is None:
        pytest.skip("the deepseek console script is not installed")
    script = ROOT / "completions" / "deepseek.fish"
    done = subprocess.run(
        ["fish", "--no-config", "-c", f"source {script}; complete -C 'deepseek ask -p ds'"],
        capture_output=True,
        text=True,
        env={**cli.env, "PATH": f"{Path(exe).parent}:{cli.env['PATH']}"},
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ds", "dsc", "dsn"]
