"""Per-model admission control for a batch job: may the next request go out, and when?

Why one gate per model: providers count RPM and TPM per model, and a 429 for one model says
nothing about another, so a job that mixes models keeps one gate each. A gate combines:

- **A job-wide pause after a 429.** Every worker waits, not each for itself. The pause is
  exactly Retry-After when the server sends one (however long: the SDK gives up above 120 s,
  we do not); otherwise exponential backoff from 1 s to 60 s with full jitter. Afterwards the
  rate restarts at half and grows back additively (AIMD), because DashScope also limits how
  fast the rate may grow. Only a 429 for a request sent after the last reaction counts as a
  new congestion event, so the C answers already in flight do not halve the rate C times.
- **A circuit breaker for outages.** When several *different* items fail in a row with
  5xx/network errors/timeouts and nothing succeeds in between, dispatch stops; after a backoff
  exactly one probe goes out. Failures while the breaker is open are not charged to the items,
  so an outage never turns into thousands of error records (the cookbook script's failure
  mode), while one item that keeps failing in a healthy job (other items succeed, or it is
  the only one failing) still uses up its attempts and gets its error record. When the next
  request would be the probe but its item is one that failed in this trouble (at a job's
  tail, only such items may be left), the probe is a *canary* of our own instead (``ping``,
  one token): if the provider answers it, those items fail on their own, and from then on
  their failures are charged and never reopen the breaker, so they end with their error
  records in bounded time; if it fails too, it is an outage, and nothing is charged.
- **Smooth pacing for RPM** (GCRA with a burst of one): requests are at least 60/rpm seconds
  apart, so no 1-second window ever holds more than ceil(rpm/60)+1. DashScope counts per
  second; a token bucket that starts full (the cookbook, aiolimiter) sends a minute's budget
  in the first second. The rate ramps from 10 % to the target over ``ramp`` seconds.
- **Smooth pacing for TPM**, as for RPM: DashScope also counts tokens per second (TPS =
  TPM/60), so each request's estimated tokens (prompt + max_tokens, the reservation providers
  count) push the next request back by tokens/TPS seconds, and no 1-second window holds more
  than TPS tokens plus one request's. A sliding 60 s window holds the minute's total too.
  Both are reconciled down to the usage each response reports, so over-estimates are given
  back (and a request waiting for its turn is woken when they are).

The clock is the event loop's. Only the job's single dispatcher calls :meth:`Gate.pace`, so
there is no lock; everything else is called from the same loop.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

from deepseek_cli.backends.backoff import backoff_delay
from deepseek_cli.errors import ApiError

MIN_RATE = 0.5  # req/s: the floor after repeated 429s (a storm is met with probes only)
PACING_MARGIN = 1.01  # 1 % slower than the limit: absorbs jitter between us and the server
WINDOW = 60.0
RATE_SAMPLE = 2.0  # seconds of dispatch history used to measure the current rate
PROBE_POLL = 0.2
MAX_SOLO = 100_000  # items remembered as failing on their own (each is a few dozen bytes)

# The outage breaker: closed (requests flow), open (none until ``open_until``), probe_ready
# (the next request is the one probe), probing (that probe is out; no others meanwhile).
BreakerState = Literal["closed", "open", "probe_ready", "probing"]


@dataclass(frozen=True)
class Limits:
    rpm: int | None = None
    tpm: int | None = None
    ramp: float = 10.0  # seconds from 10 % to the full RPM target; 0 = start at full rate
    backoff: float = 1.0  # first backoff step; doubles per step
    max_backoff: float = 60.0
    breaker_items: int = 3  # distinct items failing in a row that open the breaker

    def delay(self, step: int) -> float:
        """Seconds to back off before retry number ``step``: exponential, full jitter."""
        return backoff_delay(step, self.backoff, self.max_backoff)


class TokenSlot:
    """One admitted request's share of the TPM window."""

    __slots__ = ("at", "live", "tokens")

    def __init__(self, at: float, tokens: float) -> None:
        self.at = at
        self.tokens = tokens
        self.live = True


class Gate:
    def __init__(self, limits: Limits, now: float) -> None:
        self.limits = limits
        self.started = now
        self.next_at = now
        # 429 handling
        self.pause_until = 0.0
        self.congestion = 0
        self.last_decrease = -math.inf
        self.cap: float | None = None
        self.cap_at = 0.0
        self.cap_step = 0.0
        self.cap_ceiling: float | None = None
        self.recent: deque[float] = deque()
        # outage breaker
        self.state: BreakerState = "closed"
        self.open_until = 0.0
        self.outages = 0
        self.failed_items: set[str] = set()
        self.suspects: set[str] = set()  # items that failed while the breaker was involved
        self.solo: set[str] = set()  # items that failed while the provider answered a canary
        self.trouble_since: float | None = None
        self.last_error: ApiError | None = None
        # TPM: smooth pacing (the theoretical time the last tokens were spent) and the window
        self.token_tat = now
        self.window: deque[TokenSlot] = deque()
        self.window_sum = 0.0
        self._released: asyncio.Event | None = None

    # -- rate
    def rate(self, now: float) -> float | None:
        """Requests per second allowed now; ``None`` = unlimited."""
        rate: float | None = None
        if self.limits.rpm:
            rate = self.limits.rpm / 60.0
            if self.limits.ramp > 0:
                rate *= min(max((now - self.started) / self.limits.ramp, 0.1), 1.0)
        if self.cap is not None:
            cap = self.cap + self.cap_step * max(now - self.cap_at, 0.0)
            if self.cap_ceiling is not None and cap >= self.cap_ceiling:
                self.cap = None
            else:
                rate = cap if rate is None else min(rate, cap)
        return rate

    def measured_rate(self, now: float) -> float:
        while self.recent and self.recent[0] < now - RATE_SAMPLE:
            self.recent.popleft()
        return len(self.recent) / RATE_SAMPLE

    def rebase(self, launched: float, now: float) -> None:
        """Pace from when a request really left, if getting it out took a while.

        The dispatcher yields right after launching an attempt so the attempt can run up to
        its send. Normally that takes a fraction of a millisecond; the first request of a job
        also pays for the SDK's lazy imports and a new connection (tens of milliseconds), and
        pacing from the launch would then let the next request reach the server right behind
        it: two requests in one slot, as the server counts them.
        """
        rate = self.rate(now)
        if rate is None:
            return
        interval = PACING_MARGIN / rate
        if now - launched > 0.1 * interval:
            self.next_at = max(self.next_at, now + interval)

    def blocked_until(self, now: float) -> float | None:
        """When a request may next be admitted, if not now (pause or open breaker)."""
        if now < self.pause_until:
            return self.pause_until
        if self.state == "open":
            if now < self.open_until:
                return self.open_until
            self.state = "probe_ready"
        if self.state == "probing":
            return now + PROBE_POLL
        return None

    async def pace(self, tokens: int) -> TokenSlot | None:
        """Wait for this request's turn under RPM and TPM; returns its TPM slot."""
        loop = asyncio.get_running_loop()
        rate = self.rate(loop.time())
        if rate is not None:
            wait = self.next_at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            now = loop.time()
            rate = self.rate(now) or rate
            self.next_at = max(self.next_at, now) + PACING_MARGIN / rate
        if not self.limits.tpm:
            return None
        need = min(float(tokens), float(self.limits.tpm))
        await self._pace_tokens(loop, need)
        return await self._admit_tokens(loop, need)

    async def _pace_tokens(self, loop: asyncio.AbstractEventLoop, need: float) -> None:
        """Wait until the tokens sent so far are paid for at TPS, then book ``need``."""
        assert self.limits.tpm
        if self._released is None:
            self._released = asyncio.Event()
        while (wait := self.token_tat - loop.time()) > 0:
            self._released.clear()
            try:
                async with asyncio.timeout(wait):
                    await self._released.wait()
            except TimeoutError:
                pass
        tps = self.limits.tpm / 60.0
        self.token_tat = max(self.token_tat, loop.time()) + need * PACING_MARGIN / tps

    async def _admit_tokens(self, loop: asyncio.AbstractEventLoop, need: float) -> TokenSlot:
        assert self.limits.tpm
        if self._released is None:
            self._released = asyncio.Event()
        while True:
            now = loop.time()
            self._expire(now)
            if self.window_sum + need <= self.limits.tpm:
                slot = TokenSlot(now, need)
                self.window.append(slot)
                self.window_sum += need
                return slot
            excess = self.window_sum + need - self.limits.tpm
            wake = now + 1.0
            freed = 0.0
            for slot in self.window:
                freed += slot.tokens
                if freed >= excess:
                    wake = slot.at + WINDOW
                    break
            self._released.clear()
            try:
                # A response reporting fewer tokens than estimated may free room earlier.
                async with asyncio.timeout_at(wake + 0.01):
                    await self._released.wait()
            except TimeoutError:
                pass

    def _expire(self, now: float) -> None:
        while self.window and self.window[0].at + WINDOW <= now:
            slot = self.window.popleft()
            slot.live = False
            self.window_sum -= slot.tokens

    def reconcile(self, slot: TokenSlot | None, actual: int) -> None:
        """Give back what the estimate reserved beyond the tokens really used."""
        if slot is None or not slot.live or actual >= slot.tokens:
            return
        unused = slot.tokens - actual
        self.window_sum -= unused
        if self.limits.tpm:
            self.token_tat -= unused * PACING_MARGIN / (self.limits.tpm / 60.0)
        slot.tokens = float(actual)
        if self._released is not None:
            self._released.set()

    # -- outcomes
    def on_dispatch(self, now: float) -> None:
        self.recent.append(now)
        if self.state == "probe_ready":
            self.state = "probing"

    def wants_canary(self, item_id: str) -> bool:
        """Whether the probe due now should be a canary rather than ``item_id``'s request:
        that item already failed in this trouble, so its failing again would prove nothing."""
        return self.state == "probe_ready" and item_id in self.suspects

    def on_canary_answered(self) -> None:
        """The provider answered our canary: the suspects fail on their own."""
        if len(self.solo) < MAX_SOLO:
            self.solo |= self.suspects
        self.on_success()

    def on_success(self) -> None:
        """A response came back (an answer, or a rejection that proves the server is up)."""
        self.state = "closed"
        self.failed_items.clear()
        self.suspects.clear()
        self.outages = 0
        self.congestion = 0
        self.trouble_since = None

    def on_rate_limited(self, now: float, sent_at: float, retry_after: float | None) -> float:
        """A 429: pause everyone and slow down; returns when dispatch may resume."""
        if self.state == "probing":
            self.state = "open"
            self.open_until = now
        new_event = sent_at >= self.last_decrease
        if retry_after is not None:
            until = now + retry_after
        else:
            if self.trouble_since is None:
                self.trouble_since = now
            if new_event:
                self.congestion += 1
            until = now + self.limits.delay(max(self.congestion, 1))
        self.pause_until = max(self.pause_until, until)
        if new_event:
            self._decrease(now)
        return self.pause_until

    def _decrease(self, now: float) -> None:
        current = self.rate(now)
        if current is None:
            current = max(self.measured_rate(now), 2 * MIN_RATE)
            self.cap_ceiling = current  # back to unlimited once the old rate is reached
        target = self.limits.rpm / 60.0 if self.limits.rpm else current
        self.cap = max(current / 2.0, MIN_RATE)
        self.cap_at = self.pause_until
        # Back to the target in about ``ramp`` seconds (at least one): additive increase.
        ceiling = self.cap_ceiling if self.cap_ceiling is not None else target
        self.cap_step = max(ceiling / max(self.limits.ramp, 1.0), 0.1)
        self.last_decrease = now

    def on_failure(self, now: float, item_id: str, error: ApiError) -> bool:
        """A retryable failure; ``True`` when it counts against the item's attempts."""
        if self.trouble_since is None:
            self.trouble_since = now
        self.last_error = error
        if item_id in self.solo:
            return True  # it fails on its own: charged, and no sign of an outage
        if self.state in ("open", "probe_ready"):
            self.suspects.add(item_id)
            return False
        if self.state == "probing":
            self.suspects.add(item_id)
            self._open(now)
            return False
        self.failed_items.add(item_id)
        if len(self.failed_items) >= self.limits.breaker_items:
            self.suspects |= self.failed_items
            self._open(now)
            return False
        return True

    def _open(self, now: float) -> None:
        self.outages += 1
        self.state = "open"
        self.open_until = now + self.limits.delay(self.outages)
        self.failed_items.clear()

    def troubled_for(self, now: float) -> float:
        """Seconds of failures with no success in between (the outage budget's clock)."""
        return 0.0 if self.trouble_since is None else now - self.trouble_since
