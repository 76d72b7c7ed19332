"""The passes over a batch input: validate every line first, then stream them for dispatch.

Why two passes: nothing may be sent before the whole input is known to be usable (exit 65
with line numbers, nothing sent), and a million-line input must not be held in memory, so
the validation pass keeps no lines, and the dispatch pass parses them again as they are
sent. Both use the same line reader and parser, so they agree on every line.

The validation pass also decides which lines are done, when the job resumes (``done``: the
output files' records, ``batch.recorded``), and keeps that as one bit per line number: the
dispatch pass skips a done line without parsing it. The valid ids themselves are kept only
as 64-bit digests (``ids.InputIds``, 8 bytes an id); duplicates are found among the digests
that repeat, by a second pass over the input that tells a repeated id from distinct ids that
share a digest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from deepseek_cli.batch.input.grammar import BadLine, RequestLine, parse_line
from deepseek_cli.batch.input.ids import Digest, InputIds, digest_of
from deepseek_cli.batch.input.source import DEFAULT_MAX_LINE_BYTES, InputSource
from deepseek_cli.safefile import read_lines

MAX_LINE_BYTES = DEFAULT_MAX_LINE_BYTES

# Where an id's record is: 0 the output file, 1 the errors file, None nowhere.
Done = Callable[[str], int | None]


class LineSet:
    """A set of line numbers, one bit each: 4M lines in 500 KiB."""

    def __init__(self) -> None:
        self.bits = bytearray()
        self.count = 0

    def add(self, n: int) -> None:
        byte = n >> 3
        if byte >= len(self.bits):
            self.bits.extend(bytes(max(byte + 1 - len(self.bits), len(self.bits))))
        if not self.bits[byte] >> (n & 7) & 1:
            self.bits[byte] |= 1 << (n & 7)
            self.count += 1

    def discard(self, n: int) -> None:
        if n in self:
            self.bits[n >> 3] &= ~(1 << (n & 7)) & 0xFF
            self.count -= 1

    def __contains__(self, n: object) -> bool:
        if not isinstance(n, int):
            return False
        byte = n >> 3
        return byte < len(self.bits) and bool(self.bits[byte] >> (n & 7) & 1)


@dataclass
class InputScan:
    """What the validation pre-pass found; holds ids, never lines."""

    name: str
    ids: InputIds = field(default_factory=InputIds)  # every valid id, first occurrence
    duplicates: dict[str, int] = field(default_factory=dict)  # id -> its first line
    bad_lines: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # the first few, by line
    blank_lines: int = 0
    valid: int = 0
    # Resuming: the valid lines whose id has a record, and how many of those are errors.
    done_lines: LineSet = field(default_factory=LineSet)
    failed_before: int = 0
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


def scan(
    source: InputSource,
    limit: int = MAX_LINE_BYTES,
    done: Done | None = None,
    digest: Digest = digest_of,
) -> InputScan:
    """Validate every line; collect the valid ids, which are done, and the problems."""
    result = InputScan(source.name, ids=InputIds(digest))
    ids = result.ids
    with source.open() as fh:
        for lineno, raw in read_lines(fh, limit):
            parsed = parse_line(lineno, raw, limit)
            if parsed is None:
                result.blank_lines += 1
            elif isinstance(parsed, BadLine):
                result.bad_lines += 1
                result.note(lineno, parsed.located(source.name))
            else:
                ids.add(parsed.id)
                result.valid += 1
                result.note_model(parsed)
                if done is not None:
                    _note_done(result, lineno, done(parsed.id))
    ids.freeze()
    repeated = ids.repeated()
    if repeated:
        _sort_out(source, limit, result, repeated, done)
    return result


def _note_done(result: InputScan, lineno: int, where: int | None, sign: int = 1) -> None:
    if where is None:
        return
    if sign > 0:
        result.done_lines.add(lineno)
    else:
        result.done_lines.discard(lineno)
    result.failed_before += sign * where


def _sort_out(
    source: InputSource, limit: int, result: InputScan, repeated: set[int], done: Done | None
) -> None:
    """Read the input again for the lines whose digest repeats (only when some do).

    The same id twice is a duplicate: its later lines are unusable, and the first pass's
    counts, done lines and models are corrected. Distinct ids that share a digest are not.
    """
    ids = result.ids
    where: dict[str, list[int]] = {}  # id -> its first six lines
    count: dict[str, int] = {}
    result.models, result.models_complete = {}, True
    with source.open() as fh:
        for lineno, raw in read_lines(fh, limit):
            parsed = parse_line(lineno, raw, limit)
            if not isinstance(parsed, RequestLine):
                continue
            if ids.digest(parsed.id) in repeated:
                seen = count.get(parsed.id, 0)
                count[parsed.id] = seen + 1
                if seen < 6:
                    where.setdefault(parsed.id, []).append(lineno)
                if seen:
                    if done is not None:
                        _note_done(result, lineno, done(parsed.id), -1)
                    continue
            result.note_model(parsed)
    duplicated = {item_id: n for item_id, n in count.items() if n > 1}
    extra = sum(n - 1 for n in duplicated.values())
    result.valid -= extra
    result.bad_lines += extra
    result.duplicates = {dup_id: where[dup_id][0] for dup_id in duplicated}
    for dup_id in sorted(duplicated, key=lambda i: where[i][0]):
        lines = where[dup_id]
        listed = ", ".join(str(n) for n in lines[:5]) + (", ..." if len(lines) > 5 else "")
        result.note(
            lines[0], f"{source.name}:{lines[0]}: duplicate id {dup_id!r} on lines {listed}"
        )


def iter_lines(
    source: InputSource, scan_result: InputScan, limit: int = MAX_LINE_BYTES
) -> Iterator[RequestLine | BadLine]:
    """Non-blank lines in order, without those found done; a repeated id comes back as a
    ``duplicate_id`` bad line. A done line is passed over unparsed, which makes resuming a
    long job fast."""
    duplicates = scan_result.duplicates
    done = scan_result.done_lines
    with source.open() as fh:
        for lineno, raw in read_lines(fh, limit):
            if lineno in done:
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
