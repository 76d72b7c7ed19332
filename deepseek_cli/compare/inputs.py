"""The compare input: batch lines with ``expected`` and ``checks``, validated, sampled, and
written once more as the plain batch input every variant runs.

Everything is checked before anything is sent, with the line numbers of the user's file: the
request part by the batch grammar itself (so a line compare accepts is one ``batch run``
accepts), the checks by ``checks``, and ids (duplicates would join answers to the wrong
question). A line without an id gets ``line-N``, as in ``batch run``, and keeps it in the
file written for the variants, so a sample or an edit elsewhere never renumbers it.

``--sample N`` takes the N lines whose ids hash lowest: the same N on every run (so a re-run
resumes instead of starting on other lines), spread over the file, in the file's order.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from deepseek_cli.batch.input.grammar import BadLine, parse_line
from deepseek_cli.batch.input.source import DEFAULT_MAX_LINE_BYTES
from deepseek_cli.compare.checks import CheckError, parse_checks
from deepseek_cli.compare.results import Item
from deepseek_cli.errors import InputDataError, UsageError
from deepseek_cli.safefile import MiB, size_text, write_atomic

# Compare holds every item in memory (it reports each one): an evaluation set, not a job of
# millions of lines, for which `batch run` is the tool.
MAX_INPUT_BYTES = 256 * MiB
MAX_SHOWN_ERRORS = 10
COMPARE_KEYS = ("expected", "checks")


@dataclass(frozen=True)
class CompareInput:
    items: list[Item]  # the sample, in the file's order
    lines: list[bytes]  # the batch lines of the sample, ids made explicit
    total: int  # request lines in the whole file


def read_input(path: Path, sample: int | None = None) -> CompareInput:
    """The input's items and batch lines; exit 65 naming every bad line (the first ten)."""
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise InputDataError(
                f"{path} is larger than {size_text(MAX_INPUT_BYTES)}",
                "compare a sample of it (--sample N reads it all; cut the file instead)",
            )
        with path.open("rb") as handle:
            raw_lines = handle.read(MAX_INPUT_BYTES + 1).split(b"\n")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    items: list[Item] = []
    lines: list[bytes] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(raw_lines, start=1):
        parsed = _parse(number, raw)
        if parsed is None:
            continue
        if isinstance(parsed, str):
            problems.append(f"{path}:{number}: {parsed}")
            continue
        item, line = parsed
        if item.id in seen:
            problems.append(f"{path}:{number}: id {item.id!r} is also on line {seen[item.id]}")
            continue
        seen[item.id] = number
        items.append(item)
        lines.append(line)
    if problems:
        more = len(problems) - MAX_SHOWN_ERRORS
        shown = "; ".join(problems[:MAX_SHOWN_ERRORS]) + (f"; and {more} more" if more > 0 else "")
        raise InputDataError(f"{len(problems)} invalid line(s): {shown}", "fix them and run again")
    if not items:
        raise InputDataError(f"{path} holds no request lines")
    total = len(items)
    if sample is not None and sample < total:
        keep = set(sorted(range(total), key=lambda i: _rank(items[i].id))[:sample])
        items = [item for i, item in enumerate(items) if i in keep]
        lines = [line for i, line in enumerate(lines) if i in keep]
    return CompareInput(items, lines, total)


def _parse(number: int, raw: bytes) -> tuple[Item, bytes] | str | None:
    """An item and its batch line, why the line is bad, or ``None`` for a blank line."""
    if len(raw) > DEFAULT_MAX_LINE_BYTES:
        return f"line exceeds {size_text(DEFAULT_MAX_LINE_BYTES)}"
    request = parse_line(number, raw, DEFAULT_MAX_LINE_BYTES)
    if request is None:
        return None
    if isinstance(request, BadLine):
        # The grammar knows expected and checks as unknown keys: say what else is wrong.
        stripped = _without_compare_keys(raw)
        if stripped is None:
            return request.message
        request = parse_line(number, stripped, DEFAULT_MAX_LINE_BYTES)
        if request is None or isinstance(request, BadLine):
            return request.message if request is not None else "an empty line"
    obj = json.loads(raw.decode("utf-8").removeprefix("\ufeff"))
    try:
        checks = parse_checks(obj)
    except CheckError as exc:
        return f"{exc} (id {request.id!r})"
    for key in COMPARE_KEYS:
        obj.pop(key, None)
    if "custom_id" not in obj and "body" not in obj:
        obj["id"] = request.id  # "line-N" made explicit: the written file has other numbers
    line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Item(request.id, request.prompt_text, checks), line


def _without_compare_keys(raw: bytes) -> bytes | None:
    try:
        obj = json.loads(raw.decode("utf-8").removeprefix("\ufeff"))
    except ValueError:
        return None
    if not isinstance(obj, dict) or not any(k in obj for k in COMPARE_KEYS):
        return None
    for key in COMPARE_KEYS:
        obj.pop(key, None)
    return json.dumps(obj).encode("utf-8")


def _rank(item_id: str) -> bytes:
    return hashlib.sha256(item_id.encode("utf-8")).digest()


def write_batch_input(path: Path, compare_input: CompareInput) -> None:
    """The variants' input file, rewritten only when it changed (a re-run leaves it be)."""
    write_if_changed(path, b"".join(line + b"\n" for line in compare_input.lines))


def write_if_changed(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, unless the file holds exactly that already."""
    try:
        if path.read_bytes() == data:
            return
    except FileNotFoundError:
        pass
    write_atomic(path, data)
