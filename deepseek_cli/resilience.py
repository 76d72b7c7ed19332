"""Deadlines and retries around one backend stream.

Three deadlines, because keep-alive comments must not keep a request alive forever: the
connect and idle limits live in the HTTP client (a keep-alive re-arms the idle timer), while
the first-token and total deadlines are enforced here on the events themselves, so a server
that only sends ``: keep-alive`` still fails at the first-token deadline.

Retries are ours, not the SDKs' (theirs are off): bounded, exponential with jitter, honouring
Retry-After, and only while nothing has been shown, because replaying a request whose answer
is half on screen would duplicate text and double the bill.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

from .backends import Backend
from .config import Timeouts
from .errors import ApiError, TimeoutExpired
from .events import AnswerDelta, ChatRequest, Event, ThinkingDelta


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
        ceiling = min(self.base_delay * 2.0 ** (attempt - 1), self.max_delay)
        return ceiling * random.uniform(0.75, 1.0)


async def attempt_stream(
    backend: Backend, request: ChatRequest, params: dict[str, Any], timeouts: Timeouts
) -> AsyncGenerator[Event, None]:
    """One attempt, failing with :class:`TimeoutExpired` at the first-token or total deadline."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    total_at = start + timeouts.total
    first_at = start + min(timeouts.first_token, timeouts.total)
    got_token = False
    events = backend.stream(request, params)
    try:
        while True:
            deadline = total_at if got_token else first_at
            try:
                # The timeout covers only the wait for the next event, not our consumer's work.
                async with asyncio.timeout_at(deadline):
                    event = await events.__anext__()
            except StopAsyncIteration:
                return
            except TimeoutError:
                which = "total" if got_token else "first-token"
                limit = timeouts.total if got_token else min(timeouts.first_token, timeouts.total)
                raise TimeoutExpired(
                    f"no {'end of answer' if got_token else 'first token'} within {limit:g} s "
                    f"({which} deadline)",
                    hint="raise --timeout, or try again later",
                ) from None
            if not got_token and isinstance(event, ThinkingDelta | AnswerDelta):
                got_token = True
            yield event
    finally:
        await events.aclose()


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
