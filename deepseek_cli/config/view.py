"""What ``config show`` and ``config profiles`` report: resolved profiles as plain data.

The point of ``show`` is to answer "what would ``ask`` use, and why": which profile and where
that choice came from, the URL, the model, and the key's *source*. The key itself appears only
masked (at most its last four characters), and a key that cannot be used (missing, or in a
file others can read) is reported, not fatal: showing the problem is the job here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepseek_cli.catalog.models import load_catalog
from deepseek_cli.config import paths
from deepseek_cli.config.files import ConfigFile, load_config_file
from deepseek_cli.config.keys import ApiKey, resolve_api_key
from deepseek_cli.config.profiles import (
    BUILTIN_PROFILES,
    DEFAULT_PROFILE,
    Profile,
    Timeouts,
    profile_names,
    resolve_profile,
)
from deepseek_cli.errors import ConfigError
from deepseek_cli.redaction import mask, redact


def config_path(env: Mapping[str, str], override: Path | None) -> tuple[Path, bool]:
    """The config file, and whether it was named explicitly (then it must exist)."""
    path = paths.config_file(env, str(override) if override else None)
    return path, override is not None or bool(env.get("DEEPSEEK_CLI_CONFIG"))


def load_profile(
    env: Mapping[str, str],
    override: Path | None,
    *,
    profile: str | None,
    model: str | None = None,
) -> tuple[ConfigFile, Profile]:
    """The config file and the profile a command would use: file < environment < flags.

    What ``settings.load`` does minus the request options, for commands that send no chat
    request (``models``, ``usage balance``, ``config``) and should not import that machinery.
    """
    path, explicit = config_path(env, override)
    loaded = load_config_file(path, required=explicit)
    return loaded, resolve_profile(loaded.data, env, profile=profile, model=model)


def origin(name: str, data: Mapping[str, Any]) -> str:
    in_file = name in data.get("profiles", {})
    if name in BUILTIN_PROFILES:
        return "built-in, changed in config file" if in_file else "built-in"
    return "config file"


def selected_by(flag: str | None, env: Mapping[str, str], data: Mapping[str, Any]) -> str:
    if flag:
        return "-p/--profile"
    if env.get("DEEPSEEK_CLI_PROFILE"):
        return "DEEPSEEK_CLI_PROFILE"
    if data.get("default_profile"):
        return "default_profile in the config file"
    return f"built-in default ({DEFAULT_PROFILE})"


@dataclass(frozen=True)
class KeyStatus:
    key: ApiKey | None
    problem: ConfigError | None

    def text(self, profile: Profile) -> str:
        if self.problem is not None:
            hint = f" ({self.problem.hint})" if self.problem.hint else ""
            return redact(f"unusable: {self.problem.message}{hint}")
        if self.key is None:
            return "none (not needed for this server)"
        return f"{mask(self.key.value)} from {self.key.source}"

    def to_json(self) -> dict[str, Any]:
        if self.problem is not None:
            return {"source": None, "masked": None, "problem": redact(self.problem.message)}
        if self.key is None:
            return {"source": None, "masked": None, "problem": None}
        return {"source": self.key.source, "masked": mask(self.key.value), "problem": None}


def key_status(profile: Profile, env: Mapping[str, str], config: ConfigFile) -> KeyStatus:
    try:
        return KeyStatus(resolve_api_key(profile, env, config), None)
    except ConfigError as exc:
        return KeyStatus(None, exc)


def _timeouts(profile: Profile) -> dict[str, float]:
    t = profile.timeouts
    return {"connect": t.connect, "idle": t.idle, "first_token": t.first_token, "total": t.total}


def profile_json(
    profile: Profile,
    config: ConfigFile,
    key: KeyStatus,
    *,
    selected: str,
    ledger: Path,
) -> dict[str, Any]:
    info = load_catalog().find(profile.provider, profile.model)
    return {
        "profile": profile.name,
        "origin": origin(profile.name, config.data),
        "selected_by": selected,
        "provider": profile.provider,
        "region": profile.region,
        "region_name": profile.region_name,
        "api": profile.api,
        "base_url": profile.base_url,
        "model": profile.model,
        "model_in_catalog": info is not None,
        "model_status": info.status if info else None,
        "api_key": key.to_json(),
        "api_key_env": profile.api_key_env,
        "api_key_cmd": profile.api_key_cmd is not None,
        "request_defaults": dict(profile.request_defaults),
        "extra_body": dict(profile.extra_body),
        "batch_defaults": dict(profile.batch_defaults),
        "tools": list(profile.tools),
        "approve_tools": list(profile.approve_tools),
        "currency": profile.currency,
        "timeouts": _timeouts(profile),
        "config_file": {
            "path": str(config.path),
            "exists": config.exists,
            "private": config.private,
        },
        "ledger": str(ledger),
    }


def profile_fields(
    profile: Profile, config: ConfigFile, key: KeyStatus, *, selected: str, ledger: Path
) -> list[tuple[str, str]]:
    info = load_catalog().find(profile.provider, profile.model)
    model = profile.model
    if info is None:
        model += " (not in the catalog: limits and prices unknown)"
    elif line := info.status_line():
        model += f" ({line})"
    fields = [
        ("profile", f"{profile.name} ({origin(profile.name, config.data)}; chosen by {selected})"),
        ("provider", profile.provider),
    ]
    if profile.region:
        fields.append(("region", f"{profile.region} ({profile.region_name})"))
    if profile.provider == "dashscope":
        fields.append(("api", profile.api))
    fields += [("base_url", profile.base_url), ("model", model), ("api key", key.text(profile))]
    if profile.api_key_cmd:
        fields.append(("api_key_cmd", "set (its output is the key)"))
    for name, value in profile.request_defaults.items():
        fields.append((name, value_text(value)))
    if profile.extra_body:
        fields.append(("extra_body", value_text(profile.extra_body)))
    for name, value in profile.batch_defaults.items():
        fields.append((name, str(value)))
    if profile.tools:
        fields.append(("tools", ", ".join(profile.tools)))
    if profile.approve_tools:
        fields.append(("approve_tools", ", ".join(profile.approve_tools)))
    fields += [("currency", profile.currency), ("timeouts", timeouts_text(profile.timeouts))]
    state = (
        "missing: built-in profiles only"
        if not config.exists
        else ("private" if config.private else "readable by group or others")
    )
    fields += [("config file", f"{config.path} ({state})"), ("usage ledger", str(ledger))]
    return fields


def timeouts_text(t: Timeouts) -> str:
    """The deadlines of one attempt, and batch run's where they differ."""
    text = (
        f"connect {seconds_text(t.connect)}, idle {seconds_text(t.idle)}, "
        f"first token {seconds_text(t.first_token)}, total {seconds_text(t.total)}"
    )
    batch = t.for_batch()
    if batch != t:
        text += (
            f"; batch run: first token {seconds_text(batch.first_token)}, "
            f"total {seconds_text(batch.total)}"
        )
    return text


def seconds_text(seconds: float) -> str:
    """``600 s (10 min)``: the number the config takes, and how long that is."""
    text = f"{seconds:g} s"
    if seconds >= 60:
        minutes = seconds / 60
        text += f" ({minutes:.1f}".rstrip("0").rstrip(".") + " min)"
    return text


def value_text(value: Any) -> str:
    """A setting's value as it would be written in TOML (strings and tables as JSON, which
    reads the same for these simple values)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | dict):
        import json  # not at the top: `models` imports this module and never needs it

        return json.dumps(value, ensure_ascii=False)
    return str(value)


@dataclass(frozen=True)
class ProfileRow:
    name: str
    is_default: bool
    origin: str
    profile: Profile | None
    problem: str | None

    def to_json(self) -> dict[str, Any]:
        p = self.profile
        return {
            "name": self.name,
            "default": self.is_default,
            "origin": self.origin,
            "provider": p.provider if p else None,
            "region": p.region if p else None,
            "api": p.api if p else None,
            "base_url": p.base_url if p else None,
            "model": p.model if p else None,
            "problem": self.problem,
        }


def profile_rows(data: Mapping[str, Any], env: Mapping[str, str]) -> list[ProfileRow]:
    """Every profile, resolved the way ``-p NAME`` would; a broken one carries its problem."""
    default = env.get("DEEPSEEK_CLI_PROFILE") or data.get("default_profile") or DEFAULT_PROFILE
    rows = []
    for name in profile_names(data):
        try:
            # The model from DEEPSEEK_CLI_MODEL would hide each profile's own; leave env out.
            profile: Profile | None = resolve_profile(data, {}, profile=name)
            problem = None
        except ConfigError as exc:
            profile, problem = None, exc.message
        rows.append(ProfileRow(name, name == default, origin(name, data), profile, problem))
    return rows
