"""What the remote batch commands show: job tables, one job in detail, wait progress.

Tables go through ``render.tables`` (Rich on a terminal, aligned plain text in a pipe) and
``--json`` prints the job view: :class:`JobView`, the plain values ``status --json`` prints
(built by ``batch.remote.jobs.job_view``), which is also all the tables are drawn from, so
this module knows nothing of the batch package. Waiting shows a Rich progress bar on a
terminal and otherwise one status line on stderr each time the state changes, so a cron log
gets a line per change, not per poll. Rich is imported only on the terminal paths.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any, TypedDict

from deepseek_cli.render import stderr as say
from deepseek_cli.render.numbers import UNKNOWN, cost_json_text
from deepseek_cli.render.stdout import emit, emit_json
from deepseek_cli.render.tables import Column, fields_text, print_table
from deepseek_cli.render.terminal import stderr_is_terminal


class RequestCounts(TypedDict):
    total: int
    completed: int
    failed: int


class PartView(TypedDict):
    index: int
    model: str
    status: str
    batch_id: str | None
    input_file_id: str | None
    output_file_id: str | None
    error_file_id: str | None
    lines: int
    bytes: int
    requests: RequestCounts
    # Stage ("created", "in_progress", ..., "expires") -> when it happened (UTC, ``...Z``).
    times: dict[str, str | None]
    validation_errors: list[dict[str, Any]]


class InputView(TypedDict):
    path: str
    sha256: str
    bytes: int


class JobView(TypedDict):
    """One job as ``status --json`` prints it."""

    id: str
    name: str | None
    status: str
    created_at: str
    profile: str
    provider: str
    region: str | None
    base_url: str
    models: list[str]
    window: str
    input: InputView
    requests: RequestCounts
    parts: list[PartView]
    fetched: dict[str, Any] | None


class LedgerCounts(TypedDict):
    recorded: int
    already_recorded: int


class FetchSummary(TypedDict):
    """What ``fetch --json`` prints."""

    job: str
    name: str | None
    status: str
    exit_code: int
    input: str
    output: str
    errors_file: str | None
    total: int
    succeeded: int
    failed: int
    not_processed: int
    unknown_ids: int
    unreadable_lines: int
    parts: dict[int, str]
    cost: dict[str, object] | None
    ledger: LedgerCounts
    validation_errors: list[dict[str, Any]]


def input_name(path: str) -> str:
    """The input as the user would type it: relative to here when it is below here."""
    if path == "<stdin>":
        return path
    with contextlib.suppress(ValueError):
        return str(Path(path).relative_to(Path.cwd()))
    return path


def _done(counts: RequestCounts) -> str:
    return f"{counts['completed'] + counts['failed']:,}/{counts['total']:,}"


def _when(iso: str) -> str:
    return iso.replace("T", " ").removesuffix("Z")


def submitted(view: JobView, *, requests: int, as_json: bool) -> None:
    """``requests``: the job's input requests (the view counts what the provider reports)."""
    if as_json:
        emit_json(view)
        return
    job_id = view["id"]
    emit(job_id + "\n")
    models = ", ".join(view["models"])
    say.write_line(
        "dim",
        f"job {job_id}: {requests:,} request(s) in {len(view['parts'])} part(s) ({models}), "
        f"window {view['window']}; follow it with: deepseek batch status {job_id} --wait",
    )


def jobs(views: list[JobView], *, as_json: bool) -> None:
    if as_json:
        emit_json(views)
        return
    if not views:
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
    rows = [
        [
            view["id"],
            view["name"] or "",
            view["status"],
            _done(view["requests"]),
            f"{view['requests']['failed']:,}",
            str(len(view["parts"])),
            ", ".join(view["models"]),
            _when(view["created_at"]),
        ]
        for view in views
    ]
    print_table(columns, rows)


def job(view: JobView, *, as_json: bool) -> None:
    if as_json:
        emit_json(view)
        return
    counts = view["requests"]
    region = f", {view['region']}" if view["region"] else ""
    name = f" ({view['name']})" if view["name"] else ""
    pairs: list[tuple[str, str | list[str]]] = [
        ("job", view["id"] + name),
        ("status", view["status"]),
        (
            "requests",
            f"{counts['total']:,} total, {counts['completed']:,} completed, "
            f"{counts['failed']:,} failed",
        ),
        ("input", input_name(view["input"]["path"])),
        ("profile", f"{view['profile']} ({view['provider']}{region})"),
        ("models", ", ".join(view["models"])),
        ("window", view["window"]),
        ("created", _when(view["created_at"])),
    ]
    fetched = view["fetched"]
    if fetched:
        pairs.append(("fetched", f"{_when(fetched['at'])} -> {fetched['output']}"))
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
    rows = [
        [
            str(part["index"]),
            part["status"],
            _done(part["requests"]),
            f"{part['requests']['failed']:,}",
            part["model"],
            part["batch_id"] or "-",
            _last_change(part),
        ]
        for part in view["parts"]
    ]
    print_table(columns, rows)
    if view["status"] == "submitting":
        emit(
            "\nnot fully submitted: run the same `deepseek batch submit` command again to "
            "finish it (nothing is created twice)\n"
        )
    problems = _validation_lines(view)
    if problems:
        emit("\nvalidation errors (input line: code: message):\n")
        emit("".join(f"  {line}\n" for line in problems))


def _last_change(part: PartView) -> str:
    """The latest stage the part reached (not when it will expire)."""
    reached = [(k, v) for k, v in part["times"].items() if k != "expires" and v]
    if not reached:
        return ""
    key, value = sorted(reached, key=lambda kv: kv[1])[-1]  # of equal times, the later stage
    return f"{key} {_when(value)}"


def _validation_lines(view: JobView) -> list[str]:
    name = input_name(view["input"]["path"])
    return [
        problem_text(name, part["index"], problem)
        for part in view["parts"]
        for problem in part["validation_errors"]
    ]


def problem_text(name: str, part: int, problem: dict[str, Any]) -> str:
    where = f"{name}:{problem['input_line']}" if problem.get("input_line") else name
    line = f", line {problem['line']}" if problem.get("line") else ""
    return f"{where}: {problem.get('code')}: {problem.get('message')} (part {part}{line})"


class WaitProgress:
    """Progress while ``status --wait`` polls."""

    def __init__(self, job_id: str, requests: int) -> None:
        self._job_id = job_id
        self._last = ""
        self._bar: Any = None
        self._task: Any = None
        if stderr_is_terminal() and os.environ.get("TERM") != "dumb":
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn

            self._bar = Progress(
                TextColumn(f"job {job_id}"),
                BarColumn(),
                TextColumn("{task.completed:,}/{task.total:,}"),
                TextColumn("{task.fields[info]}"),
                console=Console(file=sys.stderr),
                auto_refresh=False,
                transient=True,
            )
            self._task = self._bar.add_task("wait", total=max(requests, 1), info="")
            self._bar.start()

    def update(self, view: JobView) -> None:
        counts, status = view["requests"], view["status"]
        done = counts["completed"] + counts["failed"]
        if self._bar is not None:
            self._bar.update(self._task, total=max(counts["total"], 1), completed=done, info=status)
            with contextlib.suppress(OSError):
                self._bar.refresh()
            return
        text = f"{status}, {done:,}/{counts['total']:,} done, {counts['failed']:,} failed"
        if text != self._last:
            self._last = text
            say.write_line("dim", f"job {self._job_id}: {text}")

    def notice(self, text: str) -> None:
        say.notice(text)

    def close(self) -> None:
        if self._bar is not None:
            with contextlib.suppress(OSError):
                self._bar.stop()


def cancelled(view: JobView, parts: list[int], *, as_json: bool) -> None:
    """``parts``: the indexes of the parts a cancel was asked for."""
    if as_json:
        emit_json(view)
        return
    if not parts:
        say.notice(f"job {view['id']} has nothing left to cancel ({view['status']})")
        return
    states = ", ".join(
        f"part {p['index']} {p['status']}" for p in view["parts"] if p["index"] in parts
    )
    say.write_line("dim", f"job {view['id']}: cancel requested: {states}")


def fetched(summary: FetchSummary, *, as_json: bool) -> None:
    name = input_name(summary["input"])
    for problem in summary["validation_errors"]:
        say.warning(problem_text(name, problem["part"], problem))
    if summary["unknown_ids"]:
        say.warning(f"{summary['unknown_ids']:,} result line(s) with ids not in the job ignored")
    if summary["unreadable_lines"]:
        say.warning(f"{summary['unreadable_lines']:,} unreadable result line(s) ignored")
    if as_json:
        emit_json(summary)
        return
    text = (
        f"job {summary['job']}: {summary['succeeded']:,} ok, {summary['failed']:,} failed, "
        f"{summary['not_processed']:,} not processed -> {summary['output']}"
    )
    if summary["errors_file"]:
        text += f" (errors in {summary['errors_file']})"
    cost = summary["cost"]
    text += "; " + (f"{cost_json_text(cost)} at the Batch price" if cost else UNKNOWN)
    ledger = summary["ledger"]
    if ledger["already_recorded"] and not ledger["recorded"]:
        text += " (usage already in the ledger)"
    say.write_line("dim", text)
