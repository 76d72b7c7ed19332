"""What a batch job sends next, and when: the one dispatcher of a job.

Why one dispatcher: it alone decides what goes out next, a retry whose time has come
(``backlog``), else the next input line, so live tasks never exceed the concurrency cap C,
items in flight or backing off never exceed 2C, and the input is read only as fast as work
completes: memory stays flat however long the input is.

Admission goes through the item's model's gate (``limits``): 429 pause, outage breaker,
smooth RPM, TPM. An item whose model is paused is parked in the backlog until the pause ends
(at most max(4C, 256) of them), so a pause on one model does not hold up the others.

Under ``--max-cost`` (``budget``) an attempt, a retry as much as a new item, starts only when
its reservation fits beside what was spent and what the attempts in flight reserved. One that
does not fit is held while attempts are in flight (their ends free what they did not use);
when none is left and it still does not fit, dispatching ends there, in input order: the job
stops at its budget, and that item and every later one stay pending.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any

from deepseek_cli.batch.budget import Budget
from deepseek_cli.batch.input.grammar import BadLine, RequestLine
from deepseek_cli.batch.limits import Gate, Limits
from deepseek_cli.batch.planner import Planner
from deepseek_cli.batch.scheduler.backlog import Backlog, Item
from deepseek_cli.batch.scheduler.results import Results
from deepseek_cli.batch.stats import Stats
from deepseek_cli.errors import InvalidRequestError, UsageError

YIELD_EVERY = 500  # input lines read between yields to the loop (signals stay responsive)
PARKED = 256  # items read ahead and held while their model is paused (4C if more)

Launch = Callable[[Item, Gate, float], Coroutine[Any, Any, None]]
Canary = Callable[[Item, Gate], Coroutine[Any, Any, None]]


class Wakeup:
    """Wakes the dispatcher when what it waits for may have changed: a task ended, an item
    was put back, the job is stopping."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def poke(self) -> None:
        self._event.set()

    async def sleep(self, timeout: float | None) -> None:
        self._event.clear()
        if timeout is None:
            await self._event.wait()
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(timeout, 0.0)):
                await self._event.wait()


class Dispatcher:
    def __init__(
        self,
        *,
        lines: Iterator[RequestLine | BadLine],
        recorded_lines: set[int],
        planner: Planner,
        results: Results,
        stats: Stats,
        concurrency: int,
        limits: Limits,
        backlog: Backlog,
        wakeup: Wakeup,
        launch: Launch,
        on_crash: Callable[[BaseException], None],
        canary: Canary,
        budget: Budget | None = None,
    ) -> None:
        self.lines = lines
        self.recorded_lines = recorded_lines
        self.planner = planner
        self.results = results
        self.stats = stats
        self.cap = concurrency
        self.limits = limits
        self.backlog = backlog
        self.wakeup = wakeup
        self._launch_attempt = launch
        self._on_crash = on_crash
        self._canary = canary
        self.budget = budget
        self._held: Item | None = None  # waits for room in the budget
        self.gates: dict[str, Gate] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.halted = False

    def halt(self) -> None:
        """Send nothing more (the job is stopping); items put back from now on are dropped."""
        self.halted = True
        self.backlog.close()
        self.wakeup.poke()

    def gate(self, model: str) -> Gate:
        gate = self.gates.get(model)
        if gate is None:
            gate = self.gates[model] = Gate(self.limits, asyncio.get_running_loop().time())
        return gate

    async def run(self) -> None:
        """Dispatch until every item has its record, or the job stops."""
        loop = asyncio.get_running_loop()
        cap = self.cap
        backlog = self.backlog
        fresh = self._fresh_items()
        exhausted = False
        while not self.halted:
            if len(self.tasks) >= cap:
                await self.wakeup.sleep(None)
                continue
            now = loop.time()
            item, self._held = self._held or backlog.pop_due(now), None
            if item is None and not exhausted and self._may_read(cap):
                item = await anext(fresh, None)
                if item is None:
                    exhausted = True
                    continue
            if item is None:
                due = backlog.next_at()
                if exhausted and due is None and not self.tasks:
                    return
                await self.wakeup.sleep(None if due is None else due - now)
                continue
            gate = self.gate(item.model)
            if gate.blocked_until(now) is None and gate.wants_canary(item.spec.id):
                # The probe due now would resend an item that failed in this trouble: a
                # canary of our own tells an outage from items that fail on their own.
                gate.on_dispatch(now)
                self._spawn(self._canary(item, gate))
                backlog.put(item, now, parked=True)
                continue
            budget = self.budget
            if budget is not None:
                if not budget.fits(item.reserve):
                    if self.tasks:
                        self._held = item
                        await self.wakeup.sleep(None)
                        continue
                    budget.refuse(item.reserve)
                    return
                budget.take(item.reserve)  # now: pacing below may let attempts end meanwhile
            until = gate.blocked_until(now)
            if until is None:
                item.slot = await gate.pace(item.tokens)
                until = gate.blocked_until(loop.time())  # a 429 may have come in meanwhile
                if until is not None:
                    gate.reconcile(item.slot, 0)
            if until is not None:
                if budget is not None:
                    budget.settle(item.reserve, 0.0)  # not sent after all
                backlog.put(item, until, parked=True)
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
                    self.results.bad_line(parsed)
                continue
            try:
                planned = self.planner.plan(parsed)
            except UsageError as exc:
                error = InvalidRequestError(exc.message, hint=exc.hint, code="unsupported")
                self.results.failure(parsed.id, error, 0)
                continue
            tokens = Planner.tokens(planned) if self.limits.tpm else 0
            reserve = self.budget.reserver.amount(planned) if self.budget is not None else 0.0
            yield Item(parsed, planned, tokens, reserve)

    def _may_read(self, cap: int) -> bool:
        """Whether to take the next input line: items backing off count against 2C; items
        parked while their model is paused have their own allowance, so other models keep
        going during one model's pause."""
        backlog = self.backlog
        return backlog.backing_off + len(self.tasks) < 2 * cap and backlog.parked < max(
            4 * cap, PARKED
        )

    def _launch(self, item: Item, gate: Gate, now: float) -> None:
        gate.on_dispatch(now)
        item.attempts += 1
        self.stats.attempts += 1
        self._spawn(self._launch_attempt(item, gate, now))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._on_crash(exc)
        self.wakeup.poke()
