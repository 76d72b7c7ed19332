"""The first-token, idle and total deadlines of one attempt, enforced on the events themselves.

Until the first token only the connect and first-token deadlines apply: a CPU server (llama.cpp
on 2 cores) sends its headers at once and then nothing while it reads a long prompt, and a
queueing provider sends only ``: keep-alive`` comments. The HTTP client's read limit is
therefore at least the first-token deadline (``Timeouts.http_read``), and the idle limit (no
event for that long once tokens flow) and the total deadline are enforced here, so a server
that only sends keep-alives still fails at the first-token deadline. Shared by ``chat`` (one
request with retries) and ``batch`` (many attempts, each its own task).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any, Literal

from deepseek_cli.backends import Backend
from deepseek_cli.config.profiles import Timeouts
from deepseek_cli.errors import TimeoutExpired
from deepseek_cli.events import AnswerDelta, ChatRequest, Event, ThinkingDelta

Deadline = Literal["first-token", "idle", "total"]


async def attempt_stream(
    backend: Backend, request: ChatRequest, params: dict[str, Any], timeouts: Timeouts
) -> AsyncGenerator[Event, None]:
    """One attempt, failing with :class:`TimeoutExpired` at the first-token, idle or total
    deadline."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    total_at = start + timeouts.total
    first_at = start + timeouts.first_wait
    got_token = False
    events = backend.stream(request, params)
    try:
        while True:
            which: Deadline = "first-token"
            deadline = first_at
            if got_token:
                # Measured from now: the consumer's work on the last event does not count.
                idle_at = loop.time() + timeouts.idle
                deadline, which = (idle_at, "idle") if idle_at < total_at else (total_at, "total")
            try:
                async with asyncio.timeout_at(deadline):
                    event = await events.__anext__()
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise _expired(timeouts, which) from None
            got_token = got_token or isinstance(event, ThinkingDelta | AnswerDelta)
            yield event
    finally:
        await events.aclose()


def _expired(timeouts: Timeouts, which: Deadline) -> TimeoutExpired:
    """The error naming the deadline that fired, and the setting that raises it."""
    if which == "idle":
        return TimeoutExpired(
            f"the answer stopped: nothing for {timeouts.idle:g} s (idle deadline)",
            hint="raise idle_timeout in the profile, or try again later",
        )
    if which == "total":
        return TimeoutExpired(
            f"no end of answer within {timeouts.total:g} s (total deadline)",
            hint="raise --timeout, or try again later",
        )
    return TimeoutExpired(
        f"no first token within {timeouts.first_wait:g} s (first-token deadline)",
        hint="a long prompt on a slow server takes a while: raise --timeout "
        "(or first_token_timeout in the profile), or try again later",
    )
