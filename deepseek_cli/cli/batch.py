"""``deepseek batch``: ``run``/``estimate`` (glue for ``deepseek_cli.batch``) and the remote
jobs ``submit``/``status``/``fetch``/``cancel`` (glue for ``deepseek_cli.batch.remote``).

Only Typer and the shared option declarations are imported here; the batch machinery (and
through it the SDKs) is imported inside the commands, so ``deepseek --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from deepseek_cli.cli.boundary import guarded
from deepseek_cli.cli.options import (
    BudgetOpt,
    ConfigOpt,
    DebugOpt,
    EffortOpt,
    ExtraOpt,
    MaxTokensOpt,
    ModelOpt,
    ProfileOpt,
    SearchOpt,
    SystemOpt,
    TemperatureOpt,
    ThinkOpt,
    TimeoutOpt,
    TopPOpt,
    request_flags,
)

app = typer.Typer(
    name="batch",
    help="Run many requests from a JSONL file: exactly once, within rate limits, resumable; "
    "or hand them to the provider's Batch service (DashScope, half price).",
    epilog="""\b
Examples:
  deepseek batch estimate questions.jsonl
  deepseek batch run questions.jsonl -j 16 --rpm 600
  deepseek batch run questions.jsonl              # again: resumes where it stopped
  deepseek batch submit questions.jsonl -p cn     # remote job on DashScope Beijing
  deepseek batch status --wait && deepseek batch fetch JOB
""",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LIMITS_PANEL = "Limits and retries"
FILES_PANEL = "Files"

# Shared by `run` and `fetch`, which write the same two files in the same shapes.
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output",
        metavar="PATH",
        help="Output JSONL (default INPUT.out.jsonl).",
        rich_help_panel=FILES_PANEL,
        show_default=False,
    ),
]
ErrorsOpt = Annotated[
    Path | None,
    typer.Option(
        "--errors",
        metavar="PATH",
        help="Errors JSONL (default OUTPUT.errors.jsonl).",
        rich_help_panel=FILES_PANEL,
        show_default=False,
    ),
]
FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        metavar="native|openai",
        help="Record shape: ours, or the OpenAI/DashScope Batch output lines.",
        rich_help_panel=FILES_PANEL,
    ),
]

RUN_EPILOG = """\b
Input lines (JSONL; '-' reads stdin):
  {"id": "q1", "prompt": "Translate: ..."}
  {"id": "q2", "messages": [{"role": "user", "content": "..."}], "max_tokens": 200}
  {"custom_id": "q3", "method": "POST", "url": "/v1/chat/completions",
   "body": {"model": "deepseek-v4-flash", "messages": [...]}}
Lines may set system, model, thinking, thinking_budget, reasoning_effort,
temperature, top_p, max_tokens, extra. A line without an id gets line-N.

\b
Examples:
  deepseek batch run questions.jsonl              # -> questions.out.jsonl
  deepseek batch run in.jsonl -o out.jsonl -j 16 --rpm 600
  cat in.jsonl | deepseek batch run - -o out.jsonl -p deepseek
  deepseek batch run in.jsonl -o out.jsonl        # again: resumes, skips done ids

\b
In batch, --timeout (per attempt) defaults to 1800 s. Ctrl-C or SIGTERM stops
sending, lets requests in flight finish (--grace), and can be resumed.

\b
Exit: 0 all done, 4 some items failed (see the errors file), 65 invalid input
(nothing sent), 69 provider unavailable, 75 output in use or rate-limit wait too
long, 77 key or balance problem, 130/143 interrupted (resumable).
"""

ESTIMATE_EPILOG = """\b
Examples:
  deepseek batch estimate questions.jsonl
  deepseek batch estimate in.jsonl -m deepseek-v4-flash --assume-output 300 --json
  deepseek batch estimate in.jsonl -p cn --remote     # at the Batch price (half)
"""

MaxLineOpt = Annotated[
    int,
    typer.Option(
        "--max-line-bytes",
        min=1,
        metavar="BYTES",
        help="Longest input line accepted.",
        rich_help_panel=FILES_PANEL,
    ),
]
LenientOpt = Annotated[
    bool,
    typer.Option(
        "--lenient",
        help="Record unusable input lines as errors and run the rest "
        "(default: refuse the whole input, exit 65).",
        rich_help_panel=FILES_PANEL,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")]


@app.command(epilog=RUN_EPILOG)
@guarded
def run(
    input_path: Annotated[
        str,
        typer.Argument(
            metavar="INPUT", help="JSONL input file, or - for stdin.", show_default=False
        ),
    ],
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
    max_line_bytes: MaxLineOpt = 8 * 1024 * 1024,
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
    profile: ProfileOpt = None,
    model: ModelOpt = None,
    think: ThinkOpt = None,
    budget: BudgetOpt = None,
    effort: EffortOpt = None,
    system: SystemOpt = None,
    temperature: TemperatureOpt = None,
    top_p: TopPOpt = None,
    max_tokens: MaxTokensOpt = None,
    search: SearchOpt = None,
    extra: ExtraOpt = None,
    timeout: TimeoutOpt = None,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Send every line of a JSONL file; results to OUTPUT, failures to the errors file."""
    from deepseek_cli.batch import job
    from deepseek_cli.batch.records import FORMATS
    from deepseek_cli.errors import UsageError

    if output_format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    flags = request_flags(locals())
    job.run(
        flags,
        job.RunOptions(
            input=input_path,
            output=output,
            errors=errors,
            fmt=output_format,
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


@app.command(epilog=ESTIMATE_EPILOG)
@guarded
def estimate(
    input_path: Annotated[
        str,
        typer.Argument(
            metavar="INPUT", help="JSONL input file, or - for stdin.", show_default=False
        ),
    ],
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
    max_line_bytes: MaxLineOpt = 8 * 1024 * 1024,
    remote: Annotated[
        bool,
        typer.Option(
            "--remote",
            help="Price it for the provider's Batch service (batch submit): half the "
            "real-time price.",
        ),
    ] = False,
    json_output: JsonOpt = False,
    profile: ProfileOpt = None,
    model: ModelOpt = None,
    think: ThinkOpt = None,
    budget: BudgetOpt = None,
    effort: EffortOpt = None,
    system: SystemOpt = None,
    temperature: TemperatureOpt = None,
    top_p: TopPOpt = None,
    max_tokens: MaxTokensOpt = None,
    search: SearchOpt = None,
    extra: ExtraOpt = None,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Estimate tokens and cost of a batch input; nothing is sent."""
    import json

    from deepseek_cli.batch.estimate import estimate as run_estimate
    from deepseek_cli.batch.estimate import format_text

    flags = request_flags(locals())
    result = run_estimate(
        flags,
        input_path,
        assume_output=assume_output,
        lenient=lenient,
        max_line_bytes=max_line_bytes,
        remote=remote,
    )
    text = json.dumps(result, ensure_ascii=False) + "\n" if json_output else format_text(result)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        pass


# ------------------------------------------------------------------------------------------
# Remote jobs on the provider's Batch service

SUBMIT_EPILOG = """\b
The provider runs the job (DashScope's OpenAI-compatible Batch API, half the
real-time price, results within the --window). Same input lines and request
options as batch run. DeepSeek's own API has no Batch service (use batch run);
in Singapore (intl) DashScope batches serve Qwen models only: DeepSeek models
run in Beijing (a profile with region = "cn").

\b
Submitting the same input with the same options again does not make a second
job: it finishes an interrupted submission or prints the existing job's id
(--new submits again on purpose).

\b
Examples:
  deepseek batch submit questions.jsonl -p cn              # prints the job id
  deepseek batch submit in.jsonl -p cn --no-think --name nightly --window 48h
  JOB=$(deepseek batch submit in.jsonl -p cn)
  deepseek batch status "$JOB" --wait && deepseek batch fetch "$JOB"

\b
Exit: 0 submitted, 2 the provider/region cannot run it, 65 invalid input
(nothing sent), 69 provider unavailable (run again: resumes), 77 key problem.
"""

STATUS_EPILOG = """\b
Without JOB: every job recorded here. JOB is a job id, a unique prefix of one,
or a --name. Finished parts are not asked about again.

\b
Examples:
  deepseek batch status
  deepseek batch status 20261130-3fa9c1
  deepseek batch status nightly --wait        # until every part has finished
  deepseek batch status --json

\b
Exit: 0; with --wait 4 when a part failed, expired or was cancelled, or some
requests failed.
"""

FETCH_EPILOG = """\b
Writes the same output and errors files as batch run (default INPUT.out.jsonl
and OUTPUT.errors.jsonl). Requests the provider never ran (expired, cancelled,
failed validation) are error records of kind not_processed. Fetching again
gives identical files; usage goes to the ledger once, at the Batch price.

\b
Examples:
  deepseek batch fetch 20261130-3fa9c1
  deepseek batch fetch nightly -o results.jsonl --format openai

\b
Exit: 0 all answered, 4 some failed or were not processed (see the errors
file), 75 still running (try later or status --wait), 2 not fully submitted.
"""

CANCEL_EPILOG = """\b
Examples:
  deepseek batch cancel 20261130-3fa9c1
  deepseek batch fetch 20261130-3fa9c1     # then: whatever finished before
"""

JobArg = Annotated[
    str,
    typer.Argument(
        metavar="JOB", help="Job id, a unique prefix of one, or its --name.", show_default=False
    ),
]


@app.command(epilog=SUBMIT_EPILOG)
@guarded
def submit(
    input_path: Annotated[
        str,
        typer.Argument(
            metavar="INPUT", help="JSONL input file, or - for stdin.", show_default=False
        ),
    ],
    window: Annotated[
        str,
        typer.Option(
            "--window",
            metavar="DURATION",
            help="Completion window: 24h to 336h (or 1d to 14d).",
        ),
    ] = "24h",
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            metavar="NAME",
            help="A name for the job (shown by status; usable instead of the job id).",
            show_default=False,
        ),
    ] = None,
    new: Annotated[
        bool,
        typer.Option("--new", help="Submit again even if this input was submitted before."),
    ] = False,
    max_lines: Annotated[
        int,
        typer.Option(
            "--max-lines",
            min=1,
            metavar="N",
            help="Requests per batch file at most (the provider's limit is 50,000).",
            rich_help_panel=FILES_PANEL,
        ),
    ] = 50_000,
    max_bytes: Annotated[
        int,
        typer.Option(
            "--max-bytes",
            min=1,
            metavar="BYTES",
            help="Size of a batch file at most (the provider's limit is 100 MB).",
            rich_help_panel=FILES_PANEL,
        ),
    ] = 100 * 1024 * 1024,
    max_line_bytes: MaxLineOpt = 8 * 1024 * 1024,
    json_output: JsonOpt = False,
    profile: ProfileOpt = None,
    model: ModelOpt = None,
    think: ThinkOpt = None,
    budget: BudgetOpt = None,
    effort: EffortOpt = None,
    system: SystemOpt = None,
    temperature: TemperatureOpt = None,
    top_p: TopPOpt = None,
    max_tokens: MaxTokensOpt = None,
    search: SearchOpt = None,
    extra: ExtraOpt = None,
    timeout: TimeoutOpt = None,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Hand a JSONL file to the provider's Batch service (DashScope, half price)."""
    from deepseek_cli.batch.remote.submit import SubmitOptions
    from deepseek_cli.batch.remote.submit import submit as run_submit

    run_submit(
        request_flags(locals()),
        SubmitOptions(
            input=input_path,
            window=window,
            name=name,
            max_lines=max_lines,
            max_bytes=max_bytes,
            max_line_bytes=max_line_bytes,
            new=new,
            json_output=json_output,
        ),
    )


@app.command(epilog=STATUS_EPILOG)
@guarded
def status(
    job: Annotated[
        str | None,
        typer.Argument(
            metavar="[JOB]",
            help="Job id, a unique prefix of one, or its --name (default: all jobs).",
            show_default=False,
        ),
    ] = None,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="Poll until every part has finished, showing progress."),
    ] = False,
    poll: Annotated[
        float,
        typer.Option(
            "--poll",
            min=0.0,
            metavar="SECONDS",
            help="With --wait: first polling interval; grows x1.5 up to 60 s.",
        ),
    ] = 5.0,
    json_output: JsonOpt = False,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Remote batch jobs: state, request counts and times of each part."""
    from deepseek_cli.batch.remote.status import status as run_status

    run_status(job, config=config, as_json=json_output, wait=wait, poll=poll)


@app.command(epilog=FETCH_EPILOG)
@guarded
def fetch(
    job: JobArg,
    output: OutputOpt = None,
    errors: ErrorsOpt = None,
    output_format: FormatOpt = "native",
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace output files this job did not write (they may hold other results).",
            rich_help_panel=FILES_PANEL,
        ),
    ] = False,
    json_output: JsonOpt = False,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Download a finished job's results as batch run's output and errors files."""
    from deepseek_cli.batch.records import FORMATS
    from deepseek_cli.batch.remote.fetch import FetchOptions
    from deepseek_cli.batch.remote.fetch import fetch as run_fetch
    from deepseek_cli.errors import UsageError

    if output_format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    run_fetch(
        FetchOptions(
            job=job,
            output=output,
            errors=errors,
            fmt=output_format,
            force=force,
            json_output=json_output,
            config=config,
        )
    )


@app.command(epilog=CANCEL_EPILOG)
@guarded
def cancel(
    job: JobArg,
    json_output: JsonOpt = False,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Cancel a remote job's unfinished parts (what finished can still be fetched)."""
    from deepseek_cli.batch.remote.status import cancel as run_cancel

    run_cancel(job, config=config, as_json=json_output)
