"""The asyncio batch job: what goes out next, one attempt per task, retries, signals, drain.

Why this shape:

- **One dispatcher** decides what is sent next: a retry whose time has come, else the next
  input line. Every attempt is one task, and a retry waiting for its backoff is an entry in a
  small heap, not a sleeping task. So live tasks never exceed the concurrency cap C, items
  in flight or backing off never exceed 2C, and the input is read only as fast as work
  completes: memory stays flat however long the input is.
- **Admission** goes through the item's model's gate (``limits``): 429 pause, outage breaker,
  smooth RPM, TPM. An item whose model is paused is parked in the heap until the pause ends
  (at most max(4C, 256) of them), so a pause on one model does not hold up the others.
- **Streaming or not is decided per attempt.** Non-streaming by default: a batch shows nothing
  while a request runs, and one JSON body costs one parse where a stream costs one per token
  (hundreds for a real answer, each a pydantic model in the SDK), which matters at hundreds of
  requests per second on a 2-core machine. The attempt streams when it must or when streaming
  buys something: ``--stream``; DashScope thinking on a model that refuses non-streamed
  thinking (catalog); after the provider answered that the model only streams (remembered for
  the job, and that attempt is not charged); and for a retry after a timeout, because a stream
  has a first-token deadline that tells a queued request from a slow answer. Non-streamed
  attempts are bounded by the total deadline alone (their first "token" is the whole answer).
- **Outcomes.** A success needs a finish reason: a stream cut short or ending with
  ``insufficient_system_resource`` raises ``TruncatedError`` in the backend and is retried,
  never written; ``finish_reason=length`` is a success. 400/404/422 and content inspection
  write one error record at once. 429s pause the whole job and are never charged to the item.
  5xx, network errors, timeouts, truncations and malformed bodies are retried with
  exponential backoff and full jitter, charged to the item unless the breaker says outage;
  an item out of attempts gets its error record. 401/402/403 stop the job: no new dispatches,
  in-flight work drains, and nothing is recorded for items not finished (a run with a good
  key does them).
- **Signals.** SIGINT/SIGTERM (and SIGHUP) stop dispatching at once, let in-flight requests
  finish for up to the grace period and write their results, then cancel what is left; a
  second signal cancels at once. SIGKILL loses only in-flight requests: written records are
  whole (``writer``).

Every attempt, whatever its end, is handed to the usage ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import heapq
import itertools
import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from deepseek_cli.backends import Backend
from deepseek_cli.backends.deadlines import attempt_stream
from deepseek_cli.backends.error_map import clean_message
from deepseek_cli.batch import records
from deepseek_cli.batch.input import BadLine, RequestLine
from deepseek_cli.batch.ledger_feed import LedgerFeed
from deepseek_cli.batch.limits import Gate, Limits, TokenSlot
from deepseek_cli.batch.planner import Planned, Planner
from deepseek_cli.batch.stats import Stats
from deepseek_cli.batch.writer import OutFile, OutputError, OutputFiles
from deepseek_cli.config.profiles import Timeouts
from deepseek_cli.config.settings import Settings
from deepseek_cli.conversation import Reply
from deepseek_cli.errors import (
    ApiError,
    AuthError,
    InvalidRequestError,
    RateLimitError,
    ServerError,
    TimeoutExpired,
    UsageError,
)
from deepseek_cli.ledger import store as ledger
from deepseek_cli.render.progress import BatchProgress

TICK = 0.25
YIELD_EVERY = 500  # input lines read between yields to the loop (signals stay responsive)
LONG_PAUSE = 5.0  # pauses at least this long are announced
PARKED = 256  # items read ahead and held while their model is paused (4C if more)


@dataclass(frozen=True)
class JobOptions:
    concurrency: int
    max_attempts: int
    limits: Limits
    grace: float = 8.0
    max_wait: float | None = None
    outage_budget: float = 600.0
    force_stream: bool = False
    fmt: str = "native"


@dataclass(slots=True)
class Item:
    spec: RequestLine
    planned: Planned
    tokens: int
    attempts: int = 0
    charged: int = 0
    last_error: ApiError | None = None
    slot: TokenSlot | None = None

    @property
    def model(self) -> str:
        return self.planned.model


class Job:
    def __init__(
        self,
        *,
        settings: Settings,
        backend: Backend,
        options: JobOptions,
        files: OutputFiles,
        lines: Iterator[RequestLine | BadLine],
        pending: set[str],
        recorded_lines: set[int],
        planner: Planner,
        stats: Stats,
        progress: BatchProgress,
        feed: LedgerFeed,
        batch_id: str,
        timeouts: Timeouts,
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.opts = options
        self.files = files
        self.lines = lines
        self.pending = pending
        self.recorded_lines = recorded_lines
        self.planner = planner
        self.stats = stats
        self.progress = progress
        self.feed = feed
        self.batch_id = batch_id
        self.timeouts = timeouts
        self.timeouts_once = dataclasses.replace(timeouts, first_token=timeouts.total)
        self.gates: dict[str, Gate] = {}
        self.heap: list[tuple[float, int, Item, bool]] = []  # (when, order, item, parked)
        self.parked = 0
        self._seq = itertools.count()
        self.tasks: set[asyncio.Task[None]] = set()
        self.stream_models: set[str] = set()
        self.stop_reason: str | None = None  # sigint sigterm auth unavailable tempfail output
        self.stop_error: BaseException | None = None
        self.signals = 0
        self.output_failed = False
        self._stop_at = 0.0
        self._wake: asyncio.Event | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._announced_pause = 0.0
        self._outage_said: set[str] = set()

    # ------------------------------------------------------------------------------------
    # Lifecycle

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        for signum in handled:
            loop.add_signal_handler(signum, self._on_signal, signum)
        ticker = loop.create_task(self._tick())
        self._dispatcher = loop.create_task(self._dispatch())
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
            if self._dispatcher.cancelled() and self.stop_reason is None:
                raise asyncio.CancelledError
            await self._drain()
        finally:
            ticker.cancel()
            self._cancel_all()
            await asyncio.gather(*self.tasks, ticker, return_exceptions=True)
            for signum in handled:
                loop.remove_signal_handler(signum)
            with contextlib.suppress(Exception):
                await self.backend.aclose()
            self.files.sync_due()

    def stop(self, reason: str, error: BaseException | None = None) -> None:
        """Stop dispatching now; the first reason given is the one reported."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self.stop_error = error
            self._stop_at = asyncio.get_running_loop().time()
        if self._dispatcher is not None and not self._dispatcher.done():
            self._dispatcher.cancel()
        self._poke()

    def _on_signal(self, signum: int) -> None:
        self.signals += 1
        name = signal.Signals(signum).name
        # Act first, then say so: after SIGHUP the terminal may be gone and writing fail.
        if self.signals == 1:
            self.stop("sigint" if signum == signal.SIGINT else "sigterm")
            in_flight = len(self.tasks)
            text = (
                f"{name}: stopped sending; finishing {in_flight} request"
                f"{'' if in_flight == 1 else 's'} in flight (up to {self.opts.grace:g} s, "
                "interrupt again to stop at once)"
            )
        else:
            self._cancel_all()
            text = f"{name}: stopping now"
        with contextlib.suppress(OSError):
            self.progress.notice(text)

    def _cancel_all(self) -> None:
        for task in list(self.tasks):
            task.cancel()

    async def _drain(self) -> None:
        """Let in-flight work finish (within the grace period when stopping early)."""
        if not self.tasks:
            return
        if self.stop_reason == "output":
            self._cancel_all()
            return
        loop = asyncio.get_running_loop()
        deadline = None if self.stop_reason is None else self._stop_at + self.opts.grace
        while self.tasks:
            timeout = None if deadline is None else deadline - loop.time()
            if timeout is not None and timeout <= 0:
                break
            await asyncio.wait(set(self.tasks), timeout=timeout)
        if self.tasks:
            self.progress.notice(
                f"grace period over: cancelling {len(self.tasks)} request(s); "
                "they will be redone on resume"
            )
            self._cancel_all()

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(TICK)
            self.files.sync_due()
            self.feed.flush()
            self.stats.in_flight = len(self.tasks)
            self.progress.update(self.stats)
            now = loop.time()
            for gate in self.gates.values():
                if self.stop_reason is None and gate.troubled_for(now) > self.opts.outage_budget:
                    self.stop("unavailable", gate.last_error)

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _sleep(self, timeout: float | None) -> None:
        assert self._wake is not None
        self._wake.clear()
        if timeout is None:
            await self._wake.wait()
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(timeout, 0.0)):
                await self._wake.wait()

    # ------------------------------------------------------------------------------------
    # Dispatch

    def gate(self, model: str) -> Gate:
        gate = self.gates.get(model)
        if gate is None:
            gate = self.gates[model] = Gate(self.opts.limits, asyncio.get_running_loop().time())
        return gate

    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        cap = self.opts.concurrency
        fresh = self._fresh_items()
        exhausted = False
        while self.stop_reason is None:
            if len(self.tasks) >= cap:
                await self._sleep(None)
                continue
            now = loop.time()
            item: Item | None = None
            if self.heap and self.heap[0][0] <= now:
                _, _, item, was_parked = heapq.heappop(self.heap)
                self.parked -= was_parked
            elif not exhausted and self._may_read(cap):
                item = await anext(fresh, None)
                if item is None:
                    exhausted = True
                    continue
            else:
                if exhausted and not self.heap and not self.tasks:
                    return
                await self._sleep(self.heap[0][0] - now if self.heap else None)
                continue
            gate = self.gate(item.model)
            until = gate.blocked_until(now)
            if until is None:
                item.slot = await gate.pace(item.tokens)
                until = gate.blocked_until(loop.time())  # a 429 may have come in meanwhile
                if until is not None:
                    gate.reconcile(item.slot, 0)
            if until is not None:
                self._defer(item, until, parked=True)
                continue
            launched = loop.time()
            self._launch(item, gate, launched)
            if gate.rate(launched) is not None:
                await asyncio.sleep(0)  # let it get on the wire before pacing the next one
                gate.rebase(launched, loop.time())

    async def _fresh_items(self) -> AsyncIterator[Item]:
        """Items for input lines not done yet; unusable lines are recorded on the way."""
        for count, parsed in enumerate(self.lines):
            if count % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)
            if isinstance(parsed, BadLine):
                if parsed.line not in self.recorded_lines:
                    self.recorded_lines.add(parsed.line)
                    if self._write(self.files.errors, records.bad_line(self.opts.fmt, parsed)):
                        self.stats.invalid += 1
                continue
            if parsed.id not in self.pending:
                continue  # done by an earlier run
            self.pending.discard(parsed.id)
            try:
                planned = self.planner.plan(parsed)
            except UsageError as exc:
                error = InvalidRequestError(exc.message, hint=exc.hint, code="unsupported")
                line = records.failure(self.opts.fmt, parsed.id, error, 0)
                if self._write(self.files.errors, line):
                    self.stats.failed += 1
                continue
            tokens = Planner.tokens(planned) if self.opts.limits.tpm else 0
            yield Item(parsed, planned, tokens)

    def _may_read(self, cap: int) -> bool:
        """Whether to take the next input line: items backing off count against 2C; items
        parked while their model is paused have their own allowance, so other models keep
        going during one model's pause."""
        backing_off = len(self.heap) - self.parked
        return backing_off + len(self.tasks) < 2 * cap and self.parked < max(4 * cap, PARKED)

    def _defer(self, item: Item, when: float, *, parked: bool = False) -> None:
        if self.stop_reason is None:
            heapq.heappush(self.heap, (when, next(self._seq), item, parked))
            self.parked += parked
            self._poke()

    def _launch(self, item: Item, gate: Gate, now: float) -> None:
        gate.on_dispatch(now)
        item.attempts += 1
        self.stats.attempts += 1
        task = asyncio.get_running_loop().create_task(self._attempt(item, gate, now))
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.stop("crash", exc)
        self._poke()

    # ------------------------------------------------------------------------------------
    # One attempt

    def _streams(self, item: Item) -> bool:
        return (
            self.opts.force_stream
            or item.model in self.stream_models
            or isinstance(item.last_error, TimeoutExpired)
            or self.planner.needs_stream(item.planned)
        )

    async def _attempt(self, item: Item, gate: Gate, sent_at: float) -> None:
        stream = self._streams(item)
        # The provider's logs can be matched to our records: job / item id / attempt.
        request = dataclasses.replace(
            item.planned.request,
            stream=stream,
            headers={
                "X-Client-Request-Id": f"{self.batch_id}/{quote(item.spec.id, safe='')}/"
                f"{item.attempts}"
            },
        )
        timeouts = self.timeouts if stream else self.timeouts_once
        reply = Reply()
        error: ApiError | None = None
        try:
            events = attempt_stream(self.backend, request, item.planned.params, timeouts)
            async with contextlib.aclosing(events) as stream_events:
                async for event in stream_events:
                    reply.add(event)
        except ApiError as exc:
            error = exc
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # A 200 whose body does not parse (a proxy's page, a cut-off JSON body) is a
            # transient protocol error, never a success.
            error = ServerError(
                f"malformed response ({type(exc).__name__}: {clean_message(str(exc), 200)})"
            )
        except asyncio.CancelledError:
            reply.finish()
            self._ledger(item, reply, "interrupted", None)
            raise
        reply.finish()
        now = asyncio.get_running_loop().time()
        if error is None:
            self._succeeded(item, gate, reply)
        else:
            self._failed(item, gate, reply, error, sent_at, now)

    def _succeeded(self, item: Item, gate: Gate, reply: Reply) -> None:
        gate.on_success()
        usage = reply.usage
        if usage is not None:
            gate.reconcile(item.slot, usage.total_tokens)
        cost = self.planner.cost(item.model, usage)
        self._ledger(item, reply, "ok", cost)
        line = records.success(self.opts.fmt, item.spec.id, item.model, reply, cost, item.attempts)
        if self._write(self.files.output, line):
            self.stats.ok += 1
            if usage is not None:
                self.stats.input_tokens += usage.input_tokens
                self.stats.output_tokens += usage.output_tokens
            if cost is not None:
                self.stats.add_cost(cost.amount, cost.currency)

    def _failed(
        self, item: Item, gate: Gate, reply: Reply, error: ApiError, sent_at: float, now: float
    ) -> None:
        self._ledger(item, reply, error.kind, None, error)
        if isinstance(error, AuthError):
            self.stop("auth", error)
            return
        if isinstance(error, RateLimitError):
            gate.reconcile(item.slot, 0)
            wait = error.retry_after
            if wait is not None and self.opts.max_wait is not None and wait > self.opts.max_wait:
                self.stop("tempfail", error)
                return
            until = gate.on_rate_limited(now, sent_at, wait)
            self._announce_pause(until, now, error)
            self.stats.retries += 1
            self._defer(item, until, parked=True)
            return
        if not error.retryable:
            gate.on_success()  # the server answered: it is up
            gate.reconcile(item.slot, 0)
            if not item.planned.request.stream and _needs_streaming(error):
                if item.model not in self.stream_models:
                    self.stream_models.add(item.model)
                    self.progress.notice(f"{item.model} only streams: streaming from now on")
                self._defer(item, now)
                return
            self._record_failure(item, error)
            return
        item.last_error = error
        charged = gate.on_failure(now, item.spec.id, error)
        if charged:
            item.charged += 1
            if item.charged >= self.opts.max_attempts:
                self._record_failure(item, error)
                return
            when = now + self.opts.limits.jitter(item.charged)
        else:
            self._announce_outage(item.model, error)
            when = max(gate.open_until, now)
        self.stats.retries += 1
        self._defer(item, when, parked=not charged)

    def _record_failure(self, item: Item, error: ApiError) -> None:
        line = records.failure(self.opts.fmt, item.spec.id, error, item.attempts)
        if self._write(self.files.errors, line):
            self.stats.failed += 1

    def _write(self, which: OutFile, line: bytes) -> bool:
        if self.output_failed:
            return False
        try:
            self.files.write(which, line)
        except OutputError as exc:
            self.output_failed = True
            self.stop("output", exc)
            return False
        return True

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
            f"(giving up after {self.opts.outage_budget:g} s without a success)"
        )

    def _ledger(
        self,
        item: Item,
        reply: Reply,
        outcome: str,
        cost: Any,
        error: ApiError | None = None,
    ) -> None:
        profile = self.settings.profile
        self.feed.put(
            ledger.call_row(
                command="batch",
                profile=profile.name,
                provider=profile.provider,
                region=profile.region,
                model=item.model,
                outcome=outcome,
                reply=reply,
                cost=cost,
                attempts=item.attempts,
                log_prompts=self.settings.log_prompts,
                prompt=item.spec.prompt_text,
                request_id=reply.request_id or (error.request_id if error else None),
                batch_id=self.batch_id,
            )
        )


def _needs_streaming(error: ApiError) -> bool:
    text = error.message.lower()
    return "only support stream" in text or "non-streaming" in text or "stream mode" in text
