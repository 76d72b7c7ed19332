"""How long to wait before trying a provider again: exponential backoff, or what it asked for.

One formula for every retry loop (``ask``/``chat`` retries, batch items and its 429 pause,
polling a remote batch): ``base * factor^(step-1)``, capped, times a random factor, because
many clients retrying in lockstep make the next failure too. ``jitter=1`` is "full jitter"
(anywhere from 0 to the ceiling), ``0`` none. A server's ``Retry-After`` beats the formula.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping


def backoff_delay(
    step: int, base: float, cap: float, *, factor: float = 2.0, jitter: float = 1.0
) -> float:
    """Seconds to wait before retry number ``step`` (1-based)."""
    ceiling = min(base * factor ** max(step - 1, 0), cap)
    if jitter <= 0:
        return ceiling
    return ceiling * random.uniform(1.0 - jitter, 1.0)


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or HTTP date)."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    if "retry-after-ms" in lowered:
        try:
            return max(float(lowered["retry-after-ms"]) / 1000, 0.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if value else None
        return None if when is None else max(when.timestamp() - time.time(), 0.0)
