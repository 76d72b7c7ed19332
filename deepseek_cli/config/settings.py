"""Everything a request-making command needs, resolved once from file, environment and flags.

Commands collect their flags into :class:`RequestFlags`; :func:`load` reads the config file,
picks the profile (built-ins < file < environment < flags), finds the key and the model's
catalog entry, and :meth:`Settings.chat_request` lays the flags over the profile's request
defaults. No Typer, no SDK: this is shared by ``ask``, ``chat`` and ``batch``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deepseek_cli.catalog.models import EFFORT_LEVELS, ModelInfo, Price, ProviderInfo, load_catalog
from deepseek_cli.catalog.price_book import PriceBook
from deepseek_cli.config import paths
from deepseek_cli.config.files import ConfigFile, finite_json, load_config_file
from deepseek_cli.config.keys import ApiKey, resolve_api_key
from deepseek_cli.config.mcp import McpServer, mcp_servers
from deepseek_cli.config.prices import price_overrides
from deepseek_cli.config.profiles import Profile, resolve_profile
from deepseek_cli.errors import UsageError
from deepseek_cli.events import ChatRequest, Message


@dataclass(frozen=True)
class RequestFlags:
    """Request options from the command line; ``None`` means "not given"."""

    profile: str | None = None
    model: str | None = None
    thinking: bool | None = None
    thinking_budget: int | None = None
    reasoning_effort: str | None = None
    system: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    search: bool | None = None
    extra: tuple[str, ...] = ()
    timeout: float | None = None
    config: Path | None = None


def parse_extra(items: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; VALUE is JSON when it parses (``-x top_k=20``), else a string."""
    extra: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"-x expects KEY=VALUE, got '{item}'")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        if not finite_json(value):
            raise UsageError(
                f"-x {key.strip()}: NaN and Infinity are not JSON numbers",
                "quote the value to send it as a string",
            )
        extra[key.strip()] = value
    return extra


@dataclass(frozen=True)
class Settings:
    env: Mapping[str, str]
    config: ConfigFile
    profile: Profile
    flags: RequestFlags
    api_key: ApiKey | None = field(repr=False)
    model_info: ModelInfo | None
    provider_info: ProviderInfo | None
    prices: PriceBook

    def price(
        self, model: str, when: datetime | None = None, *, currency: str | None = None
    ) -> Price | None:
        """The price of a call to ``model`` on this profile at ``when`` (default: now); with
        ``currency`` (a budget's), in that currency only."""
        p = self.profile
        return self.prices.price(
            p.provider,
            model,
            p.region,
            when or datetime.now(UTC),
            currency or p.currency,
            strict=currency is not None,
        )

    @property
    def log_prompts(self) -> bool:
        return bool(self.config.data.get("log_prompts", False))

    @property
    def mcp_servers(self) -> dict[str, McpServer]:
        """The config's ``[mcp.NAME]`` servers, by name."""
        return mcp_servers(self.config.data)

    @property
    def ledger_path(self) -> Path:
        return paths.ledger_file(self.env)

    def option(self, name: str) -> Any:
        """A request option: the flag when given, else the profile's default."""
        value = getattr(self.flags, name, None)
        return value if value is not None else self.profile.request_defaults.get(name)

    def chat_request(
        self,
        messages: tuple[Message, ...],
        *,
        stream: bool = True,
        json_object: bool = False,
        stop: tuple[str, ...] = (),
        suffix: str | None = None,
    ) -> ChatRequest:
        return ChatRequest(
            model=self.profile.model,
            messages=messages,
            thinking=self.option("thinking"),
            thinking_budget=self.option("thinking_budget"),
            reasoning_effort=self.option("reasoning_effort"),
            temperature=self.option("temperature"),
            top_p=self.option("top_p"),
            max_tokens=self.option("max_tokens"),
            search=self.option("search"),
            json_object=json_object,
            stop=stop,
            extra={**self.profile.extra_body, **parse_extra(self.flags.extra)},
            stream=stream,
            suffix=suffix,
        )

    @property
    def system(self) -> str | None:
        value = self.option("system")
        return str(value) if value else None


def load(flags: RequestFlags, env: Mapping[str, str], *, need_key: bool = True) -> Settings:
    effort = flags.reasoning_effort
    if effort is not None and effort not in EFFORT_LEVELS:
        raise UsageError(f"--effort must be one of {', '.join(EFFORT_LEVELS)}")
    path = paths.config_file(env, str(flags.config) if flags.config else None)
    explicit = flags.config is not None or bool(env.get("DEEPSEEK_CLI_CONFIG"))
    config = load_config_file(path, required=explicit)
    profile = resolve_profile(config.data, env, profile=flags.profile, model=flags.model)
    if flags.timeout is not None:
        t = profile.timeouts
        profile = dataclasses.replace(
            profile,
            timeouts=dataclasses.replace(
                t,
                total=flags.timeout,
                first_token=min(t.first_token, flags.timeout),
                chosen=t.chosen | {"total"},
            ),
        )
    catalog = load_catalog()
    return Settings(
        env=env,
        config=config,
        profile=profile,
        flags=flags,
        api_key=resolve_api_key(profile, env, config) if need_key else None,
        model_info=catalog.find(profile.provider, profile.model),
        provider_info=catalog.providers.get(profile.provider),
        prices=PriceBook(catalog, price_overrides(config.data)),
    )
