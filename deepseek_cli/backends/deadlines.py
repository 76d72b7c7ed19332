"""The first-token and total deadlines of one attempt, enforced on the events themselves.

Three deadlines, because keep-alive comments must not keep a request alive forever: the
connect and idle limits live in the HTTP client (a keep-alive re-arms the idle timer), while
the first-token and total deadlines are enforced here, so a server that only sends
``: keep-alive`` still fails at the first-token deadline. Shared by ``chat`` (one request with
retries) and ``batch`` (many attempts, each its own task).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

from deepseek_cli.backends import Backend
from deepseek_cli.config.profiles import Timeouts
from deepseek_cli.errors import TimeoutExpired
from deepseek_cli.events import AnswerDelta, ChatRequest, Event, ThinkingDelta


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
