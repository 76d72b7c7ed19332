"""Profiles: built-ins, config.toml, precedence and API key lookup.

Precedence, lowest to highest: built-in profiles < config file < environment
(``DEEPSEEK_CLI_PROFILE``, ``DEEPSEEK_CLI_MODEL``) < command-line flags. Everything here is a
pure function over dicts and an environment mapping, except reading the file and running
``api_key_cmd``; that keeps the rules testable without a filesystem or a shell.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from .errors import ConfigError
from .redaction import register_secret

Provider = Literal["dashscope", "deepseek", "openai"]
PROVIDERS: tuple[str, ...] = ("dashscope", "deepseek", "openai")
REGIONS: dict[str, tuple[str, str]] = {
    # region -> (host, human name). Keys are bound to the region that issued them.
    "intl": ("dashscope-intl.aliyuncs.com", "Singapore (intl)"),
    "cn": ("dashscope.aliyuncs.com", "Beijing (cn)"),
    "us": ("dashscope-us.aliyuncs.com", "Virginia (us)"),
}
DEEPSEEK_BASE_URL = "https://api.deepseek.com"
DEFAULT_MODEL = "deepseek-v4-pro"
DEFAULT_PROFILE = "intl"
DEFAULT_KEY_ENV = {"dashscope": "DASHSCOPE_API_KEY", "deepseek": "DEEPSEEK_API_KEY"}

BUILTIN_PROFILES: dict[str, dict[str, Any]] = {
    "intl": {"provider": "dashscope", "region": "intl", "api": "compatible"},
    "cn": {"provider": "dashscope", "region": "cn", "api": "compatible"},
    "us": {"provider": "dashscope", "region": "us", "api": "compatible"},
    "intl-native": {"provider": "dashscope", "region": "intl", "api": "native"},
    "cn-native": {"provider": "dashscope", "region": "cn", "api": "native"},
    "us-native": {"provider": "dashscope", "region": "us", "api": "native"},
    "deepseek": {"provider": "deepseek"},
    "local": {"provider": "openai", "base_url": "http://127.0.0.1:8000/v1", "model": "deepseek-r1"},
}

# Profile keys and the types their values must have.
_NUMBER = (int, float)
PROFILE_KEYS: dict[str, tuple[type, ...]] = {
    "provider": (str,),
    "region": (str,),
    "api": (str,),
    "base_url": (str,),
    "model": (str,),
    "api_key_env": (str,),
    "api_key_cmd": (str,),
    "api_key": (str,),
    "thinking": (bool,),
    "thinking_budget": (int,),
    "reasoning_effort": (str,),
    "temperature": _NUMBER,
    "top_p": _NUMBER,
    "max_tokens": (int,),
    "system": (str,),
    "search": (bool,),
    "concurrency": (int,),
    "rpm": (int,),
    "tpm": (int,),
    "max_attempts": (int,),
    "extra_body": (dict,),
    "currency": (str,),
    "timeout": _NUMBER,
    "connect_timeout": _NUMBER,
    "first_token_timeout": _NUMBER,
    "idle_timeout": _NUMBER,
}
TOP_LEVEL_KEYS: dict[str, tuple[type, ...]] = {
    "default_profile": (str,),
    "profiles": (dict,),
    "log_prompts": (bool,),
}


@dataclass(frozen=True)
class Timeouts:
    """Separate deadlines: keep-alives may keep a connection alive, never a request forever."""

    connect: float = 10.0
    idle: float = 120.0
    first_token: float = 660.0  # DeepSeek closes queued requests after 10 minutes
    total: float = 600.0


@dataclass(frozen=True)
class Profile:
    name: str
    provider: Provider
    base_url: str
    model: str
    region: str | None = None
    api: Literal["compatible", "native"] = "compatible"
    api_key_env: str | None = None
    api_key_cmd: str | None = None
    file_api_key: str | None = field(default=None, repr=False)
    # Per-profile request defaults (thinking, budget, effort, sampling, system, search).
    request_defaults: dict[str, Any] = field(default_factory=dict)
    extra_body: dict[str, Any] = field(default_factory=dict)
    batch_defaults: dict[str, int] = field(default_factory=dict)
    currency: str = "USD"
    timeouts: Timeouts = field(default_factory=Timeouts)

    @property
    def backend_name(self) -> str:
        return "dashscope_native" if self.api == "native" else "openai_compat"

    @property
    def region_name(self) -> str | None:
        return REGIONS[self.region][1] if self.region in REGIONS else None


@dataclass(frozen=True)
class ApiKey:
    value: str = field(repr=False)
    source: str


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    data: dict[str, Any]
    private: bool  # False when group or others may read it
    exists: bool


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def load_config_file(path: Path, *, required: bool = False) -> ConfigFile:
    """Read and validate a config file. A missing default file is an empty config.

    Errors name the path, line and column but never echo the file's text, which may hold a key.
    """
    try:
        raw = path.read_bytes()
        mode = path.stat().st_mode
    except FileNotFoundError:
        if required:
            raise ConfigError(f"config file {path} does not exist") from None
        return ConfigFile(path, {}, True, False)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        match = _TOML_POSITION.search(text)
        where = f"{path}:{match.group(1)}:{match.group(2)}" if match else str(path)
        reason = _TOML_POSITION.sub("", text) if match else text
        raise ConfigError(
            f"{where}: {reason[:1].lower()}{reason[1:]}", "fix the TOML syntax"
        ) from None
    validate_config(data, path)
    return ConfigFile(path, data, (mode & 0o077) == 0, True)


def _check_types(
    table: Mapping[str, Any], schema: Mapping[str, tuple[type, ...]], where: str
) -> None:
    for key, value in table.items():
        if key not in schema:
            raise ConfigError(f"{where}: unknown key '{key}'", f"known keys: {', '.join(schema)}")
        wanted = schema[key]
        # bool is an int in Python; a number field must not accept true/false.
        if isinstance(value, bool) and bool not in wanted:
            wanted_names = "/".join(t.__name__ for t in wanted)
            raise ConfigError(f"{where}: '{key}' must be {wanted_names}, not a boolean")
        if not isinstance(value, wanted):
            wanted_names = "/".join(t.__name__ for t in wanted)
            raise ConfigError(f"{where}: '{key}' must be {wanted_names}")


def validate_config(data: Mapping[str, Any], path: Path | str = "config") -> None:
    _check_types(data, TOP_LEVEL_KEYS, str(path))
    for name, table in data.get("profiles", {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [profiles.{name}] must be a table")
        _check_types(table, PROFILE_KEYS, f"{path} [profiles.{name}]")


def profile_names(data: Mapping[str, Any]) -> list[str]:
    return sorted(set(BUILTIN_PROFILES) | set(data.get("profiles", {})))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return url.rstrip("/")
    if parts.scheme == "http":
        raise ConfigError(
            f"{where}: plain http is only allowed for loopback hosts ({url})",
            "use https:// so the API key is never sent in cleartext",
        )
    raise ConfigError(f"{where}: base_url must be an https:// URL ({url})")


def api_root(base_url: str) -> str:
    """The base URL without its optional ``/v1``: DeepSeek serves ``/beta`` and
    ``/user/balance`` beside it ("v1 has nothing to do with model versions")."""
    base = base_url.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def derive_base_url(provider: str, region: str | None, api: str) -> str:
    if provider == "dashscope":
        host = REGIONS[region or "intl"][0]
        path = "/api/v1" if api == "native" else "/compatible-mode/v1"
        return f"https://{host}{path}"
    if provider == "deepseek":
        return DEEPSEEK_BASE_URL
    raise ConfigError(
        "an 'openai' profile needs a base_url", 'e.g. base_url = "http://127.0.0.1:8000/v1"'
    )


def _timeouts(raw: Mapping[str, Any]) -> Timeouts:
    base = Timeouts()
    total = float(raw.get("timeout", base.total))
    return Timeouts(
        connect=float(raw.get("connect_timeout", base.connect)),
        idle=float(raw.get("idle_timeout", base.idle)),
        first_token=float(raw.get("first_token_timeout", min(base.first_token, total))),
        total=total,
    )


REQUEST_DEFAULT_KEYS = (
    "thinking",
    "thinking_budget",
    "reasoning_effort",
    "temperature",
    "top_p",
    "max_tokens",
    "system",
    "search",
)
BATCH_DEFAULT_KEYS = ("concurrency", "rpm", "tpm", "max_attempts")


def resolve_profile(
    data: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    profile: str | None = None,
    model: str | None = None,
) -> Profile:
    """Merge built-ins, the config file, the environment and flags into one profile."""
    name = (
        profile or env.get("DEEPSEEK_CLI_PROFILE") or data.get("default_profile") or DEFAULT_PROFILE
    )
    file_profiles: Mapping[str, Any] = data.get("profiles", {})
    if name not in BUILTIN_PROFILES and name not in file_profiles:
        raise ConfigError(
            f"unknown profile '{name}'", f"available: {', '.join(profile_names(data))}"
        )
    raw: dict[str, Any] = {**BUILTIN_PROFILES.get(name, {}), **file_profiles.get(name, {})}
    where = f"profile '{name}'"

    provider = raw.get("provider")
    if provider not in PROVIDERS:
        raise ConfigError(f"{where}: provider must be one of {', '.join(PROVIDERS)}")
    region = raw.get("region") if provider == "dashscope" else None
    if provider == "dashscope":
        region = region or "intl"
        if region not in REGIONS:
            raise ConfigError(f"{where}: region must be one of {', '.join(REGIONS)}")
    api: Literal["compatible", "native"] = "compatible"
    if provider == "dashscope":
        raw_api = raw.get("api", "compatible")
        if raw_api not in ("compatible", "native"):
            raise ConfigError(f"{where}: api must be 'compatible' or 'native'")
        api = "native" if raw_api == "native" else "compatible"
    base_url = raw.get("base_url") or derive_base_url(provider, region, api)
    base_url = check_base_url(base_url, where)

    chosen_model = model or env.get("DEEPSEEK_CLI_MODEL") or raw.get("model") or DEFAULT_MODEL
    return Profile(
        name=name,
        provider=provider,
        base_url=base_url,
        model=chosen_model,
        region=region,
        api=api,
        api_key_env=raw.get("api_key_env") or DEFAULT_KEY_ENV.get(provider),
        api_key_cmd=raw.get("api_key_cmd"),
        file_api_key=raw.get("api_key"),
        request_defaults={k: raw[k] for k in REQUEST_DEFAULT_KEYS if k in raw},
        extra_body=dict(raw.get("extra_body", {})),
        batch_defaults={k: raw[k] for k in BATCH_DEFAULT_KEYS if k in raw},
        currency=str(raw.get("currency", "USD")).upper(),
        timeouts=_timeouts(raw),
    )


def _missing_key_hint(profile: Profile) -> str:
    if profile.provider == "dashscope":
        return (
            f"set {profile.api_key_env} to a key from the {profile.region_name} region "
            "(DashScope keys only work in the region that issued them)"
        )
    return f"set {profile.api_key_env} or api_key_cmd in the profile"


def resolve_api_key(profile: Profile, env: Mapping[str, str], config: ConfigFile) -> ApiKey | None:
    """Find the key: ``api_key_cmd``, else the env var, else ``api_key`` in a private file.

    Returns ``None`` only for OpenAI-compatible profiles, where a local server needs no key.
    """
    key: ApiKey | None = None
    if profile.api_key_cmd:
        key = ApiKey(_run_key_command(profile), "api_key_cmd")
    elif profile.api_key_env and env.get(profile.api_key_env):
        key = ApiKey(env[profile.api_key_env].strip(), f"env {profile.api_key_env}")
    elif profile.file_api_key:
        if not config.private:
            raise ConfigError(
                f"{config.path} holds an API key but is readable by group or others",
                f"run: chmod 600 {config.path}",
            )
        key = ApiKey(profile.file_api_key, f"config file {config.path}")
    if key is not None:
        register_secret(key.value)
        return key
    if profile.provider == "openai":
        return None
    raise ConfigError(f"no API key for profile '{profile.name}'", _missing_key_hint(profile))


def _run_key_command(profile: Profile) -> str:
    assert profile.api_key_cmd is not None
    try:
        done = subprocess.run(
            profile.api_key_cmd, shell=True, capture_output=True, text=True, timeout=30, check=False
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(f"profile '{profile.name}': api_key_cmd timed out after 30 s") from None
    value = done.stdout.strip()
    if done.returncode != 0 or not value:
        # Its output is never echoed: it may be a key.
        raise ConfigError(
            f"profile '{profile.name}': api_key_cmd failed (exit {done.returncode}, "
            f"{'no output' if not value else 'output ignored'})"
        )
    return value
