"""``deepseek compare``: the same prompts through several models or settings, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from deepseek_cli.cli.batch import options as opts
from deepseek_cli.cli.boundary import guarded
from deepseek_cli.cli.options import option, option_group, request_options
from deepseek_cli.compare.prompt import JUDGE_PROMPT

if TYPE_CHECKING:
    from deepseek_cli.config.settings import RequestFlags

# The judge's prompt is part of the contract (a team must know what decided its verdicts),
# so --help shows it, as the judge sends it.
EPILOG = """\b
Examples:
  deepseek compare questions.jsonl -m intl:deepseek-v4-pro \\
      -m deepseek:deepseek-v4-flash@no-think --baseline current.jsonl \\
      --judge deepseek:deepseek-v4-pro
  deepseek compare evals.jsonl -m deepseek-v4-pro -m deepseek-v4-flash --sample 50
  deepseek compare evals.jsonl -m deepseek:deepseek-v4-pro --min-pass 0.9 --json | jq .variants

\b
VARIANT: [PROFILE:]MODEL[@think|@no-think|@effort=LEVEL|@budget=N]
Input lines are batch run lines, optionally with "expected" (the answer must
contain it, ignoring case) and "checks": [{"contains": S}, {"not_contains": S},
{"equals": S}, {"regex": R}, {"json": true}, {"max_chars": N}].
Each variant runs as a batch job (exactly once, resumable: a re-run sends only
what is missing) writing DIR/VARIANT.jsonl; DIR/report.json and report.md hold
the report. Exit 0; 4 when a variant had errors or a pass rate under
--min-pass; 65 invalid input.

\b
The judge gets, for each item, the reference (the baseline, else the first
variant) and another variant's answer, as A and B in an order fixed per item
and variant, with this prompt; a reply other than A, B or tie is "unparsed":
"""
# \b keeps each paragraph of the prompt as it is written (Click rewraps the others).
EPILOG += "\n" + "\n\n".join(
    "\b\n" + "\n".join("  " + line for line in paragraph.splitlines())
    for paragraph in JUDGE_PROMPT.split("\n\n")
)


@guarded
@request_options(without={"model"}, timeout_default=1800.0)
@option_group(opts.Limits, at="limits")
def compare(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help="JSONL questions (batch run lines).")
    ],
    variant: Annotated[
        list[str] | None,
        option(
            "-m, --variant VARIANT",
            "A model to compare: [PROFILE:]MODEL[@think|@no-think|@effort=L|@budget=N]. "
            "Repeatable; the first is the judge's reference when there is no baseline.",
        ),
    ] = None,
    directory: Annotated[
        Path | None,
        option("-o, --output-dir DIR", "Where answers and the report go (default INPUT.compare/)."),
    ] = None,
    baseline: Annotated[
        str | None,
        option(
            "--baseline FILE[:NAME]",
            'Answers you already have ({"id", "answer"} lines; a batch output works).',
        ),
    ] = None,
    judge: Annotated[
        str | None,
        option("--judge VARIANT", "A model that judges each variant against the reference."),
    ] = None,
    sample: Annotated[
        int | None, option("--sample N", "Only N lines, the same N every run.", min=1)
    ] = None,
    min_pass: Annotated[
        float | None,
        option(
            "--min-pass RATE", "Exit 4 when a variant's pass rate is below RATE.", min=0.0, max=1.0
        ),
    ] = None,
    max_cost: Annotated[
        str | None,
        option(
            opts.MAX_COST_USAGE,
            "One budget for the whole comparison (every variant and the judge); "
            "resumable when reached (exit 75).",
            panel=opts.LIMITS_PANEL,
        ),
    ] = None,
    stream: Annotated[bool, option("--stream", "Stream every request.")] = False,
    json_output: Annotated[
        bool, option("--json", "Print report.json instead of the table.")
    ] = False,
    *,
    limits: opts.Limits,
    flags: RequestFlags,
) -> None:
    """Compare models on the same prompts: checks, judge, latency and cost."""
    from deepseek_cli.batch.budget import parse_max_cost
    from deepseek_cli.compare.outcome import finish
    from deepseek_cli.compare.run import CompareOptions
    from deepseek_cli.compare.run import compare as run_compare

    comparison = run_compare(
        flags,
        CompareOptions(
            input=input_path,
            variants=list(variant or []),
            directory=directory,
            baseline=baseline,
            judge=judge,
            sample=sample,
            max_cost=parse_max_cost(max_cost) if max_cost is not None else None,
            stream=stream,
            limits=limits.values(),
        ),
    )
    finish(comparison, min_pass=min_pass, json_output=json_output)
