"""``deepseek batch run`` and ``batch estimate``: the batch engine on this machine.

Glue for ``deepseek_cli.batch``: the options of the scheduler (limits, retries, files) become
a ``RunOptions``, the request options a ``RequestFlags``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from deepseek_cli.cli.batch.options import (
    DEFAULT_MAX_LINE_BYTES,
    FILES_PANEL,
    LIMITS_PANEL,
    ErrorsOpt,
    FormatOpt,
    InputArg,
    JsonOpt,
    LenientOpt,
    MaxLineOpt,
    OutputOpt,
    checked_format,
)
from deepseek_cli.cli.boundary import guarded
from deepseek_cli.cli.options import request_options

if TYPE_CHECKING:
    from deepseek_cli.config.settings import RequestFlags


@guarded
@request_options()
def run(
    input_path: InputArg,
    output: OutputOpt = None,
    errors: ErrorsOpt = None,
    output_format: FormatOpt = "native",
    lenient: LenientOpt = False,
    retry_errors: Annotated[
        bool,
        typer.Option(
            "--retry-errors",
            help="Also run the ids already in the errors file again.",
            rich_help_panel=FILES_PANEL,
        ),
    ] = False,
    max_line_bytes: MaxLineOpt = DEFAULT_MAX_LINE_BYTES,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "-j",
            "--concurrency",
            min=1,
            metavar="N",
            help="Requests in flight at most (default: profile's, else 8).",
            rich_help_panel=LIMITS_PANEL,
            show_default=False,
        ),
    ] = None,
    rpm: Annotated[
        int | None,
        typer.Option(
            "--rpm",
            min=0,
            metavar="N",
            help="Requests per minute per model, paced evenly (0 = no limit).",
            rich_help_panel=LIMITS_PANEL,
            show_default=False,
        ),
    ] = None,
    tpm: Annotated[
        int | None,
        typer.Option(
            "--tpm",
            min=0,
            metavar="N",
            help="Estimated tokens per minute per model (prompt + max_tokens; 0 = no limit).",
            rich_help_panel=LIMITS_PANEL,
            show_default=False,
        ),
    ] = None,
    max_attempts: Annotated[
        int | None,
        typer.Option(
            "--max-attempts",
            min=1,
            metavar="N",
            help="Tries per item for 5xx, network errors, timeouts and cut-off answers "
            "(default 6; 429s and outages do not count).",
            rich_help_panel=LIMITS_PANEL,
            show_default=False,
        ),
    ] = None,
    ramp: Annotated[
        float,
        typer.Option(
            "--ramp",
            min=0.0,
            metavar="SECONDS",
            help="With --rpm: rise from 10% to the full rate over this long; "
            "also how fast the rate recovers after a 429.",
            rich_help_panel=LIMITS_PANEL,
        ),
    ] = 10.0,
    backoff: Annotated[
        float,
        typer.Option(
            "--backoff",
            min=0.0,
            metavar="SECONDS",
            help="First retry backoff; doubles up to 60 s, with full jitter.",
            rich_help_panel=LIMITS_PANEL,
        ),
    ] = 1.0,
    max_wait: Annotated[
        float | None,
        typer.Option(
            "--max-wait",
            min=0.0,
            metavar="SECONDS",
            help="Stop (exit 75, resumable) when a 429 asks to wait longer than this "
            "(default: wait as asked).",
            rich_help_panel=LIMITS_PANEL,
            show_default=False,
        ),
    ] = None,
    outage_budget: Annotated[
        float,
        typer.Option(
            "--outage-budget",
            min=0.1,
            metavar="SECONDS",
            help="Give up (exit 69, resumable) after this long with failures and no success.",
            rich_help_panel=LIMITS_PANEL,
        ),
    ] = 600.0,
    grace: Annotated[
        float,
        typer.Option(
            "--grace",
            min=0.0,
            metavar="SECONDS",
            help="On Ctrl-C/SIGTERM, let requests in flight finish for up to this long.",
            rich_help_panel=LIMITS_PANEL,
        ),
    ] = 8.0,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream",
            help="Stream every request (default: only when the model needs it).",
        ),
    ] = False,
    json_output: JsonOpt = False,
    *,
    flags: RequestFlags,
) -> None:
    """Send every line of a JSONL file; results to OUTPUT, failures to the errors file."""
    from deepseek_cli.batch import job

    job.run(
        flags,
        job.RunOptions(
            input=input_path,
            output=output,
            errors=errors,
            fmt=checked_format(output_format),
            lenient=lenient,
            retry_errors=retry_errors,
            concurrency=concurrency,
            rpm=rpm,
            tpm=tpm,
            max_attempts=max_attempts,
            grace=grace,
            max_wait=max_wait,
            outage_budget=outage_budget,
            ramp=ramp,
            backoff=backoff,
            max_line_bytes=max_line_bytes,
            stream=stream,
            json_summary=json_output,
        ),
    )


@guarded
@request_options(without={"timeout"})  # nothing is sent
def estimate(
    input_path: InputArg,
    assume_output: Annotated[
        int | None,
        typer.Option(
            "--assume-output",
            min=0,
            metavar="N",
            help="Output tokens per line (default: each line's max_tokens).",
            show_default=False,
        ),
    ] = None,
    lenient: LenientOpt = False,
    max_line_bytes: MaxLineOpt = DEFAULT_MAX_LINE_BYTES,
    remote: Annotated[
        bool,
        typer.Option(
            "--remote",
            help="Price it for the provider's Batch service (batch submit): half the "
            "real-time price.",
        ),
    ] = False,
    json_output: JsonOpt = False,
    *,
    flags: RequestFlags,
) -> None:
    """Estimate tokens and cost of a batch input; nothing is sent."""
    from deepseek_cli.batch.estimate import estimate as run_estimate
    from deepseek_cli.render.estimate import format_text
    from deepseek_cli.render.stdout import emit, emit_json

    result = run_estimate(
        flags,
        input_path,
        assume_output=assume_output,
        lenient=lenient,
        max_line_bytes=max_line_bytes,
        remote=remote,
    )
    if json_output:
        emit_json(result)
    else:
        emit(format_text(result))
