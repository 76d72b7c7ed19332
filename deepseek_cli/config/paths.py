"""Where the tool keeps its state.

``DEEPSEEK_CLI_HOME`` relocates everything (config, usage ledger, sessions, history) to one
directory, which is also how tests isolate themselves. Otherwise the platform's config and data
directories are used. Everything here is a pure function of the environment mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

APP_NAME = "deepseek-cli"


def _home(env: Mapping[str, str]) -> Path | None:
    home = env.get("DEEPSEEK_CLI_HOME")
    return Path(home).expanduser() if home else None


def config_dir(env: Mapping[str, str]) -> Path:
    home = _home(env)
    if home is not None:
        return home
    from platformdirs import user_config_path

    return user_config_path(APP_NAME)


def data_dir(env: Mapping[str, str]) -> Path:
    home = _home(env)
    if home is not None:
        return home
    from platformdirs import user_data_path

    return user_data_path(APP_NAME)


def config_file(env: Mapping[str, str], override: str | None = None) -> Path:
    """``--config`` wins, then ``DEEPSEEK_CLI_CONFIG``, then ``config.toml`` in the config dir."""
    explicit = override or env.get("DEEPSEEK_CLI_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    return config_dir(env) / "config.toml"


def ledger_file(env: Mapping[str, str]) -> Path:
    return data_dir(env) / "usage.db"
