"""Profiles: the built-ins, and how one is resolved from the config file, environment and flags.

Precedence, lowest to highest: built-in profiles < config file < environment
(``DEEPSEEK_CLI_PROFILE``, ``DEEPSEEK_CLI_MODEL``) < command-line flags. Everything here is a
pure function over dicts and an environment mapping, which keeps the rules testable without a
filesystem.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from deepseek_cli.config.defaults import BATCH_FIRST_TOKEN_TIMEOUT, BATCH_TOTAL_TIMEOUT
from deepseek_cli.errors import ConfigError

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


@dataclass(frozen=True)
class Timeouts:
    """Separate deadlines: keep-alives may keep a connection alive, never a request forever."""

    connect: float = 10.0
    idle: float = 120.0
    first_token: float = 660.0  # DeepSeek closes queued requests after 10 minutes
    total: float = 600.0
    # The deadlines the user chose (config or --timeout), which a command must not replace
    # with longer defaults of its own (batch has some).
    chosen: frozenset[Literal["total", "first_token"]] = frozenset()

    @property
    def first_wait(self) -> float:
        """How long to wait for the first token: the first-token deadline, within the total."""
        return min(self.first_token, self.total)

    @property
    def http_read(self) -> float:
        """The HTTP client's per-read limit. A CPU server sends its headers at once and then
        nothing until the prompt is processed, so until the first token only the first-token
        deadline may apply: the client waits at least that long, and the idle limit between
        tokens is enforced on the events (``backends.deadlines``)."""
        return max(self.idle, self.first_wait)

    def for_batch(self) -> Timeouts:
        """These deadlines with batch run's longer defaults where nothing was chosen."""
        if "total" in self.chosen:
            return self
        first = self.first_token if "first_token" in self.chosen else BATCH_FIRST_TOKEN_TIMEOUT
        return dataclasses.replace(self, total=BATCH_TOTAL_TIMEOUT, first_token=first)


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
    # MCP tools: what ``--tool`` adds to by default, and the glob patterns run without asking.
    tools: tuple[str, ...] = ()
    approve_tools: tuple[str, ...] = ()

    @property
    def backend_name(self) -> str:
        return "dashscope_native" if self.api == "native" else "openai_compat"

    @property
    def region_name(self) -> str | None:
        return REGIONS[self.region][1] if self.region in REGIONS else None


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
    chosen: set[Literal["total", "first_token"]] = set()
    if "timeout" in raw:
        chosen.add("total")
    if "first_token_timeout" in raw:
        chosen.add("first_token")
    return Timeouts(
        connect=float(raw.get("connect_timeout", base.connect)),
        idle=float(raw.get("idle_timeout", base.idle)),
        first_token=float(raw.get("first_token_timeout", min(base.first_token, total))),
        total=total,
        chosen=frozenset(chosen),
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
        tools=tuple(raw.get("tools", ())),
        approve_tools=tuple(raw.get("approve_tools", ())),
    )
