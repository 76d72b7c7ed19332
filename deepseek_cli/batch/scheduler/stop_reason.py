"""Why a batch job stopped before its input was done, and the exit status each reason gives.

Why a type: the reasons are set in several places (signals, the outcome policy, the ticker,
the writer) and read in one (``job``: the summary status and the exit code), so they are
one closed set, each carrying its exit code, instead of strings mapped again where they end.
"""

from __future__ import annotations

from enum import StrEnum

from deepseek_cli.errors import ExitCode


class StopReason(StrEnum):
    SIGINT = "sigint"
    SIGTERM = "sigterm"
    AUTH = "auth"  # 401/402/403: a human has to act
    UNAVAILABLE = "unavailable"  # failing for longer than the outage budget
    TEMPFAIL = "tempfail"  # the provider asked to wait longer than --max-wait
    OUTPUT = "output"  # a record could not be written (disk full, file size limit)
    CRASH = "crash"  # an attempt raised what it should not have: a bug
    BUDGET = "budget"  # --max-cost: the next attempt's reservation does not fit

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT_CODES[self]

    @property
    def interrupted(self) -> bool:
        """Stopped by a signal (the summary says "interrupted"), not by what happened."""
        return self in (StopReason.SIGINT, StopReason.SIGTERM)


_EXIT_CODES = {
    StopReason.SIGINT: ExitCode.SIGINT,
    StopReason.SIGTERM: ExitCode.SIGTERM,
    StopReason.AUTH: ExitCode.NOPERM,
    StopReason.UNAVAILABLE: ExitCode.UNAVAILABLE,
    StopReason.TEMPFAIL: ExitCode.TEMPFAIL,
    StopReason.OUTPUT: ExitCode.UNAVAILABLE,
    StopReason.CRASH: ExitCode.INTERNAL,
    StopReason.BUDGET: ExitCode.TEMPFAIL,
}
