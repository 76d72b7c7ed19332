"""API key lookup: ``api_key_cmd``, else the environment variable, else a key in a private file.

Every key found is registered with the redactor before it is returned, so no later message,
record or traceback can show it. A key in a config file that group or others can read is
refused (exit 78), and ``api_key_cmd``'s output is never echoed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field

from deepseek_cli.config.files import ConfigFile
from deepseek_cli.config.profiles import Profile
from deepseek_cli.errors import ConfigError
from deepseek_cli.redaction import register_secret


@dataclass(frozen=True)
class ApiKey:
    value: str = field(repr=False)
    source: str


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
