"""Options and arguments that several ``deepseek batch`` commands share.

``run`` and ``fetch`` write the same two files in the same shapes, ``run``, ``estimate`` and
``submit`` read the same input, and ``fetch``/``cancel`` name a job the same way: declared once
here so that they keep the same spelling, help and defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

LIMITS_PANEL = "Limits and retries"
FILES_PANEL = "Files"

InputArg = Annotated[
    str,
    typer.Argument(metavar="INPUT", help="JSONL input file, or - for stdin.", show_default=False),
]
JobArg = Annotated[
    str,
    typer.Argument(
        metavar="JOB", help="Job id, a unique prefix of one, or its --name.", show_default=False
    ),
]
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

DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024


def checked_format(value: str) -> str:
    """``--format``, refused (exit 2) unless it is a record shape we write."""
    from deepseek_cli.batch.records import FORMATS
    from deepseek_cli.errors import UsageError

    if value not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    return value
