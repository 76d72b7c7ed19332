"""Options and arguments that several ``deepseek batch`` commands share, and ``batch run``'s
limits.

``run``, ``estimate`` and ``submit`` read the same input, and ``fetch``/``cancel`` name a job
the same way: declared once here so that they keep the same spelling, help and defaults.
``run`` and ``fetch`` write the same two files in the same shapes (:class:`OutputFiles`), and
``run`` has the scheduler's limits and retries (:class:`Limits`): each group of options is
given to the command as one value (``option_group``). As in ``cli.options``, no ``from
__future__ import annotations``: the groups' annotations are read at import.
"""

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from deepseek_cli.cli.options import OptionGroup, option

if TYPE_CHECKING:
    from deepseek_cli.batch.writer import OutputChoice

FILES_PANEL = "Files"
file_option = functools.partial(option, panel=FILES_PANEL)
LIMITS_PANEL = "Limits and retries"
_limit = functools.partial(option, panel=LIMITS_PANEL)

InputArg = Annotated[str, typer.Argument(metavar="INPUT", help="JSONL input file, or - for stdin.")]
JobArg = Annotated[
    str, typer.Argument(metavar="JOB", help="Job id, a unique prefix of one, or its --name.")
]
MaxLineOpt = Annotated[
    int, file_option("--max-line-bytes BYTES", "Longest input line accepted.", min=1)
]
LenientOpt = Annotated[
    bool,
    file_option(
        "--lenient",
        "Record unusable input lines as errors and run the rest "
        "(default: refuse the whole input, exit 65).",
    ),
]
JsonOpt = Annotated[bool, option("--json", "Print the result as one JSON object.")]
MAX_COST_USAGE = "--max-cost AMOUNT[CUR]"  # e.g. 5, 0.5USD, "20 CNY"; parsed by batch.budget

DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024  # batch.input.source's; not imported: start-up


class OutputFiles(OptionGroup):
    """The two files ``batch run`` and ``batch fetch`` write, and the shape of their records."""

    output: Annotated[
        Path | None, file_option("-o, --output PATH", "Output JSONL (default INPUT.out.jsonl).")
    ] = None
    errors: Annotated[
        Path | None, file_option("--errors PATH", "Errors JSONL (default OUTPUT.errors.jsonl).")
    ] = None
    fmt: Annotated[
        str,
        file_option(
            "--format native|openai",
            "Record shape: ours, or the OpenAI/DashScope Batch output lines.",
        ),
    ] = "native"

    def checked(self) -> "OutputChoice":
        """The files as ``batch run`` and ``batch fetch`` take them; a ``--format`` that is not
        a record shape we write is refused (exit 2)."""
        from deepseek_cli.batch.records import FORMATS
        from deepseek_cli.batch.writer import OutputChoice
        from deepseek_cli.errors import UsageError

        if self.fmt not in FORMATS:
            raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
        return OutputChoice(**self.values())


class Limits(OptionGroup):
    """``batch run``'s limits and retries, named as ``job.RunOptions`` names them."""

    concurrency: Annotated[
        int | None,
        _limit(
            "-j, --concurrency N", "Requests in flight at most (default: profile's, else 8).", min=1
        ),
    ] = None
    rpm: Annotated[
        int | None,
        _limit("--rpm N", "Requests per minute per model, paced evenly (0 = no limit).", min=0),
    ] = None
    tpm: Annotated[
        int | None,
        _limit(
            "--tpm N",
            "Estimated tokens per minute per model (prompt + max_tokens; 0 = no limit).",
            min=0,
        ),
    ] = None
    max_attempts: Annotated[
        int | None,
        _limit(
            "--max-attempts N",
            "Tries per item for 5xx, network errors, timeouts and cut-off answers "
            "(default 6; 429s and outages do not count).",
            min=1,
        ),
    ] = None
    ramp: Annotated[
        float,
        _limit(
            "--ramp SECONDS",
            "With --rpm: rise from 10% to the full rate over this long; "
            "also how fast the rate recovers after a 429.",
            min=0.0,
        ),
    ] = 10.0
    backoff: Annotated[
        float,
        _limit(
            "--backoff SECONDS",
            "First retry backoff; doubles up to 60 s, with full jitter.",
            min=0.0,
        ),
    ] = 1.0
    max_wait: Annotated[
        float | None,
        _limit(
            "--max-wait SECONDS",
            "Stop (exit 75, resumable) when a 429 asks to wait longer than this "
            "(default: wait as asked).",
            min=0.0,
        ),
    ] = None
    outage_budget: Annotated[
        float,
        _limit(
            "--outage-budget SECONDS",
            "Give up (exit 69, resumable) after this long with failures and no success.",
            min=0.1,
        ),
    ] = 600.0
    grace: Annotated[
        float,
        _limit(
            "--grace SECONDS",
            "On Ctrl-C/SIGTERM, let requests in flight finish for up to this long.",
            min=0.0,
        ),
    ] = 8.0
