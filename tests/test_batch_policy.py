"""The batch outcome policy as a table: (outcome, the item's state, the gate's answer) -> action.

No event loop and no server: ``policy.decide`` is a pure function, and each row below is one
of the rules in its module docstring. The backoff is a fixed ladder (10 s per charged failure)
so every retry time is an exact number.
"""

from __future__ import annotations

import pytest

from deepseek_cli.batch.scheduler.policy import (
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
from deepseek_cli.batch.scheduler.stop_reason import StopReason
from deepseek_cli.errors import (
    AuthError,
    InvalidRequestError,
    NetworkError,
    RateLimitError,
    ServerError,
    TimeoutExpired,
    TlsError,
    TruncatedError,
)

NOW = 100.0
RULES = Rules(max_attempts=3, max_wait=30.0, backoff=lambda n: 10.0 * n)
FRESH = ItemState()
HEALTHY = GateAnswer()  # the breaker is closed: a failure is charged
OUTAGE = GateAnswer(charged=False, ready_at=150.0)  # the breaker is open until 150


def rate_limited(retry_after=None):
    return RateLimitError("Rate limit reached", status=429, retry_after=retry_after)


ONLY_STREAMS = "This model only support streaming, please enable it"


def case(why, error, expected, item=FRESH, gate=HEALTHY, rules=RULES):
    return pytest.param(error, item, gate, rules, expected, id=why)


@pytest.mark.parametrize(
    ("error", "item", "gate", "rules", "expected"),
    [
        case("an answer is written", None, WriteSuccess()),
        # 400/404/422 and content inspection: one error record, at once
        case("400", InvalidRequestError("bad", status=400), WriteError()),
        case("404", InvalidRequestError("no such model", status=404), WriteError()),
        case("422", InvalidRequestError("bad", status=422), WriteError()),
        case(
            "content inspection, not retried even during an outage",
            InvalidRequestError("inappropriate", status=400, code="data_inspection_failed"),
            WriteError(),
            gate=OUTAGE,
        ),
        case("a TLS failure is never retried", TlsError("verify failed"), WriteError()),
        # the model only streams: stream from now on, not charged
        case(
            "only streams, to a non-streamed attempt on its last try",
            InvalidRequestError(ONLY_STREAMS, status=400),
            StreamFromNow(),
            item=ItemState(charged=2),
        ),
        case(
            "only streams, said as non-streaming",
            InvalidRequestError("does not support non-streaming output", status=400),
            StreamFromNow(),
        ),
        case(
            "only streams, said as stream mode",
            InvalidRequestError("Please use stream mode for this model", status=400),
            StreamFromNow(),
        ),
        case(
            "only streams, to an attempt that streamed",
            InvalidRequestError(ONLY_STREAMS, status=400),
            WriteError(),
            item=ItemState(streamed=True),
        ),
        # 401/402/403: the job stops, whatever the item or the gate
        case("401", AuthError("Authentication Fails", status=401), Stop(StopReason.AUTH)),
        case(
            "402 on a last try",
            AuthError("Insufficient Balance", status=402),
            Stop(StopReason.AUTH),
            item=ItemState(charged=2),
        ),
        case("403 in an outage", AuthError("no", status=403), Stop(StopReason.AUTH), gate=OUTAGE),
        # 429: the model pauses until the gate says; never charged
        case("429", rate_limited(), Pause(107.5), gate=GateAnswer(ready_at=107.5)),
        case(
            "429 on a last try is not charged",
            rate_limited(2.0),
            Pause(102.0),
            item=ItemState(charged=2),
            gate=GateAnswer(ready_at=102.0),
        ),
        case(
            "Retry-After of exactly --max-wait",
            rate_limited(30.0),
            Pause(130.0),
            gate=GateAnswer(ready_at=130.0),
        ),
        case(
            "Retry-After beyond --max-wait",
            rate_limited(30.5),
            Stop(StopReason.TEMPFAIL),
            gate=GateAnswer(ready_at=130.5),
        ),
        case(
            "no --max-wait: any Retry-After",
            rate_limited(3600.0),
            Pause(3700.0),
            gate=GateAnswer(ready_at=3700.0),
            rules=Rules(3, None, RULES.backoff),
        ),
        # 5xx, network, timeout, truncated: backoff, charged; out of attempts: error record
        case("500", ServerError("internal", status=500), Retry(110.0, charged=True)),
        case(
            "503 after one charged failure backs off longer",
            ServerError("busy", status=503),
            Retry(120.0, charged=True),
            item=ItemState(charged=1),
        ),
        case("network error", NetworkError("connection reset"), Retry(110.0, charged=True)),
        case("timeout", TimeoutExpired("no first token"), Retry(110.0, charged=True)),
        case("truncated", TruncatedError("no finish reason"), Retry(110.0, charged=True)),
        case(
            "out of attempts",
            ServerError("boom", status=500),
            WriteError(),
            item=ItemState(charged=2),
        ),
        case(
            "one attempt allowed",
            ServerError("boom", status=502),
            WriteError(),
            rules=Rules(1, None, RULES.backoff),
        ),
        # the breaker says outage: wait for its probe, not charged, never an error record
        case(
            "outage",
            ServerError("bad gateway", status=502),
            Retry(150.0, charged=False),
            gate=OUTAGE,
        ),
        case(
            "outage on a last try",
            TimeoutExpired("idle"),
            Retry(150.0, charged=False),
            item=ItemState(charged=2),
            gate=OUTAGE,
        ),
        case(
            "outage whose probe time has passed",
            NetworkError("refused"),
            Retry(NOW, charged=False),
            gate=GateAnswer(charged=False, ready_at=90.0),
        ),
    ],
)
def test_decide(error, item, gate, rules, expected):
    assert decide(error, item, gate, rules, NOW) == expected


@pytest.mark.parametrize(
    ("error", "fault"),
    [
        (AuthError("x", status=401), Fault.AUTH),
        (RateLimitError("x", status=429), Fault.RATE_LIMITED),
        (InvalidRequestError("x", status=400), Fault.REJECTED),
        (TlsError("x"), Fault.REJECTED),
        (ServerError("x", status=500), Fault.TRANSIENT),
        (NetworkError("x"), Fault.TRANSIENT),
        (TimeoutExpired("x"), Fault.TRANSIENT),
        (TruncatedError("x"), Fault.TRANSIENT),
    ],
)
def test_fault_of_tells_the_gate_what_to_hear(error, fault):
    assert fault_of(error) is fault


@pytest.mark.parametrize(
    ("reason", "code", "interrupted"),
    [
        ("sigint", 130, True),
        ("sigterm", 143, True),
        ("auth", 77, False),
        ("unavailable", 69, False),
        ("tempfail", 75, False),
        ("output", 69, False),
        ("crash", 1, False),
    ],
)
def test_every_stop_reason_carries_its_exit_code(reason, code, interrupted):
    assert (StopReason(reason).exit_code, StopReason(reason).interrupted) == (code, interrupted)
