"""Typed values that flow between backends, sessions and renderers.

A backend turns a :class:`ChatRequest` into a stream of events: thinking and answer deltas in
arrival order, then the :class:`ToolCalls` if the model asked for any, then at most one
:class:`Usage`, then exactly one :class:`Finished`. Nothing
structural is ever encoded in text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    """One function call a model asked for: ``arguments`` is the JSON text it wrote."""

    id: str
    name: str
    arguments: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True)
class Message:
    role: Role
    content: str
    # Kept so a transcript can show it; history rules decide whether it is ever sent back.
    reasoning: str | None = None
    prefix: bool = False
    tool_calls: tuple[ToolCall, ...] = ()  # an assistant turn that asked for tools
    tool_call_id: str | None = None  # a tool result: the call it answers

    def to_wire(self, *, with_reasoning: bool = False) -> dict[str, Any]:
        """The message as the chat API takes it. ``with_reasoning``: the thinking goes back
        too (DeepSeek requires it on the turns of an exchange that called tools)."""
        wire: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            wire["tool_calls"] = [call.to_wire() for call in self.tool_calls]
        if self.tool_call_id is not None:
            wire["tool_call_id"] = self.tool_call_id
        if with_reasoning and self.reasoning is not None and self.role == "assistant":
            wire["reasoning_content"] = self.reasoning
        if self.prefix:
            wire["prefix"] = True
        return wire


def wire_messages(messages: tuple[Message, ...] | list[Message]) -> list[dict[str, Any]]:
    """The messages for the wire, thinking sent back only where it must be.

    DeepSeek's rule (2026): when the model called tools between two user messages, the
    ``reasoning_content`` of every assistant turn between them goes back in every later
    request, or the request is refused (400); elsewhere thinking is never sent back.
    """
    wire: list[dict[str, Any]] = []
    start = 0
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    for end in [*users[1:], len(messages)]:
        segment = messages[start:end]
        called = any(m.tool_calls for m in segment)
        wire.extend(m.to_wire(with_reasoning=called) for m in segment)
        start = end
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
    # Function tools, OpenAI-style ({"type": "function", "function": {...}}), and the choice.
    tools: tuple[dict[str, Any], ...] = ()
    tool_choice: str | dict[str, Any] | None = None


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


@dataclass(frozen=True)
class ToolCalls:
    """The tool calls of a response, whole (streamed pieces joined), before its Usage."""

    calls: tuple[ToolCall, ...]


Event = ThinkingDelta | AnswerDelta | ToolCalls | Usage | Finished
