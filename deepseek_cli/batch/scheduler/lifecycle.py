"""A running batch job from its first dispatch to its last record: signals, ticker, drain.

Why its own module: how a job ends is what keeps its files right. SIGINT/SIGTERM (and
SIGHUP) stop dispatching at once, let in-flight requests finish for up to the grace period
and write their results, then cancel what is left; a second signal cancels at once. Any stop
(a signal, the outcome policy, a failed write, a crash, the outage budget spent) is the same
path: no new dispatches, in-flight work drains, the first reason given is the one reported.
A job at its ``--max-cost`` stops the same way, once the dispatcher has waited for every
attempt in flight (so none is cut by the grace period).
SIGKILL loses only in-flight requests: a record it cuts in the middle of its write is a torn
last line, which the next run truncates away and redoes (``writer``).

The pieces: ``dispatch`` decides what goes out next, ``attempt`` runs each attempt and applies
the outcome ``policy`` decides, ``results`` writes the records; the ticker here fsyncs the
files, feeds the usage ledger and redraws the progress a few times a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from dataclasses import dataclass

from deepseek_cli.backends import Backend
from deepseek_cli.batch.budget import Budget
from deepseek_cli.batch.input.grammar import BadLine, RequestLine
from deepseek_cli.batch.ledger_feed import LedgerFeed
from deepseek_cli.batch.limits import Limits
from deepseek_cli.batch.planner import Planner
from deepseek_cli.batch.scheduler.attempt import AttemptContext, Attempts
from deepseek_cli.batch.scheduler.backlog import Backlog
from deepseek_cli.batch.scheduler.dispatch import Dispatcher, Wakeup
from deepseek_cli.batch.scheduler.policy import Rules
from deepseek_cli.batch.scheduler.results import Results
from deepseek_cli.batch.scheduler.stop_reason import StopReason
from deepseek_cli.batch.stats import Stats
from deepseek_cli.batch.writer import OutputFiles
from deepseek_cli.config.profiles import Timeouts
from deepseek_cli.config.settings import Settings
from deepseek_cli.render.progress import BatchProgress

TICK = 0.25
_HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


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


class Job:
    def __init__(
        self,
        *,
        settings: Settings,
        backend: Backend,
        options: JobOptions,
        files: OutputFiles,
        lines: Iterator[RequestLine | BadLine],
        recorded_lines: set[int],
        planner: Planner,
        stats: Stats,
        progress: BatchProgress,
        feed: LedgerFeed,
        batch_id: str,
        timeouts: Timeouts,
        budget: Budget | None = None,
    ) -> None:
        self.backend = backend
        self.budget = budget
        self.opts = options
        self.files = files
        self.stats = stats
        self.progress = progress
        self.feed = feed
        self.stop_reason: StopReason | None = None
        self.stop_error: BaseException | None = None
        self.signals = 0
        self._stop_at = 0.0
        self._dispatch_task: asyncio.Task[None] | None = None
        wakeup = Wakeup()
        backlog = Backlog(wakeup.poke)
        results = Results(files, stats, options.fmt, lambda exc: self.stop(StopReason.OUTPUT, exc))
        rules = Rules(options.max_attempts, options.max_wait, options.limits.delay)
        context = AttemptContext(
            settings=settings,
            backend=backend,
            planner=planner,
            timeouts=timeouts,
            batch_id=batch_id,
            force_stream=options.force_stream,
            rules=rules,
            outage_budget=options.outage_budget,
            budget=budget,
        )
        attempts = Attempts(
            context,
            results=results,
            stats=stats,
            feed=feed,
            progress=progress,
            backlog=backlog,
            stop=self.stop,
        )
        self.dispatcher = Dispatcher(
            lines=lines,
            recorded_lines=recorded_lines,
            planner=planner,
            results=results,
            stats=stats,
            concurrency=options.concurrency,
            limits=options.limits,
            backlog=backlog,
            wakeup=wakeup,
            launch=attempts.run,
            canary=attempts.canary,
            on_crash=lambda exc: self.stop(StopReason.CRASH, exc),
            budget=budget,
        )

    @property
    def tasks(self) -> set[asyncio.Task[None]]:
        """The attempts in flight."""
        return self.dispatcher.tasks

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in _HANDLED:
            loop.add_signal_handler(signum, self._on_signal, signum)
        ticker = loop.create_task(self._tick())
        self._dispatch_task = loop.create_task(self.dispatcher.run())
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatch_task
            if self._dispatch_task.cancelled() and self.stop_reason is None:
                raise asyncio.CancelledError
            if self.budget is not None and self.budget.reached:
                self.stop(StopReason.BUDGET)  # nothing is in flight: the dispatcher waited
            await self._drain()
        finally:
            ticker.cancel()
            self._cancel_all()
            await asyncio.gather(*self.tasks, ticker, return_exceptions=True)
            for signum in _HANDLED:
                loop.remove_signal_handler(signum)
            with contextlib.suppress(Exception):
                await self.backend.aclose()
            self.files.sync_due()

    def stop(self, reason: StopReason, error: BaseException | None = None) -> None:
        """Stop dispatching now; the first reason given is the one reported."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self.stop_error = error
            self._stop_at = asyncio.get_running_loop().time()
        self.dispatcher.halt()
        if self._dispatch_task is not None and not self._dispatch_task.done():
            self._dispatch_task.cancel()

    def _on_signal(self, signum: int) -> None:
        self.signals += 1
        name = signal.Signals(signum).name
        # Act first, then say so: after SIGHUP the terminal may be gone and writing fail.
        if self.signals == 1:
            self.stop(StopReason.SIGINT if signum == signal.SIGINT else StopReason.SIGTERM)
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
        if self.stop_reason is StopReason.OUTPUT:
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
            self.progress.update(self.stats)
            now = loop.time()
            for gate in self.dispatcher.gates.values():
                if self.stop_reason is None and gate.troubled_for(now) > self.opts.outage_budget:
                    self.stop(StopReason.UNAVAILABLE, gate.last_error)
