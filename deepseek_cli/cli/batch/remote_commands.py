"""``deepseek batch submit|status|fetch|cancel``: jobs run by the provider's Batch service.

Glue for ``deepseek_cli.batch.remote``: ``submit`` takes the same input and request options as
``batch run``; ``fetch`` writes the same output and errors files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from deepseek_cli.cli.batch import options as opts
from deepseek_cli.cli.boundary import guarded
from deepseek_cli.cli.options import ConfigOpt, DebugOpt, option, option_group, request_options

if TYPE_CHECKING:
    from deepseek_cli.config.settings import RequestFlags


@guarded
@request_options()
def submit(
    input_path: opts.InputArg,
    window: Annotated[
        str, option("--window DURATION", "Completion window: 24h to 336h (or 1d to 14d).")
    ] = "24h",
    name: Annotated[
        str | None,
        option(
            "--name NAME", "A name for the job (shown by status; usable instead of the job id)."
        ),
    ] = None,
    new: Annotated[
        bool, option("--new", "Submit again even if this input was submitted before.")
    ] = False,
    max_lines: Annotated[
        int,
        opts.file_option(
            "--max-lines N",
            "Requests per batch file at most (the provider's limit is 50,000).",
            min=1,
        ),
    ] = 50_000,
    max_bytes: Annotated[
        int,
        opts.file_option(
            "--max-bytes BYTES",
            "Size of a batch file at most (the provider's limit is 100 MB).",
            min=1,
        ),
    ] = 100 * 1024 * 1024,
    max_line_bytes: opts.MaxLineOpt = opts.DEFAULT_MAX_LINE_BYTES,
    json_output: opts.JsonOpt = False,
    *,
    flags: RequestFlags,
) -> None:
    """Hand a JSONL file to the provider's Batch service (DashScope, half price)."""
    from deepseek_cli.batch.remote.submit import SubmitOptions
    from deepseek_cli.batch.remote.submit import submit as run_submit

    run_submit(
        flags,
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


@guarded
def status(
    job: Annotated[
        str | None,
        typer.Argument(
            metavar="[JOB]",
            help="Job id, a unique prefix of one, or its --name (default: all jobs).",
        ),
    ] = None,
    wait: Annotated[
        bool, option("--wait", "Poll until every part has finished, showing progress.")
    ] = False,
    poll: Annotated[
        float,
        option(
            "--poll SECONDS", "With --wait: first polling interval; grows x1.5 up to 60 s.", min=0.0
        ),
    ] = 5.0,
    json_output: opts.JsonOpt = False,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Remote batch jobs: state, request counts and times of each part."""
    from deepseek_cli.batch.remote.status import status as run_status

    run_status(job, config=config, as_json=json_output, wait=wait, poll=poll)


@guarded
@option_group(opts.OutputFiles, at="files")
def fetch(
    job: opts.JobArg,
    *,
    files: opts.OutputFiles,
    force: Annotated[
        bool,
        opts.file_option(
            "--force", "Replace output files this job did not write (they may hold other results)."
        ),
    ] = False,
    json_output: opts.JsonOpt = False,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Download a finished job's results as batch run's output and errors files."""
    from deepseek_cli.batch.remote.fetch import FetchOptions
    from deepseek_cli.batch.remote.fetch import fetch as run_fetch

    run_fetch(
        FetchOptions(
            job=job,
            files=files.checked(),
            force=force,
            json_output=json_output,
            config=config,
        )
    )


@guarded
def cancel(
    job: opts.JobArg,
    json_output: opts.JsonOpt = False,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Cancel a remote job's unfinished parts (what finished can still be fetched)."""
    from deepseek_cli.batch.remote.status import cancel as run_cancel

    run_cancel(job, config=config, as_json=json_output)
