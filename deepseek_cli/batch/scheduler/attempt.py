"""One attempt of a batch item: the request as sent, its reply, and what its end leads to.

Why streaming is decided here, per attempt: non-streaming is the default, because a batch
shows nothing while a request runs, and one JSON body costs one parse where a stream costs
one per token (hundreds for a real answer, each a pydantic model in the SDK), which matters
at hundreds of requests per second on a 2-core machine. An attempt streams when it must or
when streaming buys something: ``--stream``; DashScope thinking on a model that refuses
non-streamed thinking (catalog); after the provider answered that the model only streams
(remembered for the job); and a retry after a timeout, because a stream has a first-token
deadline that tells a queued request from a slow answer. Non-streamed attempts are bounded by
the total deadline alone (their first "token" is the whole answer).

When the attempt ends, the item's gate is told (``limits``), the outcome policy decides
(``policy``) and the action is carried out here; every attempt, whatever its end, is a row
for the usage ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from deepseek_cli.backends import Backend
from deepseek_cli.backends.deadlines import attempt_stream
from deepseek_cli.backends.error_map import clean_message
from deepseek_cli.batch.budget import Budget, attempt_spend
from deepseek_cli.batch.input.grammar import RequestLine
from deepseek_cli.batch.ledger_feed import LedgerFeed
from deepseek_cli.batch.limits import Gate
from deepseek_cli.batch.planner import Planner
from deepseek_cli.batch.scheduler.backlog import Backlog, Item
from deepseek_cli.batch.scheduler.policy import (
    Action,
    Fault,
    GateAnswer,
    ItemState,
    Pause,
    Retry,
    Rules,
    Stop,
    StreamFromNow,
    WriteError,
    WriteSuccess,
    decide,
    fault_of,
)
from deepseek_cli.batch.scheduler.results import Results
from deepseek_cli.batch.scheduler.stop_reason import StopReason
from deepseek_cli.batch.stats import Stats
from deepseek_cli.catalog.pricing import Cost
from deepseek_cli.catalog.tokens import with_estimated_usage
from deepseek_cli.config.profiles import Timeouts
from deepseek_cli.config.settings import Settings
from deepseek_cli.conversation import Reply
from deepseek_cli.errors import ApiError, ServerError, TimeoutExpired
from deepseek_cli.events import ChatRequest, Message
from deepseek_cli.ledger import store as ledger
from deepseek_cli.render.progress import BatchProgress

LONG_PAUSE = 5.0  # pauses at least this long are announced
CANARY_ID = "(canary)"  # the breaker's own probe: never an input id (ids are not parenthesised)
_NO_ANSWER = GateAnswer()

Stopper = Callable[[StopReason, BaseException | None], None]


@dataclasses.dataclass(frozen=True, slots=True)
class AttemptContext:
    """What every attempt of a job shares."""

    settings: Settings
    backend: Backend
    planner: Planner
    timeouts: Timeouts
    batch_id: str
    force_stream: bool
    rules: Rules
    outage_budget: float
    budget: Budget | None = None  # --max-cost


class Attempts:
    """Runs attempts (one task each) and applies their outcomes."""

    def __init__(
        self,
        context: AttemptContext,
        *,
        results: Results,
        stats: Stats,
        feed: LedgerFeed,
        progress: BatchProgress,
        backlog: Backlog,
        stop: Stopper,
    ) -> None:
        self.ctx = context
        self.results = results
        self.stats = stats
        self.feed = feed
        self.progress = progress
        self.backlog = backlog
        self.stop = stop
        self.timeouts_once = dataclasses.replace(
            context.timeouts, first_token=context.timeouts.total
        )
        self.stream_models: set[str] = set()
        settings = context.settings
        self.site = ledger.CallSite.of(
            "batch", settings.profile, settings.log_prompts, context.batch_id
        )
        self._announced_pause = 0.0
        self._outage_said: set[str] = set()

    def streams(self, item: Item) -> bool:
        return (
            self.ctx.force_stream
            or item.model in self.stream_models
            or isinstance(item.last_error, TimeoutExpired)
            or self.ctx.planner.needs_stream(item.planned)
        )

    async def run(self, item: Item, gate: Gate, sent_at: float) -> None:
        ctx = self.ctx
        stream = self.streams(item)
        # The provider's logs can be matched to our records: job / item id / attempt.
        request = dataclasses.replace(
            item.planned.request,
            stream=stream,
            headers={
                "X-Client-Request-Id": f"{ctx.batch_id}/{quote(item.spec.id, safe='')}/"
                f"{item.attempts}"
            },
        )
        reply = Reply()
        try:
            error = await self._send(request, item.planned.params, stream, reply)
        except asyncio.CancelledError:
            self._ledger(item, reply, "interrupted")
            if ctx.budget is not None:  # it may have run, and been billed, all the same
                ctx.budget.settle(item.reserve, item.reserve)
            raise
        now = asyncio.get_running_loop().time()
        answer = self._tell_gate(gate, item, reply, error, sent_at, now)
        cost = None
        if error is None:
            cost = ctx.planner.cost(item.model, reply.usage)
            self._ledger(item, reply, "ok", cost)
        else:
            self._ledger(item, reply, error.kind, error=error)
        if ctx.budget is not None:
            got_output = reply.usage is not None or bool(
                reply.answer or reply.thinking or reply.tool_calls
            )
            spent = attempt_spend(item.reserve, ctx.budget.currency, cost, error, got_output)
            ctx.budget.settle(item.reserve, spent)
        action = decide(error, ItemState(item.charged, stream), answer, ctx.rules, now)
        self._apply(action, item, reply, cost, error, now)

    async def _send(
        self, request: ChatRequest, params: dict[str, Any], stream: bool, reply: Reply
    ) -> ApiError | None:
        """Send one request, collecting the answer into ``reply``; the error, if any."""
        timeouts = self.ctx.timeouts if stream else self.timeouts_once
        try:
            events = attempt_stream(self.ctx.backend, request, params, timeouts)
            async with contextlib.aclosing(events) as stream_events:
                async for event in stream_events:
                    reply.add(event)
        except ApiError as exc:
            return exc
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # A 200 whose body does not parse (a proxy's page, a cut-off JSON body) is a
            # transient protocol error, never a success.
            return ServerError(
                f"malformed response ({type(exc).__name__}: {clean_message(str(exc), 200)})"
            )
        finally:
            reply.finish()
        return None

    async def canary(self, item: Item, gate: Gate) -> None:
        """The breaker's probe when the item due already failed in this trouble (``limits``):
        one token of ``ping`` to the item's model, answered or not. No record is written; its
        ledger row is kept, and its cost counts against a budget."""
        ctx = self.ctx
        ping = (Message("user", "ping"),)
        spec = RequestLine(CANARY_ID, 0, ping, {"model": item.model, "max_tokens": 1})
        planned = ctx.planner.plan(spec)
        probe = Item(spec, planned, 0, attempts=1)
        stream = self.streams(probe)
        request = dataclasses.replace(
            planned.request,
            stream=stream,
            headers={"X-Client-Request-Id": f"{ctx.batch_id}/{CANARY_ID}"},
        )
        reply = Reply()
        sent_at = asyncio.get_running_loop().time()
        try:
            error = await self._send(request, planned.params, stream, reply)
        except asyncio.CancelledError:
            self._ledger(probe, reply, "interrupted")
            raise
        now = asyncio.get_running_loop().time()
        fault = None if error is None else fault_of(error)
        if fault is Fault.TRANSIENT:
            assert error is not None
            gate.on_failure(now, CANARY_ID, error)  # still an outage: the breaker reopens
        elif fault is Fault.RATE_LIMITED:
            assert error is not None
            gate.on_rate_limited(now, sent_at, error.retry_after)
        else:
            gate.on_canary_answered()
        cost = ctx.planner.cost(item.model, reply.usage) if error is None else None
        self._ledger(probe, reply, "ok" if error is None else error.kind, cost, error)
        if ctx.budget is not None and cost is not None and cost.currency == ctx.budget.currency:
            ctx.budget.settle(0.0, cost.amount)

    @staticmethod
    def _tell_gate(
        gate: Gate, item: Item, reply: Reply, error: ApiError | None, sent_at: float, now: float
    ) -> GateAnswer:
        """Give the gate the attempt's news; its answer is what the policy needs of it."""
        if error is None:
            gate.on_success()
            if reply.usage is not None:
                gate.reconcile(item.slot, reply.usage.total_tokens)
            return _NO_ANSWER
        fault = fault_of(error)
        if fault is Fault.AUTH:
            return _NO_ANSWER
        if fault is Fault.TRANSIENT:
            charged = gate.on_failure(now, item.spec.id, error)
            return GateAnswer(charged=charged, ready_at=gate.open_until)
        gate.reconcile(item.slot, 0)
        if fault is Fault.RATE_LIMITED:
            return GateAnswer(ready_at=gate.on_rate_limited(now, sent_at, error.retry_after))
        gate.on_success()  # a rejection: the server answered, so it is up
        return _NO_ANSWER

    def _apply(
        self,
        action: Action,
        item: Item,
        reply: Reply,
        cost: Cost | None,
        error: ApiError | None,
        now: float,
    ) -> None:
        if isinstance(action, WriteSuccess):
            self.results.success(item.spec.id, item.model, reply, cost, item.attempts)
            return
        assert error is not None  # every other action follows a failure
        match action:
            case WriteError():
                self.results.failure(item.spec.id, error, item.attempts)
            case Retry(at=at, charged=charged):
                item.last_error = error
                if charged:
                    item.charged += 1
                else:
                    self._announce_outage(item.model, error)
                self.stats.retries += 1
                self.backlog.put(item, at, parked=not charged)
            case Pause(until=until):
                self._announce_pause(until, now, error)
                self.stats.retries += 1
                self.backlog.put(item, until, parked=True)
            case StreamFromNow():
                if item.model not in self.stream_models:
                    self.stream_models.add(item.model)
                    self.progress.notice(f"{item.model} only streams: streaming from now on")
                self.backlog.put(item, now)
            case Stop(reason=reason):
                self.stop(reason, error)

    def _announce_pause(self, until: float, now: float, error: ApiError) -> None:
        if until - now < LONG_PAUSE or until <= self._announced_pause:
            return
        self._announced_pause = until
        clock = time.strftime("%H:%M:%S", time.localtime(time.time() + (until - now)))
        self.progress.notice(f"rate limited ({error.message}); pausing until {clock}")

    def _announce_outage(self, model: str, error: ApiError) -> None:
        if model in self._outage_said:
            return
        self._outage_said.add(model)
        self.progress.notice(
            f"{model}: requests failing ({error.what}: {error.message}); pausing and probing "
            f"(giving up after {self.ctx.outage_budget:g} s without a success)"
        )

    def _ledger(
        self,
        item: Item,
        reply: Reply,
        outcome: str,
        cost: Cost | None = None,
        error: ApiError | None = None,
    ) -> None:
        request_id = reply.request_id or (error.request_id if error else None)
        reply = with_estimated_usage(reply, item.planned.request.messages)
        if reply.usage_estimated:
            cost = self.ctx.planner.cost(item.model, reply.usage)
        row = self.site.row(
            item.model,
            outcome,
            reply,
            cost,
            item.attempts,
            prompt=item.spec.prompt_text,
            request_id=request_id,
        )
        self.feed.put(row)
