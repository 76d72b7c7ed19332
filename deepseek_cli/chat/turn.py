"""Runs one request end to end: warnings and notices, retries, rendering, cost and ledger.

Shared by ``ask`` and ``chat``: a command builds the request and a renderer, this module does
the rest, and always leaves a ledger row behind (also for failures, interruptions and closed
pipes), because "what did that cost" must not depend on how the call ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Literal

from deepseek_cli.backends import make_backend
from deepseek_cli.backends.params import Plan, plan_request
from deepseek_cli.catalog.pricing import Cost, cost_of
from deepseek_cli.catalog.tokens import with_estimated_usage
from deepseek_cli.chat.retries import RetryingCall, RetryPolicy
from deepseek_cli.config.settings import Settings
from deepseek_cli.conversation import Reply
from deepseek_cli.errors import ApiError, NoAnswerError, Terminated
from deepseek_cli.events import ChatRequest, Message
from deepseek_cli.ledger import store as ledger
from deepseek_cli.render import stderr as say
from deepseek_cli.render.renderer import Renderer
from deepseek_cli.render.stdout import OutputClosed

# How a turn ended. "output_closed": the reader of stdout went away (``| head``) mid-answer.
TurnEnd = Literal["ok", "failed", "interrupted", "output_closed"]


@dataclass
class Outcome:
    reply: Reply
    cost: Cost | None
    attempts: int
    status: TurnEnd
    error: ApiError | None = None  # when "failed"; the ledger records its kind

    @property
    def ledger_outcome(self) -> str:
        """The ledger's ``outcome`` column: the status, or for a failure the error's kind."""
        return self.error.kind if self.error is not None else self.status


def cut_by_max_tokens(plan: Plan, reply: Reply) -> NoAnswerError | None:
    """Say on stderr that max_tokens cut the answer; an error when no answer came at all
    (thinking used it up), which the command reports after its output, exiting non-zero."""
    if reply.finish_reason != "length":
        return None
    limit = plan.params.get("max_tokens")
    where = f"max_tokens ({limit})" if limit is not None else "the model's output limit"
    if reply.answer.strip():
        say.warning(f"the answer was cut off at {where}; raise --max-tokens for the rest")
        return None
    if reply.thinking:
        return NoAnswerError(
            f"no answer: thinking used up {where}",
            "raise --max-tokens, lower --budget, or use --no-think",
        )
    return NoAnswerError(f"no answer within {where}", "raise --max-tokens")


def plan_and_warn(settings: Settings, request: ChatRequest) -> Plan:
    """The request's plan for the provider, after warning about a deprecated model and
    printing the plan's notices (what was mapped or dropped), before anything is sent."""
    info = settings.model_info
    if info is not None and (line := info.status_line()):
        say.warning(line)
    plan = plan_request(request, settings.profile.provider, info)
    for text in plan.notices:
        say.notice(text)
    return plan


def reply_cost(settings: Settings, reply: Reply, factor: float = 1.0) -> Cost | None:
    """What ``reply`` cost at the price in force now; ``None`` when unknown."""
    if reply.usage is None:
        return None
    return cost_of(reply.usage, settings.price(settings.profile.model), factor)


def record_usage(
    settings: Settings,
    command: str,
    outcome: Outcome,
    messages: tuple[Message, ...],
    *,
    prompt: str | None = None,
) -> None:
    """Append the ledger row; a ledger failure warns and never fails the user's answer.

    Text that arrived without a usage report (a cut stream, Ctrl-C) was generated and is
    billed: the row gets an estimate, marked as one, rather than zero tokens."""
    reply = with_estimated_usage(outcome.reply, messages)
    cost = reply_cost(settings, reply) if reply.usage_estimated else outcome.cost
    site = ledger.CallSite.of(command, settings.profile, settings.log_prompts)
    row = site.row(
        settings.profile.model, outcome.ledger_outcome, reply, cost, outcome.attempts, prompt=prompt
    )
    try:
        ledger.record(settings.ledger_path, row)
    except (sqlite3.Error, OSError) as exc:
        # A warning, not a failure: the answer was delivered, and a script must not fail
        # (or retry and pay again) because bookkeeping could not be written.
        say.warning(f"usage not recorded in {settings.ledger_path}: {exc}")


async def _execute(
    settings: Settings,
    request: ChatRequest,
    params: dict[str, Any],
    renderer: Renderer,
    reply: Reply,
    call_box: list[RetryingCall],
    policy: RetryPolicy,
) -> None:
    key = settings.api_key.value if settings.api_key else None
    backend = make_backend(settings.profile, key)
    # Latency is the provider's, not the SDK import's.
    reply.started = time.monotonic()

    def on_retry(attempt: int, exc: ApiError, delay: float) -> None:
        renderer.on_notice(
            f"{exc.what} ({exc.message}); retrying in {delay:.1f} s "
            f"(attempt {attempt + 1} of {policy.max_attempts})"
        )

    call = RetryingCall(backend, settings.profile.timeouts, policy, on_retry)
    call_box.append(call)
    ticker = asyncio.create_task(_tick(renderer))
    try:
        # aclosing: an exception from the renderer must close the whole generator chain
        # (down to the HTTP stream) now, in order, not later from the garbage collector.
        async with contextlib.aclosing(call.stream(request, params)) as events:
            async for event in events:
                reply.add(event)
                renderer.on_event(event)
    finally:
        ticker.cancel()
        reply.finish()
        await backend.aclose()


async def _tick(renderer: Renderer) -> None:
    """Heartbeat: the live region keeps moving while the server says nothing."""
    while True:
        await asyncio.sleep(0.1)
        renderer.tick()


def run_turn(
    settings: Settings,
    request: ChatRequest,
    plan: Plan,
    renderer: Renderer,
    *,
    command: str,
    prompt: str | None = None,
    policy: RetryPolicy | None = None,
    reply: Reply | None = None,
) -> Outcome:
    """One ask or chat turn: send the request (with retries), render the answer, record the
    ledger row. Raises ``ApiError`` or ``KeyboardInterrupt`` after closing the renderer and
    recording the row; a caller that passes ``reply`` keeps whatever arrived before the
    failure."""
    policy = policy or RetryPolicy(
        max_attempts=settings.profile.batch_defaults.get("max_attempts", 3)
    )
    reply = reply if reply is not None else Reply()
    box: list[RetryingCall] = []

    def outcome(status: TurnEnd, error: ApiError | None = None) -> Outcome:
        attempts = box[0].attempts if box else 0
        return Outcome(reply, reply_cost(settings, reply), attempts, status, error)

    try:
        asyncio.run(_execute(settings, request, plan.params, renderer, reply, box, policy))
    except ApiError as exc:
        renderer.close(reply, complete=False)
        record_usage(settings, command, outcome("failed", exc), request.messages, prompt=prompt)
        raise
    except OutputClosed:
        result = outcome("output_closed")
        record_usage(settings, command, result, request.messages, prompt=prompt)
        return result
    except (KeyboardInterrupt, Terminated):
        renderer.close(reply, complete=False, interrupted=True)
        record_usage(settings, command, outcome("interrupted"), request.messages, prompt=prompt)
        raise
    result = outcome("ok")
    renderer.close(reply, complete=True)
    record_usage(settings, command, result, request.messages, prompt=prompt)
    return result
