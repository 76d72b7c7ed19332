"""Turns one input line into the request, the provider options and, later, its cost.

Why it exists: a line's own options (model, thinking, max_tokens, extra...) are laid over the
command's flags, which are laid over the profile's defaults, exactly as ``ask`` does, and then
mapped per provider by ``backends.params``. Most lines of a job share the same options, so
plans are memoised by their option values (a million lines cost a handful of plans), and each
provider notice or model warning is printed once per job, not once per line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deepseek_cli.backends.params import plan_request
from deepseek_cli.batch.input.grammar import RequestLine
from deepseek_cli.catalog.models import ModelInfo, Price, load_catalog
from deepseek_cli.catalog.pricing import Cost, cost_of
from deepseek_cli.catalog.tokens import prompt_tokens
from deepseek_cli.config.profiles import REQUEST_DEFAULT_KEYS
from deepseek_cli.config.settings import Settings, parse_extra
from deepseek_cli.events import ChatRequest, Message, Usage

# Per-line request options; "system" is not one here: it becomes the first message.
OPTION_NAMES = tuple(k for k in REQUEST_DEFAULT_KEYS if k != "system")
# Reserved for the answer in the TPM estimate when no max_tokens is set anywhere.
DEFAULT_OUTPUT_RESERVE = 1024
_MAX_PLANS = 4096


class PerMinute:
    """Prices by model, looked up again each minute (peak windows start on the minute): a
    batch job asks for one per request."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[int, Price | None]] = {}

    def get(self, model: str, look_up: Callable[[], Price | None]) -> Price | None:
        minute = int(time.time() // 60)
        cached = self._entries.get(model)
        if cached is not None and cached[0] == minute:
            return cached[1]
        if len(self._entries) >= _MAX_PLANS:
            self._entries.clear()
        price = look_up()
        self._entries[model] = (minute, price)
        return price


@dataclass(slots=True)
class Planned:
    model: str
    request: ChatRequest
    params: dict[str, Any]
    info: ModelInfo | None


class Planner:
    def __init__(
        self, settings: Settings, notice: Callable[[str], None], currency: str | None = None
    ) -> None:
        """``currency``: price every call in that one (a budget's), else the profile's way."""
        self.settings = settings
        self.currency = currency
        self.provider = settings.profile.provider
        self._notice = notice
        self._catalog = load_catalog()
        self._infos: dict[str, ModelInfo | None] = {}
        self._plans: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._said: set[str] = set()
        self._base_extra = {**settings.profile.extra_body, **parse_extra(settings.flags.extra)}
        self._defaults = {name: settings.option(name) for name in OPTION_NAMES}
        self._system = settings.system
        self._prices = PerMinute()

    def say_once(self, text: str) -> None:
        if text not in self._said and len(self._said) < 1000:
            self._said.add(text)
            self._notice(text)

    def info(self, model: str) -> ModelInfo | None:
        if model not in self._infos:
            info = self._catalog.find(self.provider, model)
            self._infos[model] = info
            if info is not None and (line := info.status_line()):
                self.say_once(line)
        return self._infos[model]

    def plan(self, spec: RequestLine) -> Planned:
        """The request for ``spec`` (non-streaming: each attempt decides for itself).

        Raises ``UsageError`` for a line the provider cannot take (e.g. prefix completion
        outside DeepSeek).
        """
        overrides = spec.overrides
        model = spec.model or self.settings.profile.model
        values = {
            name: overrides[name] if name in overrides else self._defaults[name]
            for name in OPTION_NAMES
        }
        extra = self._base_extra
        extra_key = ""
        if "extra" in overrides:
            extra = {**self._base_extra, **overrides["extra"]}
            extra_key = json.dumps(overrides["extra"], sort_keys=True, default=str)
        messages = spec.messages
        if self._system and messages[0].role != "system":
            messages = (Message("system", self._system), *messages)
        request = ChatRequest(
            model=model,
            messages=messages,
            extra=extra,
            stream=False,
            # Not provider options: the backend sends them as they are, so no plan depends on them.
            tools=overrides.get("tools", ()),
            tool_choice=overrides.get("tool_choice"),
            **values,
        )
        info = self.info(model)
        key = (model, *values.values(), extra_key, messages[-1].prefix)
        params = self._plans.get(key)
        if params is None:
            plan = plan_request(request, self.provider, info)
            for text in plan.notices:
                self.say_once(text)
            params = plan.params
            if len(self._plans) >= _MAX_PLANS:
                self._plans.clear()
            self._plans[key] = params
        return Planned(model, request, params, info)

    def needs_stream(self, planned: Planned) -> bool:
        """DashScope answers 400 to non-streamed thinking except on models documented to
        allow it (the catalog's ``non_stream_thinking``)."""
        if self.provider != "dashscope":
            return False
        info, thinking = planned.info, planned.request.thinking
        if info is None:
            return bool(thinking)
        if info.thinking == "never":
            return False
        thinks = info.thinking == "always" or (
            thinking if thinking is not None else info.thinking_default
        )
        return bool(thinks) and info.non_stream_thinking is not True

    @staticmethod
    def tokens(planned: Planned) -> int:
        """Estimated tokens the request reserves: prompt plus its answer allowance."""
        reserve = planned.request.max_tokens or DEFAULT_OUTPUT_RESERVE
        return prompt_tokens(planned.request.messages, planned.request.tools) + reserve

    def price(self, model: str) -> Price | None:
        """The price in force now."""
        self.info(model)  # says once when the model is deprecated
        return self._prices.get(model, lambda: self.settings.price(model, currency=self.currency))

    def cost(self, model: str, usage: Usage | None) -> Cost | None:
        if usage is None:
            return None
        return cost_of(usage, self.price(model))
