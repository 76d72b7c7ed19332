"""Conversation state: accumulating a reply and deciding what history is sent back.

Generators only yield; :class:`Reply` folds events into the final result. History keeps each
answer and its thinking; ``events.wire_messages`` decides what goes back to the provider:
thinking never on plain turns (DeepSeek answered 400 to it in 2025 and ignores it now), but
always on the turns of an exchange that called tools, which current DeepSeek requires.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from deepseek_cli.events import (
    AnswerDelta,
    Event,
    Finished,
    Message,
    ThinkingDelta,
    ToolCall,
    ToolCalls,
    Usage,
)


@dataclass
class Reply:
    """Everything one request produced, filled in event by event."""

    started: float = field(default_factory=time.monotonic)
    thinking_parts: list[str] = field(default_factory=list)
    answer_parts: list[str] = field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None
    request_id: str | None = None
    first_token_at: float | None = None
    ended: float | None = None
    served_model: str | None = None
    # The functions the model asked to call (an answer in its own right, text or none).
    tool_calls: tuple[ToolCall, ...] = ()
    # The usage is our estimate from the text that arrived: the server reported none (a cut
    # stream, an interrupted answer), and zero tokens would be a lie.
    usage_estimated: bool = False

    def add(self, event: Event) -> None:
        match event:
            case ThinkingDelta(text):
                self._token()
                self.thinking_parts.append(text)
            case AnswerDelta(text):
                self._token()
                self.answer_parts.append(text)
            case ToolCalls(calls):
                self.tool_calls = calls
            case Usage():
                self.usage = event
            case Finished(reason, request_id, model):
                self.finish_reason = reason
                self.request_id = request_id or self.request_id
                self.served_model = model or self.served_model
                self.ended = time.monotonic()

    def _token(self) -> None:
        if self.first_token_at is None:
            self.first_token_at = time.monotonic()

    def finish(self) -> None:
        if self.ended is None:
            self.ended = time.monotonic()

    @property
    def thinking(self) -> str:
        return "".join(self.thinking_parts)

    @property
    def answer(self) -> str:
        return "".join(self.answer_parts)

    @property
    def latency_ms(self) -> int:
        return int(((self.ended or time.monotonic()) - self.started) * 1000)

    @property
    def ttft_ms(self) -> int | None:
        if self.first_token_at is None:
            return None
        return int((self.first_token_at - self.started) * 1000)


def build_messages(
    prompt: str,
    *,
    system: str | None = None,
    history: tuple[Message, ...] = (),
    prefix: str | None = None,
) -> tuple[Message, ...]:
    messages: list[Message] = []
    if system:
        messages.append(Message("system", system))
    # Whole, thinking and tool turns included: the wire rules pick what is sent.
    messages.extend(history)
    messages.append(Message("user", prompt))
    if prefix is not None:
        messages.append(Message("assistant", prefix, prefix=True))
    return tuple(messages)
