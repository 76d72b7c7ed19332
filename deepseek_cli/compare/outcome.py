"""The end of a comparison: the report files, what stdout shows, and the exit status.

``report.json`` and ``report.md`` are rewritten on every run (atomically: a reader never
sees half a report) from what the files hold, so a re-run that sent nothing leaves the same
report. Exit 4 when a model variant had errors, or a pass rate under ``--min-pass``.
"""

from __future__ import annotations

import json
from pathlib import Path

from deepseek_cli.compare.prompt import JUDGE_PROMPT
from deepseek_cli.compare.report_json import report_json
from deepseek_cli.compare.report_md import report_md
from deepseek_cli.compare.results import Comparison
from deepseek_cli.compare.summary import VariantSummary, summarize
from deepseek_cli.compare.table_rows import print_summary
from deepseek_cli.errors import CliError, ExitCode
from deepseek_cli.render import stderr as say
from deepseek_cli.render.stdout import emit_json
from deepseek_cli.safefile import write_atomic


class CompareFailed(CliError):
    exit_code = ExitCode.PARTIAL


def finish(comparison: Comparison, *, min_pass: float | None, json_output: bool) -> None:
    """Write the report, show it, raise ``CompareFailed`` (exit 4) when it falls short."""
    judge_prompt = JUDGE_PROMPT if comparison.judging is not None else None
    report = report_json(comparison, judge_prompt)
    directory = Path(comparison.directory)
    text = json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    write_atomic(directory / "report.json", text.encode("utf-8"))
    write_atomic(directory / "report.md", report_md(comparison, judge_prompt).encode("utf-8"))
    summaries = summarize(comparison)
    if json_output:
        emit_json(report, indent=2)
    else:
        print_summary(comparison)
    say.notice(f"report: {directory / 'report.md'} (and report.json)")
    problem = shortfall(summaries, min_pass)
    if problem is not None:
        raise CompareFailed(problem, f"see {directory / 'report.md'}")


def shortfall(summaries: list[VariantSummary], min_pass: float | None) -> str | None:
    """Why the comparison exits 4, or ``None``: errors, or a pass rate under the bar."""
    reasons = []
    for s in summaries:
        if s.kind != "model":
            continue
        if s.errors:
            reasons.append(f"{s.label}: {s.errors} error(s)")
        if min_pass is not None and s.pass_rate is not None and s.pass_rate < min_pass:
            reasons.append(
                f"{s.label}: pass rate {s.pass_rate:.0%} is under --min-pass {min_pass:g}"
            )
    return "; ".join(reasons) or None
