"""Adapter for DashScope's native API through the ``dashscope`` SDK.

The SDK reports errors in-band: every item it yields carries ``status_code``/``code``/
``message`` and an error item has no ``output``, so every item is checked. Its in-stream error
items always say HTTP 400 whatever the ``:HTTP_STATUS`` was, which is why ``error_map`` trusts
known codes before statuses. The base address is passed per call (``base_address``), never
through the module global the SDK reads from the environment at import. Streams ask for
``incremental_output`` (thinking requires it; cumulative output would repeat text) and usage
is cumulative in every event, so the last one seen wins.

The SDK's aiohttp request timeout is a per-read limit for streams, set long enough for the
first token (``Timeouts.http_read``); the first-token, idle and total limits are enforced
around every attempt by ``backends.deadlines``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import urlsplit

from deepseek_cli.backends.backoff import parse_retry_after
from deepseek_cli.backends.error_map import cut_off, map_error, tls_failure, wrong_path_hint
from deepseek_cli.backends.tool_calls import ToolCallPieces
from deepseek_cli.config.profiles import Profile
from deepseek_cli.errors import ApiError, NetworkError, ServerError, TruncatedError
from deepseek_cli.events import (
    AnswerDelta,
    ChatRequest,
    Event,
    Finished,
    ThinkingDelta,
    ToolCalls,
    Usage,
    wire_messages,
)

# Where the SDK sends a chat request, below the base address.
_GENERATION_PATH = "/services/aigc/text-generation/generation"


def usage_from_native(raw: Any) -> Usage:
    if not raw:
        return Usage()
    details = raw.get("output_tokens_details") or {}
    prompt_details = raw.get("prompt_tokens_details") or {}
    inp = int(raw.get("input_tokens") or 0)
    out = int(raw.get("output_tokens") or 0)
    return Usage(
        input_tokens=inp,
        cached_tokens=int(prompt_details.get("cached_tokens") or 0),
        output_tokens=out,
        reasoning_tokens=(
            int(details["reasoning_tokens"])
            if isinstance(details.get("reasoning_tokens"), int | float)
            else None
        ),
        total_tokens=int(raw.get("total_tokens") or inp + out),
    )


class DashScopeNativeBackend:
    def __init__(self, profile: Profile, api_key: str | None) -> None:
        import dashscope
        from dashscope import AioGeneration

        # Its logger prints request bodies at debug level; our own --debug output is enough.
        logging.getLogger("dashscope").setLevel(logging.CRITICAL)
        # The SDK's stubs disagree with its runtime (async generators typed as sync), so it is
        # handled as untyped and checked item by item instead.
        self._dashscope: Any = dashscope
        self._generation: Any = AioGeneration
        self._profile = profile
        self._api_key = api_key

    async def aclose(self) -> None:
        await self._dashscope.close_shared_aio_session()

    async def list_models(self) -> list[str]:
        raise ServerError(
            "the native API has no model list", hint="use a compatible-mode profile for --live"
        )

    async def stream(
        self, request: ChatRequest, params: dict[str, Any]
    ) -> AsyncGenerator[Event, None]:
        kwargs: dict[str, Any] = {"result_format": "message", **params}
        if request.headers:
            kwargs["headers"] = dict(request.headers)  # a transport kwarg: sent as headers
        if request.stream:
            kwargs.setdefault("incremental_output", True)
        if request.tools:  # the same function-tool shape as the OpenAI API, in parameters
            kwargs["tools"] = list(request.tools)
            if request.tool_choice is not None:
                kwargs["tool_choice"] = request.tool_choice
        host = urlsplit(self._profile.base_url).netloc
        started = False  # an item arrived: a broken connection now cuts an answer
        request_id: str | None = None
        try:
            response = await self._generation.call(
                model=request.model,
                messages=wire_messages(request.messages),
                api_key=self._api_key,
                base_address=self._profile.base_url,
                stream=request.stream,
                request_timeout=self._profile.timeouts.http_read,
                **kwargs,
            )
            items: Any = response if request.stream else _once(response)
            finish: str | None = None
            usage: Usage | None = None
            # Incremental output streams a call's arguments in pieces, as the OpenAI API does.
            pieces = ToolCallPieces()
            async with contextlib.aclosing(items):
                async for item in items:
                    started = True
                    self._check(item)
                    request_id = item.request_id or request_id
                    if item.usage:
                        usage = usage_from_native(item.usage)
                    for choice in item.output.choices or ():
                        message = choice.get("message") or {}
                        thinking = message.get("reasoning_content")
                        if thinking:
                            yield ThinkingDelta(thinking)
                        if message.get("content"):
                            yield AnswerDelta(message["content"])
                        pieces.feed(message.get("tool_calls"))
                        reason = choice.get("finish_reason")
                        if reason and reason != "null":
                            finish = reason
        except ApiError:
            raise
        except TypeError:
            # The SDK crashes on an HTTP 200 body that carries an error instead of output.
            raise ServerError(f"{host} returned an error body with HTTP 200") from None
        except Exception as exc:
            if (tls := tls_failure(exc, host)) is not None:
                raise tls from None
            if _is_network_error(exc) and started:
                raise cut_off(exc, self._profile.base_url, request_id) from None
            if _is_network_error(exc):
                raise NetworkError(
                    f"cannot reach {host} ({type(exc).__name__}: {exc})",
                    hint="check the base URL and network",
                ) from None
            raise
        if finish is None:
            raise TruncatedError("the stream ended without a finish reason", request_id=request_id)
        if calls := pieces.calls():
            yield ToolCalls(calls)
        if usage is not None:
            yield usage
        yield Finished(finish, request_id)

    def _check(self, item: Any) -> None:
        if item.status_code == 200 and item.output is not None:
            return
        headers = getattr(item, "headers", None) or {}
        # "Unknown" is the SDK's placeholder when the body named no code, not the provider's.
        code = item.code if item.code and item.code != "Unknown" else None
        status = int(item.status_code) if item.status_code else None
        error = map_error(
            provider="dashscope",
            status=status,
            code=code,
            message=item.message,
            request_id=item.request_id,
            retry_after=parse_retry_after(headers),
        )
        if status == 404 and code is None:
            # No DashScope error at all: the path is wrong, most often a base_url copied from
            # compatible mode or without /api/v1. Name the URL and what it should look like.
            error.message = f"no DashScope endpoint at {self._profile.base_url}{_GENERATION_PATH}"
            error.hint = wrong_path_hint("dashscope", self._profile.base_url, native=True)
        raise error


async def _once(item: Any) -> AsyncGenerator[Any, None]:
    yield item


def _is_network_error(exc: Exception) -> bool:
    import asyncio

    module = type(exc).__module__
    return module.startswith(("aiohttp", "requests", "urllib3")) or isinstance(
        exc, ConnectionError | asyncio.TimeoutError | OSError
    )
