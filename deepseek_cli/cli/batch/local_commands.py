"""``deepseek batch run`` and ``batch estimate``: the batch engine on this machine.

Glue for ``deepseek_cli.batch``: the options of the scheduler (limits, retries, files) become
a ``RunOptions``, the request options a ``RequestFlags``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from deepseek_cli.cli.batch import options as opts
from deepseek_cli.cli.boundary import guarded
from deepseek_cli.cli.options import option, option_group, request_options
from deepseek_cli.config.defaults import BATCH_TOTAL_TIMEOUT

if TYPE_CHECKING:
    from deepseek_cli.config.settings import RequestFlags


@guarded
@request_options(timeout_default=BATCH_TOTAL_TIMEOUT)
@option_group(opts.OutputFiles, at="files")
@option_group(opts.Limits, at="limits")
def run(
    input_path: opts.InputArg,
    *,
    files: opts.OutputFiles,
    lenient: opts.LenientOpt = False,
    retry_errors: Annotated[
        bool,
        opts.file_option("--retry-errors", "Also run the ids already in the errors file again."),
    ] = False,
    max_line_bytes: opts.MaxLineOpt = opts.DEFAULT_MAX_LINE_BYTES,
    limits: opts.Limits,
    max_cost: Annotated[
        str | None,
        option(
            opts.MAX_COST_USAGE,
            "Stop (exit 75, resumable) before a request whose reserved cost (prompt + "
            "max_tokens at the model's price) would take the spend past this; e.g. 5, 0.5USD, "
            "'20 CNY' (default currency: the profile's).",
            panel=opts.LIMITS_PANEL,
        ),
    ] = None,
    stream: Annotated[
        bool, option("--stream", "Stream every request (default: only when the model needs it).")
    ] = False,
    json_output: opts.JsonOpt = False,
    flags: RequestFlags,
) -> None:
    """Send every line of a JSONL file; results to OUTPUT, failures to the errors file."""
    from deepseek_cli.batch import job
    from deepseek_cli.batch.budget import parse_max_cost

    budget = parse_max_cost(max_cost) if max_cost is not None else None
    job.run(
        flags,
        job.RunOptions(
            input=input_path,
            lenient=lenient,
            retry_errors=retry_errors,
            max_line_bytes=max_line_bytes,
            stream=stream,
            json_summary=json_output,
            max_cost=budget,
            files=files.checked(),
            **limits.values(),
        ),
    )


@guarded
@request_options(without={"timeout"})  # nothing is sent
def estimate(
    input_path: opts.InputArg,
    assume_output: Annotated[
        int | None,
        option(
            "--assume-output N", "Output tokens per line (default: each line's max_tokens).", min=0
        ),
    ] = None,
    lenient: opts.LenientOpt = False,
    max_line_bytes: opts.MaxLineOpt = opts.DEFAULT_MAX_LINE_BYTES,
    remote: Annotated[
        bool,
        option(
            "--remote",
            "Price it for the provider's Batch service (batch submit): half the real-time price.",
        ),
    ] = False,
    max_cost: Annotated[
        str | None,
        option(
            opts.MAX_COST_USAGE,
            "Also check the input as batch run --max-cost does, and show how many lines fit "
            "in this budget at worst, in input order.",
        ),
    ] = None,
    json_output: opts.JsonOpt = False,
    *,
    flags: RequestFlags,
) -> None:
    """Estimate tokens and cost of a batch input; nothing is sent."""
    from deepseek_cli.batch.budget import parse_max_cost
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
        max_cost=parse_max_cost(max_cost) if max_cost is not None else None,
    )
    if json_output:
        emit_json(result)
    else:
        emit(format_text(result))
