"""``config doctor``: check a profile end to end, the way a request would use it.

Each step says ok, warn, FAIL or skip, and later steps run only when they can mean something:
the config file parses, the profile resolves, a key is found (and is allowed: a key in a
world-readable file is refused), the host accepts a TCP connection, and the key is accepted
(the provider's model list, the cheapest authenticated call there is, and free). The model
list then also tells whether the profile's model is visible to this key.

A 401 on DashScope almost always means a key from another region: keys are bound to the
region (Singapore, Beijing, Virginia) that issued them, so the hint names the profiles of the
other regions. The key is never sent anywhere else to find out.

The exit status is that of the first failure (78 config/key, 69 unreachable, 77 rejected), so
``deepseek config doctor && deepseek batch run …`` works in scripts.
"""

from __future__ import annotations

import socket
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from deepseek_cli.catalog.models import load_catalog
from deepseek_cli.config.files import ConfigFile, load_config_file
from deepseek_cli.config.keys import ApiKey
from deepseek_cli.config.profiles import REGIONS, Profile, resolve_profile
from deepseek_cli.errors import (
    ApiError,
    AuthError,
    CliError,
    ConfigError,
    ExitCode,
    NetworkError,
    error_line,
)
from deepseek_cli.redaction import mask, redact

Status = Literal["ok", "warn", "fail", "skip"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    error: CliError | None = None


class DoctorFailed(CliError):
    """Raised after the report: exits with the code of the first failed check."""

    def __init__(self, failed: list[Check]) -> None:
        first = failed[0]
        count = f"{len(failed)} check{'s' if len(failed) > 1 else ''}"
        super().__init__(f"{count} failed; first: {first.name}")
        self.exit_code = first.error.exit_code if first.error else ExitCode.INTERNAL


def _failure_text(exc: CliError) -> str:
    return redact(error_line(exc))


def _region_hint(profile: Profile) -> str:
    others = [r for r in REGIONS if r != profile.region]
    return (
        f"DashScope keys only work in the region that issued them; this profile uses "
        f"{profile.region_name}. A key from another region gets 401 here: try "
        f"{' or '.join(f'-p {r}' for r in others)}, or set region in the profile"
    )


def _uses_proxy(host: str) -> bool:
    proxies = urllib.request.getproxies()
    return bool(proxies.get("https") or proxies.get("http")) and not urllib.request.proxy_bypass(
        host
    )


def check_host(profile: Profile) -> Check:
    parts = urlsplit(profile.base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if _uses_proxy(host):
        return Check("host", "skip", f"{host} is reached through a proxy; see the next check")
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=profile.timeouts.connect):
            pass
    except socket.gaierror as exc:
        error = NetworkError(f"cannot resolve {host}: {exc.strerror}", hint="check DNS/network")
        return Check("host", "fail", _failure_text(error), error)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        error = NetworkError(f"cannot connect to {host}:{port}: {reason}")
        if profile.provider == "openai":
            error.hint = "is the local server running?"
        return Check("host", "fail", _failure_text(error), error)
    took = (time.monotonic() - started) * 1000
    return Check("host", "ok", f"{host}:{port} accepts connections ({took:.0f} ms)")


def run_checks(
    env: Mapping[str, str],
    path: Path,
    *,
    explicit: bool,
    profile_name: str | None,
    model: str | None = None,
) -> list[Check]:
    checks: list[Check] = []
    try:
        config = load_config_file(path, required=explicit)
    except ConfigError as exc:
        return [Check("config", "fail", _failure_text(exc), exc)]
    checks.append(_config_check(config))

    try:
        profile = resolve_profile(config.data, env, profile=profile_name, model=model)
    except ConfigError as exc:
        return [*checks, Check("profile", "fail", _failure_text(exc), exc)]
    where = f"{profile.provider}"
    if profile.region:
        where += f", {profile.region_name}"
    if profile.provider == "dashscope":
        where += f", {profile.api} API"
    checks.append(Check("profile", "ok", f"{profile.name}: {where}, {profile.base_url}"))

    key, key_check = _key_check(profile, env, config)
    checks.append(key_check)
    checks.append(check_host(profile))
    if checks[-1].status == "fail":
        return [*checks, Check("key accepted", "skip", "the host cannot be reached")]
    if key_check.status == "fail":
        return [*checks, Check("key accepted", "skip", "no usable key")]

    ids: list[str] | None = None
    from deepseek_cli.backends.listing import fetch_live_ids, listing_profile

    if listing_profile(profile) is None:
        checks.append(
            Check("key accepted", "skip", "this native-API URL has no model list to test with")
        )
    else:
        try:
            ids = fetch_live_ids(profile, key.value if key else None)
            checks.append(
                Check(
                    "key accepted",
                    "ok",
                    f"the model list has {len(ids)} model{'' if len(ids) == 1 else 's'}",
                )
            )
        except AuthError as exc:
            if profile.provider == "dashscope" and exc.status == 401:
                exc.hint = _region_hint(profile)
            checks.append(Check("key accepted", "fail", _failure_text(exc), exc))
        except ApiError as exc:
            checks.append(Check("key accepted", "fail", _failure_text(exc), exc))
    checks.append(_model_check(profile, ids))
    return checks


def _config_check(config: ConfigFile) -> Check:
    if not config.exists:
        return Check("config", "ok", f"no file at {config.path}; built-in profiles only")
    count = len(config.data.get("profiles", {}))
    detail = f"{config.path} ({count} profile{'s' if count != 1 else ''})"
    if not config.private:
        return Check("config", "warn", detail + "; readable by group or others (fine without keys)")
    return Check("config", "ok", detail)


def _key_check(
    profile: Profile, env: Mapping[str, str], config: ConfigFile
) -> tuple[ApiKey | None, Check]:
    from deepseek_cli.config.keys import resolve_api_key

    try:
        key = resolve_api_key(profile, env, config)
    except ConfigError as exc:
        return None, Check("key", "fail", _failure_text(exc), exc)
    if key is None:
        return None, Check("key", "ok", "none (a local OpenAI-compatible server needs none)")
    return key, Check("key", "ok", f"{mask(key.value)} from {key.source}")


def _model_check(profile: Profile, ids: list[str] | None) -> Check:
    info = load_catalog().find(profile.provider, profile.model)
    notes = []
    status: Status = "ok"
    if info is None:
        status = "warn"
        notes.append("not in the catalog: limits and prices unknown")
    elif line := info.status_line():
        status = "warn"
        notes.append(line)
    if ids is not None:
        if profile.model in ids:
            notes.append("visible to this key")
        else:
            status = "warn"
            notes.append(
                "not in this key's model list"
                + (
                    " (DeepSeek models on DashScope differ by region)"
                    if profile.provider == "dashscope"
                    else ""
                )
            )
    return Check("model", status, f"{profile.model}: " + ("; ".join(notes) or "in the catalog"))
