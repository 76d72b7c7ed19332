"""``deepseek config path|show|profiles|init|set|doctor``: see, create, change and check config.

Glue only: the rules for writing the file live in ``config.edit``, what ``show`` reports in
``config.view``, and the checks in ``backends.doctor``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from deepseek_cli.cli.boundary import guarded
from deepseek_cli.cli.options import (
    ConfigOpt,
    DebugOpt,
    JsonOpt,
    ProfileChoice,
    complete_profiles,
    option,
    profile_options,
)
from deepseek_cli.cli.typer_apps import new_app

EPILOG = """\b
Examples:
  deepseek config init                 # a commented starting config.toml
  deepseek config show -p deepseek     # what `ask -p deepseek` would use
  deepseek config set intl.model deepseek-v4-flash
  deepseek config doctor -p cn         # key, host, key accepted, region
  $EDITOR "$(deepseek config path)"
"""

app = new_app(
    name="config",
    help="Show, create, change and check the configuration (config.toml).",
    epilog=EPILOG,
    no_args_is_help=True,
)


def _config_path(config: Path | None) -> tuple[Path, bool]:
    from deepseek_cli.config.view import config_path

    return config_path(os.environ, config)


@app.command(
    epilog="""\b
Examples:
  deepseek config path
  deepseek config path --all
  $EDITOR "$(deepseek config path)"
"""
)
@guarded
def path(
    all_paths: Annotated[
        bool, option("--all", "Also the data directory and the usage ledger.")
    ] = False,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Print the config file's path (it may not exist yet)."""
    from deepseek_cli.config import paths
    from deepseek_cli.render.stdout import emit
    from deepseek_cli.render.tables import fields_text

    file, _ = _config_path(config)
    if not all_paths:
        emit(f"{file}\n")
        return
    emit(
        fields_text(
            [
                ("config", f"{file}{'' if file.exists() else ' (missing)'}"),
                ("data", str(paths.data_dir(os.environ))),
                ("usage ledger", str(paths.ledger_file(os.environ))),
            ]
        )
    )


@app.command(
    epilog="""\b
Examples:
  deepseek config show
  deepseek config show -p cn -m deepseek-v3.2
  deepseek config show --json | jq .api_key.source

\b
The key is shown masked (at most its last 4 characters) with its source.
"""
)
@guarded
@profile_options(model=True)
def show(*, choice: ProfileChoice, json_output: JsonOpt = False) -> None:
    """Print the resolved profile: URL, model, defaults, and the key's source (redacted)."""
    from deepseek_cli.config import paths
    from deepseek_cli.config import view as config_view
    from deepseek_cli.render.stdout import emit, emit_json
    from deepseek_cli.render.tables import fields_text

    loaded, prof = choice.load()
    key = config_view.key_status(prof, os.environ, loaded)
    selected = config_view.selected_by(choice.profile, os.environ, loaded.data)
    ledger = paths.ledger_file(os.environ)
    if json_output:
        emit_json(
            config_view.profile_json(prof, loaded, key, selected=selected, ledger=ledger), indent=2
        )
        return
    fields = config_view.profile_fields(prof, loaded, key, selected=selected, ledger=ledger)
    emit(fields_text(fields))


@app.command(
    epilog="""\b
Examples:
  deepseek config profiles
  deepseek config profiles --json | jq -r '.[] | select(.provider=="dashscope") | .name'
"""
)
@guarded
def profiles(
    json_output: JsonOpt = False, config: ConfigOpt = None, debug: DebugOpt = False
) -> None:
    """List every profile, built-in and from config.toml; * marks the default."""
    from deepseek_cli.config import view as config_view
    from deepseek_cli.config.files import load_config_file
    from deepseek_cli.render.stdout import emit_json
    from deepseek_cli.render.tables import Column, print_table

    file, explicit = _config_path(config)
    loaded = load_config_file(file, required=explicit)
    rows = config_view.profile_rows(loaded.data, os.environ)
    if json_output:
        emit_json([r.to_json() for r in rows], indent=2)
        return
    columns = [
        Column(""),
        Column("Name", style="bold", no_wrap=True, title=True),
        Column("Provider"),
        Column("Region"),
        Column("API"),
        Column("Model"),
        Column("Base URL"),
        Column("Origin"),
    ]
    cells: list[list[str | list[str]]] = []
    for r in rows:
        p = r.profile
        if p is None:
            cells.append(
                ["*" if r.is_default else "", r.name, "-", "-", "-", "-", r.problem or "", r.origin]
            )
            continue
        cells.append(
            [
                "*" if r.is_default else "",
                r.name,
                p.provider,
                p.region or "-",
                p.api if p.provider == "dashscope" else "-",
                p.model,
                p.base_url,
                r.origin,
            ]
        )
    print_table(
        columns,
        cells,
        title=f"Profiles ({loaded.path})",
        row_styles=["red" if r.problem else None for r in rows],
    )


@app.command(
    epilog="""\b
Examples:
  deepseek config init
  deepseek config init --default-profile deepseek
  deepseek config init --force         # replace; the old file is kept as config.toml.bak
"""
)
@guarded
def init(
    default_profile: Annotated[
        str,
        option(
            "--default-profile NAME",
            "The default profile to write.",
            autocompletion=complete_profiles,
        ),
    ] = "intl",
    force: Annotated[bool, option("--force", "Replace an existing file (kept as a .bak).")] = False,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Write a commented starting config.toml (0600, atomically); never overwrites silently."""
    from deepseek_cli.config.edit import init_config, init_report
    from deepseek_cli.render import stderr as say
    from deepseek_cli.render.stdout import emit

    file, _ = _config_path(config)
    backup = init_config(file, default_profile=default_profile, force=force)
    if backup is not None:
        say.notice(f"the previous file is saved as {backup}")
    emit(init_report(file, default_profile, os.environ))


def complete_settings(ctx: typer.Context, incomplete: str) -> list[str]:
    """``default_profile``, ``log_prompts`` and ``PROFILE.FIELD`` for every known profile;
    after ``-p NAME``, the fields of a profile."""
    from deepseek_cli.config.files import PROFILE_KEYS, TOP_LEVEL_KEYS

    if ctx.params.get("profile"):
        return [k for k in PROFILE_KEYS if k.startswith(incomplete)]
    names = [k for k in TOP_LEVEL_KEYS if k != "profiles"]
    if "." in incomplete:
        profile = incomplete.removeprefix("profiles.").rpartition(".")[0]
        prefix = incomplete[: len(incomplete) - len(incomplete.rpartition(".")[2])]
        names += [prefix + k for k in PROFILE_KEYS] if profile else []
    else:
        names += [f"{p}." for p in complete_profiles("")]
    return [n for n in names if n.startswith(incomplete)]


@app.command(
    name="set",
    epilog="""\b
Examples:
  deepseek config set default_profile deepseek
  deepseek config set intl.model deepseek-v4-flash
  deepseek config set -p intl model deepseek-v4-flash   # the same
  deepseek config set work.provider deepseek      # a new profile: provider first
  deepseek config set intl.thinking false
  deepseek config set intl.extra_body '{"top_k": 20}'
  deepseek config set intl.thinking_budget --unset
  pass show deepseek | deepseek config set work.api_key -

\b
Comments and layout are kept. A config that does not parse is never rewritten
(exit 78). An API key is read from stdin (or a hidden prompt), never from the
command line, and only into a file that only you can read.
""",
)
@guarded
def set_(
    key: Annotated[
        str,
        typer.Argument(
            metavar="KEY",
            help="default_profile, log_prompts, or PROFILE.FIELD (e.g. intl.model); "
            "with -p, a FIELD of that profile (e.g. model).",
            autocompletion=complete_settings,
        ),
    ],
    value: Annotated[
        str | None,
        typer.Argument(metavar="VALUE", help="The new value."),
    ] = None,
    profile: Annotated[
        str | None,
        option(
            "-p, --profile NAME",
            "Set a field of this profile: `-p intl model X` is `intl.model X`.",
            autocompletion=complete_profiles,
        ),
    ] = None,
    unset: Annotated[bool, option("--unset", "Remove the setting.")] = False,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Change one setting in config.toml, keeping comments; creates the file (0600) if needed."""
    from deepseek_cli.config.edit import coerce, parse_key, set_value
    from deepseek_cli.config.view import value_text
    from deepseek_cli.errors import UsageError
    from deepseek_cli.redaction import mask, register_secret
    from deepseek_cli.render.stdout import emit

    setting = parse_key(key, profile=profile)
    if unset == (value is not None):
        raise UsageError("give a VALUE or --unset (not both)")
    new_value = None
    if value is not None:
        if setting.field == "api_key":
            if value != "-":
                raise UsageError(
                    "an API key is not accepted on the command line (ps and shell history show it)",
                    f"pipe it in: ... | deepseek config set {f'-p {profile} ' if profile else ''}"
                    f"{key} -",
                )
            value = _read_secret()
            register_secret(value)
        new_value = coerce(setting, value)
    file, _ = _config_path(config)
    change = set_value(file, setting, new_value, unset=unset)
    if unset:
        emit(f"{change.path}: {setting.dotted} removed\n")
        return
    shown = mask(str(new_value)) if setting.field == "api_key" else value_text(new_value)
    emit(f"{change.path}: {setting.dotted} = {shown}\n")


def _read_secret() -> str:
    """The key's first line from stdin (or a hidden prompt), bounded, in a key's form."""
    from deepseek_cli.config.keys import MAX_KEY_COMMAND_OUTPUT, checked_key
    from deepseek_cli.errors import UsageError

    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        secret = getpass.getpass("API key (hidden): ")
    else:
        line = sys.stdin.buffer.readline(MAX_KEY_COMMAND_OUTPUT) if sys.stdin is not None else b""
        secret = line.decode("utf-8", "replace")
    if not secret.strip():
        raise UsageError("no key given on stdin")
    return checked_key(secret, "stdin")


@app.command(
    epilog="""\b
Examples:
  deepseek config doctor
  deepseek config doctor -p cn
  deepseek config doctor -p deepseek && deepseek batch run jobs.jsonl

\b
Checks: the config file, the profile, the key (found and allowed), the host
(TCP connect), the key accepted (the provider's model list), the model, and
each [mcp.NAME] server (started, its tools counted).
Exit status: 0 when nothing failed, else that of the first failure
(78 config or key, 69 host unreachable, 77 key rejected).
"""
)
@guarded
@profile_options(model=True)
def doctor(*, choice: ProfileChoice) -> None:
    """Check a profile end to end: key present, host reachable, key accepted, region."""
    from deepseek_cli.backends.doctor import DoctorFailed, run_checks
    from deepseek_cli.render.stderr import use_color
    from deepseek_cli.render.stdout import emit

    file, explicit = choice.file()
    checks = run_checks(
        os.environ, file, explicit=explicit, profile_name=choice.profile, model=choice.model
    )
    if checks[0].status != "fail":
        from deepseek_cli.config.files import load_config_file
        from deepseek_cli.tools.doctor import mcp_checks

        checks += mcp_checks(load_config_file(file, required=explicit).data)
    colour = use_color(sys.stdout)
    styles = {"ok": "\x1b[32m", "warn": "\x1b[33m", "fail": "\x1b[1;31m", "skip": "\x1b[2m"}
    width = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        tag = (c.status.upper() if c.status == "fail" else c.status).ljust(4)
        if colour:
            tag = f"{styles[c.status]}{tag}\x1b[0m"
        lines.append(f"{tag}  {c.name.ljust(width)}  {c.detail}")
    emit("\n".join(lines) + "\n")
    failed = [c for c in checks if c.status == "fail"]
    if failed:
        raise DoctorFailed(failed)
