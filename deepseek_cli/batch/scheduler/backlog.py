"""The items of a batch job that wait for a time: retries backing off, items parked on a pause.

Why a heap and not sleeping tasks: a retry waiting for its backoff is an entry here, not a
task, so live tasks never exceed the concurrency cap and the dispatcher alone decides what is
sent next (a retry whose time has come goes before the next input line). Items read ahead
while their model is paused (a 429, an open breaker) are *parked*: counted apart, with an
allowance of their own, so one model's pause does not stop the input from being read for the
others (``dispatch``).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from deepseek_cli.batch.input.grammar import RequestLine
from deepseek_cli.batch.limits import TokenSlot
from deepseek_cli.batch.planner import Planned
from deepseek_cli.errors import ApiError


@dataclass(slots=True)
class Item:
    """One input line on its way to a record: its request and how its attempts went."""

    spec: RequestLine
    planned: Planned
    tokens: int  # estimated, for TPM
    reserve: float = 0.0  # what each attempt reserves of a --max-cost budget
    attempts: int = 0
    charged: int = 0  # failed attempts counted against --max-attempts
    last_error: ApiError | None = None  # of the last retried attempt
    slot: TokenSlot | None = None  # its share of the model's TPM window, while it runs

    @property
    def model(self) -> str:
        return self.planned.model


class Backlog:
    """Items due at a time, earliest first; ``poke`` wakes the dispatcher when one is added."""

    def __init__(self, poke: Callable[[], None]) -> None:
        self._heap: list[tuple[float, int, Item, bool]] = []  # (when, order, item, parked)
        self._order = itertools.count()
        self._poke = poke
        self.parked = 0
        self.closed = False

    @property
    def backing_off(self) -> int:
        return len(self._heap) - self.parked

    def put(self, item: Item, when: float, *, parked: bool = False) -> None:
        """Hold ``item`` until ``when``; dropped once the job is stopping (it is redone on
        resume: nothing was recorded for it)."""
        if self.closed:
            return
        heapq.heappush(self._heap, (when, next(self._order), item, parked))
        self.parked += parked
        self._poke()

    def next_at(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> Item | None:
        """The earliest item if its time has come."""
        if not self._heap or self._heap[0][0] > now:
            return None
        _, _, item, parked = heapq.heappop(self._heap)
        self.parked -= parked
        return item

    def close(self) -> None:
        self.closed = True
