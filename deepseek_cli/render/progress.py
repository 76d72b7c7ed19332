"""Progress of a batch job on stderr, and its final summary.

On a terminal: a Rich progress bar (done/total, rate, ETA, tokens, cost, errors, retries),
redrawn by the job's ticker a few times a second (no refresh thread), with notices printed
above it. Otherwise (cron, CI, a pipe) one plain status line at most every 10 s, so a log gets
a heartbeat, not a flood. Always a final summary: one line on stderr, or with ``--json`` one
JSON object on stdout.

The job's counters arrive as :class:`JobCounts`, declared here, so this module needs nothing
from ``batch`` (which imports render).
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any, Protocol

from deepseek_cli.catalog.pricing import Spend
from deepseek_cli.render import stderr as say
from deepseek_cli.render.numbers import cache_share, money, spend_text, with_savings
from deepseek_cli.render.stdout import emit_json
from deepseek_cli.render.terminal import stderr_is_terminal

STATUS_EVERY = 10.0


class BudgetCounts(Protocol):
    """What the display reads of a ``--max-cost`` account (``batch.budget.Budget``)."""

    @property
    def limit(self) -> float: ...
    @property
    def currency(self) -> str: ...
    @property
    def total(self) -> float: ...


class JobCounts(Protocol):
    """What the display reads of a batch job's counters (``batch.stats.Stats``)."""

    @property
    def total(self) -> int: ...
    @property
    def done(self) -> int: ...
    @property
    def done_before(self) -> int: ...
    @property
    def ok(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def invalid(self) -> int: ...
    @property
    def retries(self) -> int: ...
    @property
    def input_tokens(self) -> int: ...
    @property
    def cached_tokens(self) -> int: ...
    @property
    def cut(self) -> int: ...
    @property
    def output_tokens(self) -> int: ...
    @property
    def spend(self) -> Spend: ...
    @property
    def rate(self) -> float: ...
    @property
    def eta(self) -> float | None: ...
    @property
    def elapsed(self) -> float: ...
    @property
    def budget(self) -> BudgetCounts | None: ...


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def cost_so_far(stats: JobCounts) -> str:
    """``$0.0125``, ``$0.01 + unknown (2 items)``, or ``no cost`` before any success; with
    what the cache saved, when it saved anything; under ``--max-cost`` also what the budget
    counts as spent (earlier runs included) of how much."""
    text = with_savings(spend_text(stats.spend, "item", empty="no cost"), stats.spend.saved)
    budget = stats.budget
    if budget is not None:
        spent, limit = money(budget.total, budget.currency), money(budget.limit, budget.currency)
        text += f" ({spent} of the {limit} budget)"
    return text


def tokens_so_far(stats: JobCounts) -> str:
    """``1,234 tokens``, and the share of input served from the cache when there was any."""
    text = f"{stats.input_tokens + stats.output_tokens:,} tokens"
    if stats.cached_tokens:
        text += f" ({cache_share(stats.input_tokens, stats.cached_tokens)} of input cached)"
    return text


def status_text(stats: JobCounts) -> str:
    percent = 100 * stats.done / stats.total if stats.total else 100.0
    parts = [
        f"{stats.done:,}/{stats.total:,} done ({percent:.0f}%)",
        f"{stats.failed:,} failed",
        f"{stats.retries:,} retries",
        f"{stats.rate:.1f} req/s",
        tokens_so_far(stats),
        cost_so_far(stats),
        f"ETA {duration(stats.eta)}",
    ]
    return ", ".join(parts)


class BatchProgress(Protocol):
    def update(self, stats: JobCounts) -> None: ...

    def notice(self, text: str) -> None: ...

    def close(self, stats: JobCounts) -> None: ...


class PlainProgress:
    """A status line at most every ``every`` seconds."""

    def __init__(self, every: float = STATUS_EVERY) -> None:
        self.every = every
        self.last = time.monotonic()

    def update(self, stats: JobCounts) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            with contextlib.suppress(OSError):
                say.write_line("dim", "batch: " + status_text(stats))

    def notice(self, text: str) -> None:
        with contextlib.suppress(OSError):  # a terminal that went away (SIGHUP)
            say.notice(text)

    def close(self, stats: JobCounts) -> None:
        pass


class TerminalProgress:
    """A Rich progress bar on stderr, redrawn when the job calls ``update``."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("batch"),
            BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,}"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("ETA {task.fields[eta]}"),
            TextColumn("{task.fields[info]}"),
            console=Console(file=sys.stderr),
            auto_refresh=False,
            transient=True,
        )
        self._task = self._progress.add_task("batch", total=1, rate="", eta="", info="")
        self._progress.start()

    def update(self, stats: JobCounts) -> None:
        info = (
            f"{stats.input_tokens + stats.output_tokens:,} tok  "
            f"{cost_so_far(stats)}  {stats.failed:,} err  {stats.retries:,} retry"
        )
        self._progress.update(
            self._task,
            total=max(stats.total, 1),
            completed=stats.done,
            rate=f"{stats.rate:.1f}/s",
            eta=duration(stats.eta),
            info=info,
        )
        with contextlib.suppress(OSError):  # a terminal that went away (SIGHUP)
            self._progress.refresh()

    def notice(self, text: str) -> None:
        with contextlib.suppress(OSError):
            say.notice(text)

    def close(self, stats: JobCounts) -> None:
        with contextlib.suppress(OSError):
            self._progress.stop()


def make_progress() -> BatchProgress:
    return TerminalProgress() if stderr_is_terminal() else PlainProgress()


def print_summary(summary: dict[str, Any], stats: JobCounts, *, as_json: bool) -> None:
    """The final summary: JSON on stdout with ``--json``, else one line on stderr."""
    if as_json:
        emit_json(summary)
        return
    text = (
        f"batch {summary.get('batch_id', '')}: {stats.done:,}/{stats.total:,} done "
        f"({stats.ok:,} ok, {stats.failed:,} failed"
    )
    if stats.cut:
        # Answers that are in the output but end where max_tokens cut them.
        text += f", {stats.cut:,} cut at max_tokens"
    if stats.done_before:
        text += f", {stats.done_before:,} from earlier runs"
    text += ")"
    if stats.invalid:
        text += f", {stats.invalid:,} unusable lines"
    if stats.failed or stats.invalid:
        text += f" (errors in {summary.get('errors_file')})"
    left = max(stats.total - stats.done, 0)
    if stats.ok or stats.failed:
        text += (
            f"; {duration(stats.elapsed)}, {stats.rate:.1f} req/s, "
            f"{tokens_so_far(stats)}, {cost_so_far(stats)}"
        )
    elif not left:
        text += "; nothing left to send"
    if left:
        # A job stopped early (401, outage budget, Ctrl-C): what a re-run will send.
        text += f"; {left:,} not done (the same command resumes)"
    with contextlib.suppress(OSError):
        say.write_line("dim", text)
