"""The config file: reading ``config.toml`` and checking every key's name and type.

A config that does not parse or validate stops the command with exit 78 and names the path,
line and column, but never echoes the file's text, which may hold a key.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepseek_cli.errors import ConfigError
from deepseek_cli.safefile import MiB, TooLarge, read_limited, size_text

# A config file is a few KiB; anything past this is not one (``--config /dev/zero``).
MAX_CONFIG_BYTES = 1 * MiB

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
    # MCP tools the profile uses (server names or SERVER.TOOL) and those run without asking.
    "tools": (list,),
    "approve_tools": (list,),
}


TOP_LEVEL_KEYS: dict[str, tuple[type, ...]] = {
    "default_profile": (str,),
    "profiles": (dict,),
    "log_prompts": (bool,),
    "prices": (dict,),
    "mcp": (dict,),
}


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
        raw = read_config_bytes(path)
        mode = path.stat().st_mode
    except FileNotFoundError:
        if required:
            raise ConfigError(f"config file {path} does not exist") from None
        return ConfigFile(path, {}, True, False)
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


def read_config_bytes(path: Path) -> bytes:
    """The config file's bytes, bounded; a file that cannot be read is exit 78 naming it
    (``FileNotFoundError`` is left to the caller, for which a missing file may be fine)."""
    try:
        return read_limited(path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        raise
    except TooLarge:
        raise ConfigError(
            f"config file {path} is larger than {size_text(MAX_CONFIG_BYTES)}; not a config"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None


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


# The ranges of numeric profile keys (inclusive; None: unbounded), as the flags have them.
# TOML has nan and inf, so every number is also checked to be finite.
PROFILE_RANGES: dict[str, tuple[float | None, float | None]] = {
    "temperature": (0, 2),
    "top_p": (0, 1),
    "thinking_budget": (1, None),
    "max_tokens": (1, None),
    "concurrency": (1, None),
    "rpm": (0, None),
    "tpm": (0, None),
    "max_attempts": (1, None),
    "timeout": (0.1, None),
    "connect_timeout": (0.1, None),
    "first_token_timeout": (0.1, None),
    "idle_timeout": (0.1, None),
}

# String keys that name something: an empty one is a mistake, not "use the default".
_NAMING_KEYS = frozenset(
    {"provider", "region", "api", "base_url", "model", "api_key_env", "api_key_cmd", "api_key"}
)


def _check_values(table: Mapping[str, Any], where: str) -> None:
    for key, value in table.items():
        if key in PROFILE_RANGES:
            low, high = PROFILE_RANGES[key]
            if (
                not math.isfinite(value)
                or (low is not None and value < low)
                or (high is not None and value > high)
            ):
                bounds = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
                raise ConfigError(f"{where}: '{key}' must be a number {bounds}, not {value}")
        elif key in _NAMING_KEYS and not value.strip():
            raise ConfigError(f"{where}: '{key}' is empty", "give it a value or remove the line")
        elif key == "currency":
            from deepseek_cli.config.prices import check_currency

            check_currency(value, where)
        elif key == "reasoning_effort":
            from deepseek_cli.catalog.models import EFFORT_LEVELS

            if value not in EFFORT_LEVELS:
                raise ConfigError(
                    f"{where}: 'reasoning_effort' must be one of {', '.join(EFFORT_LEVELS)}"
                )
        elif key in ("tools", "approve_tools") and not all(
            isinstance(v, str) and v.strip() for v in value
        ):
            raise ConfigError(
                f"{where}: '{key}' must be a list of names", 'e.g. tools = ["calc", "files.read"]'
            )
        elif key == "extra_body" and not finite_json(value):
            raise ConfigError(f"{where}: 'extra_body' holds nan or inf, which JSON cannot send")


def finite_json(value: Any) -> bool:
    """Whether a JSON-like value holds no nan or inf anywhere (JSON has no such numbers)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite_json(v) for v in value.values())
    if isinstance(value, list):
        return all(finite_json(v) for v in value)
    return True


def validate_config(data: Mapping[str, Any], path: Path | str = "config") -> None:
    """Every key known, of its type, in its range (exit 78 naming the file and key)."""
    _check_types(data, TOP_LEVEL_KEYS, str(path))
    if "default_profile" in data and not data["default_profile"].strip():
        raise ConfigError(f"{path}: 'default_profile' is empty")
    for name, table in data.get("profiles", {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [profiles.{name}] must be a table")
        _check_types(table, PROFILE_KEYS, f"{path} [profiles.{name}]")
        _check_values(table, f"{path} [profiles.{name}]")
    if "prices" in data:
        from deepseek_cli.config.prices import check_prices

        check_prices(data["prices"], str(path))
    if "mcp" in data:
        from deepseek_cli.config.mcp import check_mcp

        check_mcp(data["mcp"], str(path))
