"""Writing ``config.toml``: ``config init`` and ``config set``, without ever losing what is there.

Rules, from the reliability catalogue (section H):

- A config that does not parse or validate is never rewritten: the edit stops with exit 78
  before anything is written, and the file stays byte-identical. No "repair".
- Writes are atomic and private from the first byte (``safefile.write_atomic``: temp file,
  fsync, rename); a symlinked config keeps its link and the target changes. An existing
  file keeps its mode: nothing is silently tightened or loosened. A new file is 0600.
- Comments, ordering and unknown formatting survive (tomlkit edits the document, not a dict).
  As a safety net the result is parsed again and must equal the old settings with exactly
  the one change; anything else refuses to write.
- Read-modify-write happens under an exclusive lock on the directory that holds the target
  (``safefile.locked_directory``), so two concurrent ``config set`` runs cannot lose each
  other's change and no lock file is left beside the user's config. (The file itself cannot
  carry the lock: every write replaces it with a new inode.) Under that lock a leftover
  ``.config.toml.*.tmp`` can only be from a crashed write: it is removed, as is the
  ``.config.toml.lock`` that earlier versions left.
- An API key is never taken from the command line (it would show in ``ps`` and the shell
  history): ``config set PROFILE.api_key -`` reads it from stdin or a hidden prompt, and only
  into a file that group and others cannot read.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import stat
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from deepseek_cli.config.files import (
    PROFILE_KEYS,
    TOP_LEVEL_KEYS,
    load_config_file,
    read_config_bytes,
    validate_config,
)
from deepseek_cli.config.profiles import BUILTIN_PROFILES, DEFAULT_PROFILE, resolve_profile
from deepseek_cli.errors import CliError, ConfigError, UsageError, local_io
from deepseek_cli.safefile import ensure_private_dir, link_target, locked_directory, write_atomic

INIT_TEMPLATE = """\
# deepseek-cli configuration, written by `deepseek config init` on {today}.
# Reference: `deepseek config --help`; check a profile with `deepseek config doctor -p NAME`.
#
# API keys are looked up in this order: the profile's api_key_cmd (a command that prints the
# key, e.g. a password manager), then its environment variable (DASHSCOPE_API_KEY or
# DEEPSEEK_API_KEY by default), then api_key in this file, which is refused when this file
# is readable by group or others (keep it chmod 600).
# DashScope keys only work in the region that issued them: intl (Singapore), cn (Beijing),
# us (Virginia).

# The profile used when neither -p/--profile nor DEEPSEEK_CLI_PROFILE says otherwise.
default_profile = "{default_profile}"

# Store prompts and answers in the usage ledger (usage.db) as well as tokens and cost.
# log_prompts = false

# Built-in profiles need no table: intl, cn, us (DashScope compatible mode), intl-native,
# cn-native, us-native (DashScope native API), deepseek (api.deepseek.com) and local
# (an OpenAI-compatible server at http://127.0.0.1:8000/v1). A table with a built-in's name
# changes only the fields it sets.

# [profiles.intl]
# model = "deepseek-v4-pro"
# thinking = true              # request defaults: thinking, thinking_budget, reasoning_effort,
# thinking_budget = 8192       #   temperature, top_p, max_tokens, system, search
# api_key_cmd = "pass show dashscope-intl"

# [profiles.work]
# provider = "deepseek"        # dashscope | deepseek | openai
# model = "deepseek-flash"
# api_key_env = "WORK_DEEPSEEK_KEY"
# reasoning_effort = "high"
# currency = "CNY"             # prices and costs in yuan (default USD)
# concurrency = 8              # batch defaults: concurrency, rpm, tpm, max_attempts
# rpm = 600

# [profiles.vllm]
# provider = "openai"
# base_url = "http://127.0.0.1:8000/v1"
# model = "deepseek-r1"
# extra_body = {{ chat_template_kwargs = {{ thinking = true }} }}
"""


def init_text(default_profile: str = DEFAULT_PROFILE, today: date | None = None) -> str:
    return INIT_TEMPLATE.format(
        default_profile=default_profile, today=(today or date.today()).isoformat()
    )


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for a read-modify-write of ``path``."""
    target = link_target(path)
    with locked_directory(ensure_private_dir(target.parent)):
        # Every writer of this file holds the lock while its temp file exists, so any temp
        # file seen now was left by a crash (safefile.AtomicWriter names them like this).
        for stale in target.parent.glob(f".{target.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        (target.parent / f".{target.name}.lock").unlink(missing_ok=True)
        yield


def init_config(path: Path, *, default_profile: str, force: bool) -> Path | None:
    """Write the commented starting config. Returns the backup path when one was replaced."""
    if default_profile not in BUILTIN_PROFILES:
        raise UsageError(
            f"'{default_profile}' is not a built-in profile",
            f"choose one of {', '.join(sorted(BUILTIN_PROFILES))}; add your own with config set",
        )
    text = init_text(default_profile)
    validate_config(tomllib.loads(text), path)  # the template must always load
    backup = None
    with local_io(f"cannot write {path}"), locked(path):
        if path.exists() or path.is_symlink():
            if not force:
                raise UsageError(
                    f"{path} already exists",
                    "use --force to replace it (the old file is kept as a .bak beside it)",
                )
            target = link_target(path)
            if target.exists():
                backup = target.with_name(target.name + ".bak")
                # The old file may hold a key: the backup is private whatever its mode was.
                write_atomic(backup, read_config_bytes(target), 0o600)
        write_atomic(path, text.encode("utf-8"), 0o600)
    return backup


def init_report(path: Path, default_profile: str, env: Mapping[str, str]) -> str:
    """What ``config init`` wrote, and what to do next: the key it needs, then a first ask."""
    profile = resolve_profile({}, {}, profile=default_profile)
    lines = [f"wrote {path}: a commented starting config, default profile {default_profile}"]
    var = profile.api_key_env
    if var is None:
        lines.append(f'next: start the server at {profile.base_url}, then: deepseek ask "hello"')
    else:
        where = f" (a key from {profile.region_name})" if profile.region_name else ""
        step = f"{var} is set" if env.get(var) else f"export {var}=...{where}"
        lines.append(f'next: {step}, then: deepseek ask "hello"')
    lines.append("check the setup: deepseek config doctor; change a setting: deepseek config set")
    return "\n".join(lines) + "\n"


# -- config set -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """Where a ``config set`` key points: a top-level key, or a field of one profile."""

    profile: str | None
    field: str

    @property
    def dotted(self) -> str:
        return f"profiles.{self.profile}.{self.field}" if self.profile else self.field


def parse_key(key: str, *, profile: str | None = None) -> Setting:
    """``default_profile``, ``log_prompts``, ``PROFILE.FIELD`` or ``profiles.PROFILE.FIELD``;
    with ``profile`` (``config set -p NAME``), ``key`` is a FIELD of that profile."""
    key = key.strip()
    if profile is not None:
        if not profile.strip():
            raise UsageError("-p needs a profile name", "see deepseek config profiles")
        if "." in key or key in TOP_LEVEL_KEYS:
            raise UsageError(
                f"with -p {profile}, KEY is a field of that profile, not '{key}'",
                f"e.g. deepseek config set -p {profile} model deepseek-v4-flash; "
                "top-level settings take no -p",
            )
        key = f"{profile.strip()}.{key}"
    if key in TOP_LEVEL_KEYS and key != "profiles":
        return Setting(None, key)
    rest = key.removeprefix("profiles.")
    name, sep, field = rest.rpartition(".")
    if not sep or not name or not field:
        raise UsageError(
            f"unknown setting '{key}'",
            "use default_profile, log_prompts or PROFILE.FIELD (e.g. intl.model)",
        )
    if field not in PROFILE_KEYS:
        raise UsageError(
            f"unknown profile field '{field}'", f"known fields: {', '.join(PROFILE_KEYS)}"
        )
    return Setting(name, field)


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def coerce(setting: Setting, raw: str) -> Any:
    """The command-line text as the type the field needs."""
    schema = TOP_LEVEL_KEYS if setting.profile is None else PROFILE_KEYS
    wanted = schema[setting.field]
    what = setting.dotted
    if bool in wanted:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise UsageError(f"{what} must be true or false, not '{raw}'")
    if wanted == (int,):
        try:
            return int(raw)
        except ValueError:
            raise UsageError(f"{what} must be a whole number, not '{raw}'") from None
    if float in wanted:
        try:
            return int(raw)
        except ValueError:
            pass
        try:
            number = float(raw)
        except ValueError:
            raise UsageError(f"{what} must be a number, not '{raw}'") from None
        if not math.isfinite(number):
            raise UsageError(f"{what} must be a finite number, not '{raw}'")
        return number
    if list in wanted:
        # A JSON list, or the names separated by commas: `config set intl.tools calc,files`.
        try:
            items = json.loads(raw)
        except ValueError:
            items = [part.strip() for part in raw.split(",") if part.strip()]
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise UsageError(f"{what} must be names separated by commas, e.g. 'calc,files.read'")
        return items
    if dict in wanted:
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise UsageError(f"{what} must be a JSON object, e.g. '{{\"top_k\": 20}}'")
        return value
    return raw


@dataclass(frozen=True)
class Change:
    path: Path
    setting: Setting
    old: Any
    new: Any  # None when unset
    created: bool


_MISSING = object()


def _expected(data: Mapping[str, Any], setting: Setting, value: Any) -> dict[str, Any]:
    """The settings as a plain dict after the change, to check tomlkit's result against."""
    result = copy.deepcopy(dict(data))
    if setting.profile is None:
        table = result
    else:
        table = result.setdefault("profiles", {}).setdefault(setting.profile, {})
    if value is _MISSING:
        table.pop(setting.field, None)
    else:
        table[setting.field] = value
    return result


def set_value(path: Path, setting: Setting, value: Any, *, unset: bool = False) -> Change:
    """Change one setting in place. ``value`` is already coerced; ``unset`` removes the key."""
    import tomlkit

    with local_io(f"cannot write {path}"), locked(path):
        exists = path.exists()
        if exists:
            # Parses and validates; a broken file stops here (exit 78) and is left as it is.
            config = load_config_file(path, required=True)
            text = read_config_bytes(path).decode("utf-8")
            mode = stat.S_IMODE(link_target(path).stat().st_mode)
            data = config.data
        else:
            text, mode, data = "", 0o600, {}
        if setting.field == "api_key" and not unset and mode & 0o077:
            raise ConfigError(
                f"{path} is readable by group or others; it cannot hold an API key",
                f"run: chmod 600 {path}",
            )
        try:
            doc = tomlkit.parse(text)
        except Exception as exc:  # tomlkit is stricter in places than tomllib
            raise ConfigError(f"{path}: cannot edit this file ({exc})", "edit it by hand") from None

        table: Any = doc
        if setting.profile is not None:
            if "profiles" not in doc:
                doc["profiles"] = tomlkit.table(is_super_table=True)
            profiles: Any = doc["profiles"]
            if setting.profile not in profiles:
                profiles[setting.profile] = tomlkit.table()
            table = profiles[setting.profile]
        old = table.get(setting.field)
        old_value = old.unwrap() if hasattr(old, "unwrap") else old
        if unset:
            if setting.field in table:
                del table[setting.field]
        elif isinstance(value, dict):
            inline = tomlkit.inline_table()
            inline.update(value)
            table[setting.field] = inline
        else:
            table[setting.field] = value

        new_text = doc.as_string()
        new_data = tomllib.loads(new_text)
        if new_data != _expected(data, setting, _MISSING if unset else value):
            raise CliError(
                f"editing {path} would change more than {setting.dotted}; nothing was written",
                "edit the file by hand",
            )
        _check_usable(new_data, setting, path)
        write_atomic(path, new_text.encode("utf-8"), mode)
    return Change(path, setting, old_value, None if unset else value, not exists)


def _check_usable(data: dict[str, Any], setting: Setting, path: Path) -> None:
    """Refuse a change that leaves the edited profile (or the default one) unusable."""
    try:
        validate_config(data, path)
        if setting.profile is not None:
            resolve_profile(data, {}, profile=setting.profile)
        elif setting.field == "default_profile":
            resolve_profile(data, {})
    except ConfigError as exc:
        hint = exc.hint
        if setting.profile is not None and "provider" in exc.message:
            hint = f"set {setting.profile}.provider first (dashscope, deepseek or openai)"
        raise UsageError(f"not changed: {exc.message}", hint) from None
