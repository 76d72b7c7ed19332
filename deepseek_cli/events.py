"""Typed values that flow between backends, sessions and renderers.

A backend turns a :class:`ChatRequest` into a stream of events: thinking and answer deltas in
arrival order, then at most one :class:`Usage`, then exactly one :class:`Finished`. Nothing
structural is ever encoded in text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str
    # Kept so a transcript can show it; history rules decide whether it is ever sent back.
    reasoning: str | None = None
    prefix: bool = False

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.prefix:
            wire["prefix"] = True
        return wire


@dataclass(frozen=True)
class ChatRequest:
    """Everything the user asked for, before any provider-specific mapping."""

    model: str
    messages: tuple[Message, ...]
    thinking: bool | None = None
    thinking_budget: int | None = None
    reasoning_effort: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    search: bool | None = None
    json_object: bool = False
    stop: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    stream: bool = True
    # DeepSeek FIM (beta): the prompt is the prefix, this is the suffix.
    suffix: str | None = None
    # Extra HTTP headers, e.g. a client request id the provider can correlate.
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ThinkingDelta:
    text: str


@dataclass(frozen=True)
class AnswerDelta:
    text: str


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    # None: the server did not say (no ``completion_tokens_details``); unknown is not zero.
    reasoning_tokens: int | None = None
    total_tokens: int = 0

    def to_json(self) -> dict[str, int | None]:
        return {
            "input_tokens": self.input_tokens,
            "cached_tokens": self.cached_tokens,
            "output_tokens": self.output_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass(frozen=True)
class Finished:
    finish_reason: str
    request_id: str | None = None
    # The model the response names, which may differ from the one asked for (DeepSeek's
    # /beta endpoints, an alias on a self-hosted server).
    model: str | None = None


Event = ThinkingDelta | AnswerDelta | Usage | Finished
