"""The passes over a batch input: validate every line first, then stream them for dispatch.

Why two passes: nothing may be sent before the whole input is known to be usable (exit 65
with line numbers, nothing sent), and a million-line input must not be held in memory, so
the validation pass keeps only the set of valid ids (which resume needs anyway) and the
dispatch pass parses the lines again as they are sent. Both use the same line reader and
parser, so they agree on every line. Resuming a long job skips done lines by their leading
id field, without parsing them, when the validation pass found that field trustworthy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from deepseek_cli.batch.input.grammar import BadLine, RequestLine, parse_line
from deepseek_cli.batch.input.source import DEFAULT_MAX_LINE_BYTES, InputSource
from deepseek_cli.safefile import read_lines

MAX_LINE_BYTES = DEFAULT_MAX_LINE_BYTES
# The id when it is a line's first field: lets a resume skip done lines without parsing them.
_LEADING_ID = re.compile(rb'\s*\{\s*"(?:id|custom_id)"\s*:\s*("(?:[^"\\\n]|\\.)*")')


@dataclass
class InputScan:
    """What the validation pre-pass found; holds ids, never lines."""

    name: str
    pending: set[str] = field(default_factory=set)  # every valid id, first occurrence
    duplicates: dict[str, int] = field(default_factory=dict)  # id -> its first line
    bad_lines: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # the first few, by line
    blank_lines: int = 0
    valid: int = 0
    # Every valid line whose first field is its id has that id there (no repeated key):
    # the dispatch pass may then skip done lines by that field alone.
    leading_ids_agree: bool = True
    # The models the valid lines name (``None``: the profile's), each with whether a line
    # naming it has no max_tokens of its own: what ``--max-cost`` checks before anything is
    # sent. Bounded: past ``MAX_MODELS`` names ``models_complete`` is False, and the budget's
    # check reads the lines again instead.
    models: dict[str | None, bool] = field(default_factory=dict)
    models_complete: bool = True

    MAX_PROBLEMS = 10
    MAX_MODELS = 1000

    def note(self, line: int, text: str) -> None:
        if len(self.problems) < self.MAX_PROBLEMS:
            self.problems.append((line, text))

    def note_model(self, line: RequestLine) -> None:
        model, no_max = line.model, "max_tokens" not in line.overrides
        known = self.models.get(model)
        if known is None:
            if len(self.models) >= self.MAX_MODELS:
                self.models_complete = False
                return
            self.models[model] = no_max
        elif no_max and not known:
            self.models[model] = True

    def message(self) -> str:
        """One line naming the problems (line numbers, never line contents)."""
        shown = "; ".join(text for _, text in sorted(self.problems))
        more = self.bad_lines - len(self.problems)
        if more > 0:
            shown += f"; and {more} more"
        lines = "line" if self.bad_lines == 1 else "lines"
        return f"{self.name}: {self.bad_lines} unusable {lines}, nothing sent: {shown}"


def scan(source: InputSource, limit: int = MAX_LINE_BYTES) -> InputScan:
    """Validate every line; collect the valid ids and describe the problems."""
    result = InputScan(source.name)
    duplicated: set[str] = set()
    with source.open() as fh:
        for lineno, raw in read_lines(fh, limit):
            parsed = parse_line(lineno, raw, limit)
            if parsed is None:
                result.blank_lines += 1
            elif isinstance(parsed, BadLine):
                result.bad_lines += 1
                result.note(lineno, parsed.located(source.name))
            elif parsed.id in result.pending:
                result.bad_lines += 1
                duplicated.add(parsed.id)
            else:
                result.pending.add(parsed.id)
                result.valid += 1
                result.note_model(parsed)
                if raw is not None and result.leading_ids_agree:
                    result.leading_ids_agree = leading_id(raw) in (None, parsed.id)
    if duplicated:
        where = _lines_of(source, limit, duplicated)
        result.duplicates = {dup_id: lines[0] for dup_id, lines in where.items()}
        for dup_id, lines in sorted(where.items(), key=lambda kv: kv[1][0]):
            listed = ", ".join(str(n) for n in lines[:5]) + (", ..." if len(lines) > 5 else "")
            result.note(
                lines[0], f"{source.name}:{lines[0]}: duplicate id {dup_id!r} on lines {listed}"
            )
    return result


def _lines_of(source: InputSource, limit: int, ids: set[str]) -> dict[str, list[int]]:
    """Where duplicated ids appear (a second pass, only when there are duplicates)."""
    where: dict[str, list[int]] = {}
    with source.open() as fh:
        for lineno, raw in read_lines(fh, limit):
            parsed = parse_line(lineno, raw, limit)
            if isinstance(parsed, RequestLine) and parsed.id in ids:
                lines = where.setdefault(parsed.id, [])
                if len(lines) < 6:
                    lines.append(lineno)
    return where


def leading_id(raw: bytes) -> str | None:
    """The id of a line whose first field is ``id`` or ``custom_id``, read without parsing."""
    match = _LEADING_ID.match(raw)
    if match is None:
        return None
    token = match.group(1)
    try:
        if b"\\" not in token:
            return token[1:-1].decode("utf-8")  # no escapes: the bytes are the id
        value = json.loads(token)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def iter_lines(
    source: InputSource,
    scan_result: InputScan,
    limit: int = MAX_LINE_BYTES,
    skip: Callable[[str], bool] | None = None,
) -> Iterator[RequestLine | BadLine]:
    """Non-blank lines in order; a repeated id comes back as a ``duplicate_id`` bad line.

    ``skip(id)`` true means the caller has no use for that line (already done): when the
    pre-pass found every line usable and every leading id field trustworthy, such lines are
    passed over without parsing, which makes resuming a long job fast.
    """
    duplicates = scan_result.duplicates
    fast = skip is not None and scan_result.bad_lines == 0 and scan_result.leading_ids_agree
    with source.open() as fh:
        for lineno, raw in read_lines(fh, limit):
            if fast and raw is not None and skip is not None:
                known = leading_id(raw)
                if known is not None and skip(known):
                    continue
            parsed = parse_line(lineno, raw, limit)
            if parsed is None:
                continue
            if isinstance(parsed, RequestLine) and parsed.id in duplicates:
                first = duplicates[parsed.id]
                if lineno != first:
                    yield BadLine(
                        lineno,
                        "duplicate_id",
                        f"duplicate id {parsed.id!r} (first on line {first})",
                        parsed.id,
                    )
                    continue
            yield parsed
