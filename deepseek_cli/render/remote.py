"""What the remote batch commands show: job tables, one job in detail, wait progress.

Tables go through ``render.tables`` (Rich on a terminal, aligned plain text in a pipe) and
``--json`` prints the job view built by ``batch.remote.jobs.job_view``. Waiting shows a Rich
progress bar on a terminal and otherwise one status line on stderr each time the state
changes, so a cron log gets a line per change, not per poll. Rich is imported only on the
terminal paths.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from deepseek_cli.batch.remote.jobs import TIME_KEYS, Part, RemoteJob, epoch_iso, job_view
from deepseek_cli.render import stderr as say
from deepseek_cli.render import stderr_is_terminal
from deepseek_cli.render.progress import money
from deepseek_cli.render.stdout import emit
from deepseek_cli.render.tables import Column, fields_text, print_table


def input_name(path: str) -> str:
    """The input as the user would type it: relative to here when it is below here."""
    if path == "<stdin>":
        return path
    with contextlib.suppress(ValueError):
        return str(Path(path).relative_to(Path.cwd()))
    return path


def _json(obj: Any) -> None:
    emit(json.dumps(obj, ensure_ascii=False) + "\n")


def _requests(job: RemoteJob) -> str:
    total, completed, failed = job.counts()
    return f"{completed + failed:,}/{total:,}"


def _when(iso: str) -> str:
    return iso.replace("T", " ").removesuffix("Z")


def submitted(job: RemoteJob, *, as_json: bool) -> None:
    if as_json:
        _json(job_view(job))
        return
    emit(job.id + "\n")
    models = ", ".join(job.models)
    say.write_line(
        "dim",
        f"job {job.id}: {job.requests:,} request(s) in {len(job.parts)} part(s) ({models}), "
        f"window {job.window}; follow it with: deepseek batch status {job.id} --wait",
    )


def jobs(items: list[RemoteJob], *, as_json: bool) -> None:
    if as_json:
        _json([job_view(job) for job in items])
        return
    if not items:
        say.notice("no remote batch jobs yet (deepseek batch submit INPUT)")
        return
    columns = [
        Column("job", no_wrap=True, title=True),
        Column("name"),
        Column("status", no_wrap=True),
        Column("done", align="right", no_wrap=True),
        Column("failed", align="right"),
        Column("parts", align="right"),
        Column("model"),
        Column("created", no_wrap=True),
    ]
    rows = []
    for job in items:
        _, _, failed = job.counts()
        rows.append(
            [
                job.id,
                job.name or "",
                job.status,
                _requests(job),
                f"{failed:,}",
                str(len(job.parts)),
                ", ".join(job.models),
                _when(job.created_at),
            ]
        )
    print_table(columns, rows)


def job(item: RemoteJob, *, as_json: bool) -> None:
    if as_json:
        _json(job_view(item))
        return
    total, completed, failed = item.counts()
    region = f", {item.region}" if item.region else ""
    pairs: list[tuple[str, str | list[str]]] = [
        ("job", item.id + (f" ({item.name})" if item.name else "")),
        ("status", item.status),
        ("requests", f"{total:,} total, {completed:,} completed, {failed:,} failed"),
        ("input", input_name(item.input_path)),
        ("profile", f"{item.profile} ({item.provider}{region})"),
        ("models", ", ".join(item.models)),
        ("window", item.window),
        ("created", _when(item.created_at)),
    ]
    if item.fetched:
        pairs.append(("fetched", f"{_when(item.fetched['at'])} -> {item.fetched['output']}"))
    emit(fields_text(pairs))
    emit("\n")
    columns = [
        Column("part", align="right"),
        Column("status", no_wrap=True),
        Column("done", align="right", no_wrap=True),
        Column("failed", align="right"),
        Column("model"),
        Column("batch", no_wrap=True),
        Column("last change", no_wrap=True),
    ]
    rows = []
    for part in item.parts:
        p_total, p_completed, p_failed = part.counts()
        rows.append(
            [
                str(part.index),
                part.status,
                f"{p_completed + p_failed:,}/{p_total:,}",
                f"{p_failed:,}",
                part.model,
                part.batch_id or "-",
                _last_change(part),
            ]
        )
    print_table(columns, rows)
    if item.status == "submitting":
        emit(
            "\nnot fully submitted: run the same `deepseek batch submit` command again to "
            "finish it (nothing is created twice)\n"
        )
    problems = validation_lines(item)
    if problems:
        emit("\nvalidation errors (input line: code: message):\n")
        emit("".join(f"  {line}\n" for line in problems))


def _last_change(part: Part) -> str:
    view = describe_part_times(part)
    if not view:
        return ""
    key, value = view[-1]
    return f"{key} {_when(value)}"


def describe_part_times(part: Part) -> list[tuple[str, str]]:
    found = []
    for key in TIME_KEYS:
        if key == "expires_at":
            continue
        value = epoch_iso(part.remote.get(key))
        if value:
            found.append((key.removesuffix("_at"), value))
    found.sort(key=lambda kv: kv[1])
    return found


def validation_lines(item: RemoteJob) -> list[str]:
    name = input_name(item.input_path)
    lines = []
    for part in item.parts:
        for problem in part.validation_errors():
            lines.append(problem_text(name, part.index, problem))
    return lines


def problem_text(name: str, part: int, problem: dict[str, Any]) -> str:
    where = f"{name}:{problem['input_line']}" if problem.get("input_line") else name
    line = f", line {problem['line']}" if problem.get("line") else ""
    return f"{where}: {problem.get('code')}: {problem.get('message')} (part {part}{line})"


class WaitProgress:
    """Progress while ``status --wait`` polls."""

    def __init__(self, item: RemoteJob) -> None:
        self._last = ""
        self._bar: Any = None
        self._task: Any = None
        if stderr_is_terminal() and os.environ.get("TERM") != "dumb":
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn

            self._bar = Progress(
                TextColumn(f"job {item.id}"),
                BarColumn(),
                TextColumn("{task.completed:,}/{task.total:,}"),
                TextColumn("{task.fields[info]}"),
                console=Console(file=sys.stderr),
                auto_refresh=False,
                transient=True,
            )
            self._task = self._bar.add_task("wait", total=max(item.requests, 1), info="")
            self._bar.start()

    def update(self, item: RemoteJob) -> None:
        total, completed, failed = item.counts()
        text = f"{item.status}, {completed + failed:,}/{total:,} done, {failed:,} failed"
        if self._bar is not None:
            self._bar.update(
                self._task, total=max(total, 1), completed=completed + failed, info=item.status
            )
            with contextlib.suppress(OSError):
                self._bar.refresh()
            return
        if text != self._last:
            self._last = text
            say.write_line("dim", f"job {item.id}: {text}")

    def notice(self, text: str) -> None:
        say.notice(text)

    def close(self) -> None:
        if self._bar is not None:
            with contextlib.suppress(OSError):
                self._bar.stop()


def cancelled(item: RemoteJob, parts: list[Part], *, as_json: bool) -> None:
    if as_json:
        _json(job_view(item))
        return
    if not parts:
        say.notice(f"job {item.id} has nothing left to cancel ({item.status})")
        return
    states = ", ".join(f"part {p.index} {p.status}" for p in parts)
    say.write_line("dim", f"job {item.id}: cancel requested: {states}")


def fetched(summary: dict[str, Any], *, as_json: bool) -> None:
    name = input_name(summary["input"])
    for problem in summary["validation_errors"]:
        say.warning(problem_text(name, problem["part"], problem))
    if summary["unknown_ids"]:
        say.warning(f"{summary['unknown_ids']:,} result line(s) with ids not in the job ignored")
    if summary["unreadable_lines"]:
        say.warning(f"{summary['unreadable_lines']:,} unreadable result line(s) ignored")
    if as_json:
        _json(summary)
        return
    text = (
        f"job {summary['job']}: {summary['succeeded']:,} ok, {summary['failed']:,} failed, "
        f"{summary['not_processed']:,} not processed -> {summary['output']}"
    )
    if summary["errors_file"]:
        text += f" (errors in {summary['errors_file']})"
    cost = summary["cost"]
    text += "; " + (
        f"{money(cost['amount'], cost['currency'])} at the Batch price" if cost else "cost unknown"
    )
    ledger = summary["ledger"]
    if ledger["already_recorded"] and not ledger["recorded"]:
        text += " (usage already in the ledger)"
    say.write_line("dim", text)
