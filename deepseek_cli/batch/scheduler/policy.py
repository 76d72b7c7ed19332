"""What a batch job does with the end of an attempt: a pure decision, tested on its own.

Why a pure function: these rules are the job's promises (one record per id, no error
records for an outage, a 429 never charged to an item), and a table from (outcome, the
item's state, the gate's answer) to an action states them and checks them with no event
loop and no server in the way. ``attempt`` tells the item's gate what happened, asks
:func:`decide`, and carries the action out.

The rules:

- **A success is written.** It needs a finish reason: a stream cut short or ending with
  ``insufficient_system_resource`` arrives here as ``TruncatedError``, never as a success;
  ``finish_reason=length`` is a success.
- **401/402/403 stop the job** (``AuthError``): a human has to act. No new dispatches, the
  work in flight drains, and nothing is recorded for items not finished (a run with a good
  key does them).
- **A 429 pauses the item's model** until the gate says (Retry-After exactly, else backoff)
  and is never charged to the item, unless the provider asks for a longer wait than
  ``--max-wait``: then the job stops (tempfail), resumable later.
- **400/404/422 and content inspection write one error record at once**: the same request
  would fail again. One exception: the provider saying the model only streams, to an attempt
  that did not stream. The model is streamed for the rest of the job and the item is sent
  again at once, not charged.
- **5xx, network errors, timeouts, truncated answers and malformed bodies are retried** after
  exponential backoff with full jitter, charged to the item, unless the gate's breaker says
  the provider is down: then the item waits for the breaker's next probe, not charged, so an
  outage never turns into error records. An item out of attempts gets its error record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from deepseek_cli.batch.scheduler.stop_reason import StopReason
from deepseek_cli.errors import ApiError, AuthError, RateLimitError


class Fault(StrEnum):
    """How a failed attempt failed, as far as what to do next goes."""

    AUTH = "auth"  # a human has to act
    RATE_LIMITED = "rate_limited"  # a 429
    REJECTED = "rejected"  # the same request would fail again
    TRANSIENT = "transient"  # trying again may succeed


def fault_of(error: ApiError) -> Fault:
    if isinstance(error, AuthError):
        return Fault.AUTH
    if isinstance(error, RateLimitError):
        return Fault.RATE_LIMITED
    return Fault.TRANSIENT if error.retryable else Fault.REJECTED


def only_streams(error: ApiError) -> bool:
    """Whether a rejection says the model refuses non-streamed requests (providers word it
    differently, and give it no code of its own)."""
    text = error.message.lower()
    return "only support stream" in text or "non-streaming" in text or "stream mode" in text


@dataclass(frozen=True, slots=True)
class ItemState:
    charged: int = 0  # failures charged to the item before this attempt
    streamed: bool = False  # whether this attempt streamed


@dataclass(frozen=True, slots=True)
class GateAnswer:
    """What the item's model's gate answered when told how the attempt ended."""

    charged: bool = True  # a transient failure counts against the item (no outage)
    ready_at: float = 0.0  # when the gate admits the model again (429 pause, breaker probe)


@dataclass(frozen=True, slots=True)
class Rules:
    max_attempts: int  # charged failures that end an item with its error record
    max_wait: float | None  # the longest Retry-After waited for; None: any
    backoff: Callable[[int], float]  # seconds before the retry after the n-th charged failure


# -- actions


@dataclass(frozen=True, slots=True)
class WriteSuccess:
    """Write the answer's output record."""


@dataclass(frozen=True, slots=True)
class WriteError:
    """Write the item's error record: it is done, failed."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Send the item again at ``at``; ``charged`` counts this failure against its attempts."""

    at: float
    charged: bool


@dataclass(frozen=True, slots=True)
class Pause:
    """The model is paused until ``until`` (a 429); the item goes again then, not charged."""

    until: float


@dataclass(frozen=True, slots=True)
class StreamFromNow:
    """The model only streams: stream it for the rest of the job, send the item again now."""


@dataclass(frozen=True, slots=True)
class Stop:
    """Stop the job: no new dispatches, in-flight work drains."""

    reason: StopReason


Action = WriteSuccess | WriteError | Retry | Pause | StreamFromNow | Stop

_SUCCESS = WriteSuccess()


def decide(
    error: ApiError | None, item: ItemState, gate: GateAnswer, rules: Rules, now: float
) -> Action:
    """The action for an attempt that ended at ``now`` with ``error`` (``None``: an answer)."""
    if error is None:
        return _SUCCESS
    fault = fault_of(error)
    if fault is Fault.AUTH:
        return Stop(StopReason.AUTH)
    if fault is Fault.RATE_LIMITED:
        wait = error.retry_after
        if wait is not None and rules.max_wait is not None and wait > rules.max_wait:
            return Stop(StopReason.TEMPFAIL)
        return Pause(gate.ready_at)
    if fault is Fault.REJECTED:
        if not item.streamed and only_streams(error):
            return StreamFromNow()
        return WriteError()
    if not gate.charged:
        return Retry(max(gate.ready_at, now), charged=False)
    charged = item.charged + 1
    if charged >= rules.max_attempts:
        return WriteError()
    return Retry(now + rules.backoff(charged), charged=True)
