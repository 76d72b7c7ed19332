"""Adapter for OpenAI-compatible endpoints: DashScope compatible mode, DeepSeek, vLLM, Ollama.

Uses the official ``openai`` SDK with its retries off (retries are ours: they must stop once
output was shown) and with the key and base URL always passed explicitly, with every
``OPENAI_*`` variable hidden while the client is built so none can redirect or decorate our
requests. Traps handled here: usage arrives in a ``choices: []`` chunk (DashScope) or on the
finish chunk (DeepSeek), thinking is ``reasoning_content`` or ``reasoning`` (vLLM, Ollama), a
flat ``{"code", "message"}`` object inside a stream is an error the SDK yields as a chunk, a
stream that ends without a finish reason was cut off, and a generic server without a reasoning
parser leaves ``<think>...</think>`` inline (``backends.inline_think``).

A whole ``chat.completion`` is read in one place, :func:`read_completion`, for the SDK object
a call returns and for the plain dict of a Batch result line alike (``batch fetch`` must read
an answer exactly as a call does).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from typing import Any

from deepseek_cli.backends.error_map import (
    cut_off,
    map_error,
)
from deepseek_cli.backends.inline_think import InlineThinkSplitter, split_whole
from deepseek_cli.backends.sdk_errors import keyless_hint, map_sdk_error
from deepseek_cli.backends.tool_calls import ToolCallPieces, whole_calls
from deepseek_cli.config.profiles import Profile, api_root
from deepseek_cli.errors import ApiError, AuthError, TruncatedError
from deepseek_cli.events import (
    AnswerDelta,
    ChatRequest,
    Event,
    Finished,
    ThinkingDelta,
    ToolCall,
    ToolCalls,
    Usage,
    wire_messages,
)

# JSON values that cannot be an object: a usage that is one of these is no usage.
_JSON_VALUES = (str, int, float, list)


@contextlib.contextmanager
def _without_openai_env() -> Iterator[None]:
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("OPENAI_")}
    try:
        yield
    finally:
        os.environ.update(saved)


def _field(obj: Any, name: str) -> Any:
    """``obj[name]`` of a plain dict (a line of a Batch result file), else the SDK object's
    attribute, falling back to its extras (fields the SDK does not declare, like
    ``reasoning_content``). Plain attribute reads: this runs per request and per chunk."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    value = getattr(obj, name, None)
    if value is None and getattr(obj, "model_extra", None):
        value = obj.model_extra.get(name)
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def usage_from_openai(raw: Any) -> Usage:
    """Read usage from an OpenAI-shaped object, including DeepSeek's cache-hit fields."""
    prompt = _field(raw, "prompt_tokens") or 0
    cached = _field(_field(raw, "prompt_tokens_details"), "cached_tokens")
    if cached is None:
        cached = _field(raw, "prompt_cache_hit_tokens")
    completion = _field(raw, "completion_tokens") or 0
    reasoning = _field(_field(raw, "completion_tokens_details"), "reasoning_tokens")
    total = _field(raw, "total_tokens") or prompt + completion
    return Usage(
        int(prompt),
        int(cached or 0),
        int(completion),
        int(reasoning) if isinstance(reasoning, int | float) else None,
        int(total),
    )


def reasoning_text(message: Any) -> str | None:
    """The thinking of a message or a stream delta: ``reasoning_content`` (DeepSeek,
    DashScope) or ``reasoning`` (vLLM, Ollama)."""
    return _text(_field(message, "reasoning_content") or _field(message, "reasoning"))


@dataclass(frozen=True, slots=True)
class Choice:
    answer: str | None
    thinking: str | None
    finish_reason: str | None
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True, slots=True)
class Completion:
    """What a ``chat.completion`` says, whoever parsed the JSON."""

    choices: list[Choice]
    usage: Usage | None
    id: str | None
    model: str | None = None


def read_completion(body: Any) -> Completion:
    """A ``chat.completion``: the SDK object a call returns, or the plain dict a Batch result
    line carries (``response.body``). Anything missing or of the wrong type reads as absent,
    since a result file is the provider's data, not ours."""
    raw_choices = _field(body, "choices")
    choices = []
    for item in raw_choices if isinstance(raw_choices, list) else ():
        message = _field(item, "message")
        choices.append(
            Choice(
                _text(_field(message, "content")),
                reasoning_text(message),
                _text(_field(item, "finish_reason")),
                whole_calls(message),
            )
        )
    raw_usage = _field(body, "usage")
    usage = None if raw_usage is None or isinstance(raw_usage, _JSON_VALUES) else raw_usage
    return Completion(
        choices,
        usage_from_openai(usage) if usage is not None else None,
        _text(_field(body, "id")),
        _text(_field(body, "model")) or None,
    )


def tool_options(request: ChatRequest) -> dict[str, Any]:
    """The SDK's ``tools``/``tool_choice`` arguments, only when there are tools."""
    if not request.tools:
        return {}
    options: dict[str, Any] = {"tools": list(request.tools)}
    if request.tool_choice is not None:
        options["tool_choice"] = request.tool_choice
    return options


def beta_url(base_url: str) -> str:
    """DeepSeek's beta features (chat prefix completion, FIM) live at ``/beta``."""
    return api_root(base_url) + "/beta"


class OpenAICompatBackend:
    def __init__(self, profile: Profile, api_key: str | None, http_client: Any = None) -> None:
        with _without_openai_env():
            import openai
        logging.getLogger("openai").setLevel(logging.WARNING)
        self._openai = openai
        self._profile = profile
        self._api_key = api_key or "no-key"
        self._keyless = api_key is None
        self._http_client = http_client
        self._clients: dict[str, Any] = {}
        # Only a generic server may lack a reasoning parser; a provider's own API never puts
        # thinking in the content, and there a leading "<think>" is the answer's own text.
        self._inline_thinking = profile.provider == "openai"

    def _client(self, base_url: str) -> Any:
        client = self._clients.get(base_url)
        if client is None:
            t = self._profile.timeouts
            with _without_openai_env():
                client = self._openai.AsyncOpenAI(
                    api_key=self._api_key,
                    base_url=base_url,
                    max_retries=0,
                    timeout=self._openai.Timeout(
                        t.total, connect=t.connect, read=t.http_read, write=t.idle
                    ),
                    http_client=self._http_client,
                )
            self._clients[base_url] = client
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()

    async def list_models(self) -> list[str]:
        try:
            page = await self._client(self._profile.base_url).models.list()
            return [m.id for m in page.data or []]
        except self._openai.OpenAIError as exc:
            raise self._map(exc) from None

    # -- streaming
    async def stream(
        self, request: ChatRequest, params: dict[str, Any]
    ) -> AsyncGenerator[Event, None]:
        needs_beta = request.suffix is not None or (
            bool(request.messages) and request.messages[-1].prefix
        )
        if needs_beta and self._profile.provider == "deepseek":
            base = beta_url(self._profile.base_url)
        else:
            base = self._profile.base_url
        client = self._client(base)
        if request.suffix is not None:
            inner = self._fim(client, request, params)
        elif request.stream:
            inner = self._chat_stream(client, request, params)
        else:
            inner = self._chat_once(client, request, params)
        try:
            async with contextlib.aclosing(inner) as events:
                async for event in events:
                    yield event
        except self._openai.OpenAIError as exc:
            raise self._map(exc) from None

    async def _chat_stream(
        self, client: Any, request: ChatRequest, params: dict[str, Any]
    ) -> AsyncGenerator[Event, None]:
        body = {"stream_options": {"include_usage": True}, **params}
        stream = await client.chat.completions.create(
            model=request.model,
            messages=wire_messages(request.messages),
            stream=True,
            extra_body=body,
            extra_headers=request.headers or None,
            **tool_options(request),
        )
        request_id = stream.response.headers.get("x-request-id")
        finish: str | None = None
        usage: Usage | None = None
        inline = InlineThinkSplitter() if self._inline_thinking else None
        served: str | None = None
        pieces = ToolCallPieces()
        try:
            async for chunk in stream:
                extra = chunk.model_extra or {}
                if chunk.choices is None and extra.get("code"):
                    # DashScope's flat in-stream error: the SDK yields it as a chunk.
                    raise map_error(
                        provider=self._profile.provider,
                        status=None,
                        code=str(extra.get("code")),
                        message=extra.get("message"),
                        request_id=extra.get("request_id") or request_id,
                    )
                if request_id is None and chunk.id:
                    request_id = chunk.id.removeprefix("chatcmpl-")
                served = served or chunk.model or None
                if chunk.usage is not None:
                    usage = usage_from_openai(chunk.usage)
                for choice in chunk.choices or ():
                    delta = choice.delta
                    if delta is not None:
                        thinking = reasoning_text(delta)
                        if thinking:
                            yield ThinkingDelta(thinking)
                        if delta.content:
                            if inline is None:
                                yield AnswerDelta(delta.content)
                            else:
                                for piece in inline.feed(delta.content):
                                    yield piece
                        if delta.tool_calls:
                            pieces.feed(delta.tool_calls)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        except self._openai.APITimeoutError:
            raise  # a subclass of APIConnectionError, but a deadline: mapped as one
        except self._openai.APIConnectionError as exc:
            # The server answered and then the connection broke: the answer was cut, the
            # address is fine.
            raise cut_off(exc, self._profile.base_url, request_id) from None
        finally:
            await stream.close()
        for rest in inline.flush() if inline is not None else ():
            yield rest
        if calls := pieces.calls():
            yield ToolCalls(calls)
        for event in self._ending(finish, usage, request_id, served):
            yield event

    def _ending(
        self,
        finish: str | None,
        usage: Usage | None,
        request_id: str | None,
        model: str | None = None,
    ) -> list[Event]:
        if finish is None:
            raise TruncatedError(
                "the stream ended without a finish reason",
                request_id=request_id,
                hint="the connection was cut; try again",
            )
        if finish == "insufficient_system_resource":
            raise TruncatedError(
                "the provider ran out of inference resources mid-answer",
                code=finish,
                request_id=request_id,
            )
        events: list[Event] = [usage] if usage is not None else []
        events.append(Finished(finish, request_id, model))
        return events

    async def _chat_once(
        self, client: Any, request: ChatRequest, params: dict[str, Any]
    ) -> AsyncGenerator[Event, None]:
        raw = await client.chat.completions.with_raw_response.create(
            model=request.model,
            messages=wire_messages(request.messages),
            stream=False,
            extra_body=params,
            extra_headers=request.headers or None,
            **tool_options(request),
        )
        completion = read_completion(raw.parse())
        request_id = raw.headers.get("x-request-id") or (completion.id or "").removeprefix(
            "chatcmpl-"
        )
        finish = None
        calls: tuple[ToolCall, ...] = ()
        for choice in completion.choices:
            thinking, answer = choice.thinking, choice.answer
            if answer and not thinking and self._inline_thinking:
                thinking, answer = split_whole(answer)
            if thinking:
                yield ThinkingDelta(thinking)
            if answer:
                yield AnswerDelta(answer)
            finish = choice.finish_reason or finish
            calls = calls or choice.tool_calls
        if calls:
            yield ToolCalls(calls)
        for event in self._ending(finish, completion.usage, request_id or None, completion.model):
            yield event

    async def _fim(
        self, client: Any, request: ChatRequest, params: dict[str, Any]
    ) -> AsyncGenerator[Event, None]:
        prompt = request.messages[-1].content if request.messages else ""
        raw = await client.completions.with_raw_response.create(
            model=request.model,
            prompt=prompt,
            suffix=request.suffix,
            stream=False,
            extra_body=params,
            extra_headers=request.headers or None,
        )
        completion = raw.parse()
        finish = None
        for choice in completion.choices or ():
            if choice.text:
                yield AnswerDelta(choice.text)
            finish = choice.finish_reason or finish
        usage = usage_from_openai(completion.usage) if completion.usage else None
        request_id = raw.headers.get("x-request-id") or completion.id
        for event in self._ending(finish, usage, request_id, _text(completion.model) or None):
            yield event

    # -- errors
    def _map(self, exc: Exception) -> ApiError:
        error = map_sdk_error(self._openai, exc, self._profile.provider, self._profile.base_url)
        if self._keyless and isinstance(error, AuthError):
            error.hint = keyless_hint(self._profile)
        return error
