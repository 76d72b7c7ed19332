"""Retries of one ask or chat request: bounded, with backoff, and only before output is shown.

Retries are ours, not the SDKs' (theirs are off): bounded, exponential with jitter, honouring
Retry-After, and only while nothing has been shown, because replaying a request whose answer
is half on screen would duplicate text and double the bill.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

from deepseek_cli.backends import Backend
from deepseek_cli.backends.backoff import backoff_delay
from deepseek_cli.backends.deadlines import attempt_stream
from deepseek_cli.config.profiles import Timeouts
from deepseek_cli.errors import ApiError
from deepseek_cli.events import AnswerDelta, ChatRequest, Event, ThinkingDelta


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds before attempt ``attempt + 1``; ``None`` when the server asks too much."""
        if retry_after is not None:
            return float(retry_after) if retry_after <= self.max_retry_after else None
        return backoff_delay(attempt, self.base_delay, self.max_delay, jitter=0.25)


class RetryingCall:
    """One logical request that may take several attempts; counts them for the ledger."""

    def __init__(
        self,
        backend: Backend,
        timeouts: Timeouts,
        policy: RetryPolicy,
        on_retry: Callable[[int, ApiError, float], None] | None = None,
    ) -> None:
        self.backend = backend
        self.timeouts = timeouts
        self.policy = policy
        self.on_retry = on_retry
        self.attempts = 0

    async def stream(
        self, request: ChatRequest, params: dict[str, Any]
    ) -> AsyncGenerator[Event, None]:
        while True:
            self.attempts += 1
            shown = False
            try:
                attempt = attempt_stream(self.backend, request, params, self.timeouts)
                async with contextlib.aclosing(attempt) as events:
                    async for event in events:
                        if isinstance(event, ThinkingDelta | AnswerDelta):
                            shown = True
                        yield event
            except ApiError as exc:
                if shown or not exc.retryable or self.attempts >= self.policy.max_attempts:
                    raise
                delay = self.policy.delay(self.attempts, exc.retry_after)
                if delay is None:
                    exc.hint = f"the provider asked to wait {exc.retry_after:g} s; try again later"
                    raise
                if self.on_retry is not None:
                    self.on_retry(self.attempts, exc, delay)
                await asyncio.sleep(delay)
            else:
                return
