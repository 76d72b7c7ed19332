"""``deepseek compare`` from start to finish: check everything, run each variant as a batch job,
judge, and gather what the files hold into a :class:`~deepseek_cli.compare.results.Comparison`.

The batch engine does the sending, so each variant gets its guarantees unchanged: exactly
once, resumable after Ctrl-C or SIGKILL (a re-run sends only what is missing), its own
profile's key and limits, ``--max-cost``. Variants run one after another, each writing
``DIR/VARIANT.jsonl`` (and ``.errors.jsonl``); the judge is one more job, over questions
built from those answers (``DIR/judge.input.jsonl`` -> ``DIR/judge.jsonl``). Before anything
is sent, every variant's settings and key are resolved and the whole input is validated.

``--max-cost`` is one budget for the whole comparison: each job may spend what the others
(earlier runs included, as the ledger records them) have left of it.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepseek_cli.batch import job
from deepseek_cli.batch.budget import MaxCost
from deepseek_cli.batch.writer import OutputChoice, default_errors_path
from deepseek_cli.compare import collect, judge
from deepseek_cli.compare.baseline import read_baseline
from deepseek_cli.compare.inputs import read_input, write_batch_input, write_if_changed
from deepseek_cli.compare.results import Answer, Comparison, Item, Judging, Variant
from deepseek_cli.compare.variants import VariantSpec, parse_variant, parse_variants
from deepseek_cli.config import settings as settings_module
from deepseek_cli.config.profiles import profile_names
from deepseek_cli.config.settings import RequestFlags, Settings
from deepseek_cli.errors import CliError, ExitCode, LocalIOError, UsageError
from deepseek_cli.ledger import calls as ledger_calls
from deepseek_cli.ledger import store as ledger
from deepseek_cli.render import stderr as say
from deepseek_cli.safefile import ensure_private_dir


@dataclass(frozen=True)
class CompareOptions:
    input: Path
    variants: Sequence[str]
    directory: Path | None = None
    baseline: str | None = None
    judge: str | None = None
    sample: int | None = None
    max_cost: MaxCost | None = None
    stream: bool = False
    # The batch limits (concurrency, rpm, tpm, max_attempts, ramp, backoff, ...), as
    # ``batch run`` takes them.
    limits: dict[str, Any] = field(default_factory=dict)


def default_directory(input_path: Path) -> Path:
    return input_path.with_name(input_path.name + ".compare")


def compare(flags: RequestFlags, options: CompareOptions) -> Comparison:
    """Run (or resume) the comparison; the comparison as the files now hold it."""
    if not options.variants:
        raise UsageError("give at least one variant: -m [PROFILE:]MODEL")
    base = settings_module.load(flags, os.environ, need_key=False)
    names = profile_names(base.config.data)
    specs = parse_variants(options.variants, names)
    judge_spec = parse_variant(options.judge, names) if options.judge else None
    # Every key and config problem first (exit 78), before a file is written.
    for spec in [*specs, *([judge_spec] if judge_spec else [])]:
        settings_module.load(spec.flags(flags), os.environ)
    if not options.input.is_file():
        raise UsageError(f"cannot read {options.input}: no such file")
    found = read_input(options.input, options.sample)
    baseline = (
        read_baseline(options.baseline, {item.id for item in found.items})
        if options.baseline
        else None
    )
    directory = ensure_private_dir(options.directory or default_directory(options.input))
    batch_input = directory / "input.jsonl"
    write_batch_input(batch_input, found)
    if options.sample is not None and options.sample < found.total:
        say.notice(f"a sample of {len(found.items):,} of {found.total:,} lines (--sample)")
    if baseline is not None and baseline.unknown_ids:
        say.notice(f"--baseline: {baseline.unknown_ids:,} line(s) for ids not in the input")

    runner = _Runner(flags, options, base)
    variants: list[Variant] = []
    if baseline is not None:
        answers = collect.checked(found.items, baseline.answers)
        variants.append(Variant(baseline.name, "baseline", answers))
    for number, spec in enumerate(specs, start=1):
        say.notice(f"variant {number} of {len(specs)}: {spec.text}")
        output = runner.run(spec, batch_input, directory / f"{spec.slug}.jsonl")
        variants.append(Variant(spec.text, "model", runner.answers(found.items, output)))
    judging = None
    if judge_spec is not None:
        judging = _judge(runner, judge_spec, found.items, variants, directory)
    return Comparison(
        found.items, variants, judging, found.total, str(options.input), str(directory)
    )


class _Runner:
    """Runs batch jobs for the comparison and reads their files back."""

    def __init__(self, flags: RequestFlags, options: CompareOptions, base: Settings) -> None:
        self.flags = flags
        self.options = options
        self.base = base
        self.outputs: list[Path] = []  # every job's output, for the shared budget

    def run(self, spec: VariantSpec, batch_input: Path, output: Path) -> Path:
        """One job to the end; one whose items failed (exit 4) is still compared."""
        self.outputs.append(output)
        run_options = job.RunOptions(
            input=str(batch_input),
            files=OutputChoice(output),  # errors: OUTPUT.errors.jsonl, as batch run names it
            stream=self.options.stream,
            max_cost=self._budget_left(spec, output),
            **self.options.limits,
        )
        try:
            job.run(spec.flags(self.flags), run_options)
        except job.JobStopped as exc:
            if exc.exit_code != ExitCode.PARTIAL:
                raise
            say.warning(f"{spec.text}: {exc.message}")
        return output

    def answers(self, items: Sequence[Item], output: Path) -> dict[str, Answer]:
        batch_id = job.batch_id_of(output)
        ttft = {} if batch_id is None else self._ttft(batch_id)
        errors = collect.read_records(default_errors_path(output))
        return collect.answers_of(items, collect.read_records(output), errors, ttft)

    def _ttft(self, batch_id: str) -> dict[str, int]:
        try:
            return ledger_calls.batch_ttft(self.base.ledger_path, batch_id)
        except CliError as exc:  # a report without ttft is still a report
            say.warning(f"time to first token unknown: {exc}")
            return {}

    def _budget_left(self, spec: VariantSpec, output: Path) -> MaxCost | None:
        """What the other jobs of this comparison have left of ``--max-cost``."""
        budget = self.options.max_cost
        if budget is None:
            return None
        currency = budget.currency or self.base.profile.currency
        spent = 0.0
        for other in self.outputs:
            batch_id = job.batch_id_of(other)
            if other == output or batch_id is None:
                continue
            try:
                spent += ledger.batch_spend(self.base.ledger_path, batch_id, currency).amount
            except (sqlite3.Error, OSError) as exc:
                raise LocalIOError(
                    f"cannot read the usage ledger ({exc}): what this comparison spent is "
                    "unknown, so --max-cost cannot be kept"
                ) from None
        return dataclasses.replace(
            budget, amount=max(budget.amount - spent, 0.0), currency=currency
        )


def _judge(
    runner: _Runner,
    spec: VariantSpec,
    items: Sequence[Item],
    variants: Sequence[Variant],
    directory: Path,
) -> Judging:
    reference = variants[0]
    others = [v for v in variants[1:] if v.kind == "model"]
    asked = judge.questions(items, reference, others)
    judging = Judging(spec.text, reference.label)
    if not asked:
        say.notice("--judge: nothing to judge (no item has two answers)")
        return judging
    say.notice(f"judge {spec.text}: {len(asked):,} question(s) against {reference.label}")
    questions = directory / "judge.input.jsonl"
    write_if_changed(questions, b"".join(q.line + b"\n" for q in asked))
    output = runner.run(spec, questions, directory / "judge.jsonl")
    records = collect.read_records(output)
    errors = collect.read_records(default_errors_path(output))
    judging.verdicts = judge.verdicts(asked, {**errors, **records})
    for question in asked:
        cost = records.get(question.id, {}).get("cost")
        if isinstance(cost, dict):
            currency = str(cost.get("currency"))
            judging.cost[currency] = judging.cost.get(currency, 0.0) + float(cost["amount"])
        elif question.id in records:
            judging.unpriced += 1
    return judging
