"""Batch input: JSONL read line by line with a size limit, validated before anything is sent.

Why it is careful: an input can be a million lines, or a 2 GiB file with no newline at all, so
it is never read whole, and never with ``for line in f`` (which buffers a whole line however
long it is). Every line is read with ``readline(limit + 1)``; a longer one is consumed in
bounded pieces and reported, never kept. The same parser serves the validation pre-pass and
the dispatch pass, so both agree on every line, and neither keeps parsed lines around: the
pre-pass keeps only the set of ids (which resume needs anyway).

Two line formats:

- ours: ``{"id": "q1", "prompt": "..."}`` or ``{"id": ..., "messages": [...]}`` with optional
  ``system, model, thinking, thinking_budget, reasoning_effort, temperature, top_p,
  max_tokens, extra`` (and ``metadata``, carried but not sent);
- the OpenAI/DashScope Batch line ``{"custom_id", "method", "url", "body"}``, whose body's
  provider knobs (``enable_thinking``, ``thinking``) are mapped back to provider-neutral
  options, so a DashScope Batch file also runs against DeepSeek; the rest of the body is sent
  as raw fields.

A line without an id gets ``line-N`` (1-based). Blank lines, CRLF endings and a BOM are fine.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from deepseek_cli.catalog.models import EFFORT_LEVELS
from deepseek_cli.events import Message

MAX_LINE_BYTES = 8 * 1024 * 1024
_ROLES = ("system", "user", "assistant")
_SIMPLE_KEYS = frozenset(
    {
        "id",
        "prompt",
        "messages",
        "system",
        "model",
        "thinking",
        "thinking_budget",
        "reasoning_effort",
        "temperature",
        "top_p",
        "max_tokens",
        "extra",
        "metadata",
    }
)
_BATCH_KEYS = frozenset({"custom_id", "method", "url", "body"})
# The id when it is a line's first field: lets a resume skip done lines without parsing them.
_LEADING_ID = re.compile(rb'\s*\{\s*"(?:id|custom_id)"\s*:\s*("(?:[^"\\\n]|\\.)*")')
# Body fields that are ours to decide, not the line's.
_DROPPED_BODY_KEYS = frozenset({"stream", "stream_options", "messages"})


@dataclass(slots=True)
class RequestLine:
    """One valid input line: the messages and the options the line sets itself."""

    id: str
    line: int
    messages: tuple[Message, ...]
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> str | None:
        model = self.overrides.get("model")
        return model if isinstance(model, str) else None

    @property
    def prompt_text(self) -> str:
        """The last user message (what the ledger stores when prompts are logged)."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.content
        return self.messages[-1].content if self.messages else ""


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    code: str  # invalid_json, invalid_line, line_too_long, not_utf8, duplicate_id
    message: str
    id: str | None = None

    def located(self, name: str) -> str:
        return f"{name}:{self.line}: {self.message}"


class _Invalid(Exception):
    def __init__(self, message: str, code: str = "invalid_line") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# ------------------------------------------------------------------------------------------
# Reading


class InputSource:
    """The input file, or stdin spooled to an anonymous file so it can be read twice.

    The spool lives next to the output (where there is room for the output anyway), is
    unlinked from the start and is private to this process.
    """

    def __init__(self, path: str, spool_dir: Path | None = None) -> None:
        self.path = path
        self.is_stdin = path == "-"
        self.name = "<stdin>" if self.is_stdin else path
        self._spool: IO[bytes] | None = None
        if self.is_stdin:
            # Closed in close(): it must outlive both passes.
            self._spool = tempfile.TemporaryFile(dir=spool_dir)  # noqa: SIM115
            shutil.copyfileobj(sys.stdin.buffer, self._spool, 1 << 20)

    def open(self) -> AbstractContextManager[IO[bytes]]:
        """The input from its first byte; closing it leaves the spool open for the next pass."""
        if self._spool is not None:
            self._spool.seek(0)
            return nullcontext(self._spool)
        return Path(self.path).open("rb")

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None


def read_lines(fh: Any, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, bytes)`` for every line; ``None`` for a line longer than ``limit``.

    At most ``limit + 1`` bytes of any line are held at once.
    """
    lineno = 0
    while True:
        chunk: bytes = fh.readline(limit + 1)
        if not chunk:
            return
        lineno += 1
        if len(chunk) > limit and not chunk.endswith(b"\n"):
            while True:
                rest: bytes = fh.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield lineno, None
            continue
        yield lineno, chunk


# ------------------------------------------------------------------------------------------
# Parsing one line


def parse_line(lineno: int, raw: bytes | None, limit: int) -> RequestLine | BadLine | None:
    """A valid line, a bad line, or ``None`` for a blank line."""
    if raw is None:
        return BadLine(lineno, "line_too_long", f"line exceeds {_size(limit)}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadLine(lineno, "not_utf8", f"not valid UTF-8 (byte {exc.start + 1} of the line)")
    if lineno == 1:
        text = text.removeprefix("\ufeff")
    text = text.rstrip("\r\n")
    if not text or text.isspace():
        return None
    try:
        obj = json.loads(text)
    except ValueError as exc:
        # Position only: the line itself may hold secrets and is never echoed.
        where = f" at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not JSON"
        return BadLine(lineno, "invalid_json", f"invalid JSON ({reason}{where})")
    if not isinstance(obj, dict):
        return BadLine(lineno, "invalid_line", "a line must be a JSON object")
    batch_line = "custom_id" in obj or "body" in obj
    raw_id = obj.get("custom_id") if batch_line else obj.get("id")
    try:
        line_id = _check_id(raw_id, lineno)
    except _Invalid as exc:
        return BadLine(lineno, exc.code, exc.message)
    try:
        if batch_line:
            messages, overrides = _parse_batch_line(obj)
        else:
            messages, overrides = _parse_simple_line(obj)
    except _Invalid as exc:
        return BadLine(lineno, exc.code, f"{exc.message} (id {line_id!r})", line_id)
    return RequestLine(line_id, lineno, messages, overrides)


def _size(limit: int) -> str:
    if limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MiB"
    return f"{limit} bytes"


def _check_id(value: Any, lineno: int) -> str:
    if value is None:
        return f"line-{lineno}"
    if not isinstance(value, str):
        raise _Invalid(f"id must be a string, not {type(value).__name__}")
    if not value.strip():
        raise _Invalid("empty id")
    if "\n" in value or "\r" in value:
        raise _Invalid("id contains a line break")
    _check_text(value, "id")
    return value


def _check_text(value: str, what: str) -> None:
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Invalid(f"{what} contains a lone surrogate (not valid Unicode)") from None


def _parse_simple_line(obj: dict[str, Any]) -> tuple[tuple[Message, ...], dict[str, Any]]:
    if not _SIMPLE_KEYS.issuperset(obj):
        raise _Invalid(f"unknown field {sorted(set(obj) - _SIMPLE_KEYS)[0]!r}")
    prompt = obj.get("prompt")
    raw_messages = obj.get("messages")
    if prompt is not None and raw_messages is not None:
        raise _Invalid("both prompt and messages")
    overrides: dict[str, Any] = {}
    _copy_options(obj, overrides)
    if "extra" in obj:
        if not isinstance(obj["extra"], dict):
            raise _Invalid("extra must be an object")
        overrides["extra"] = obj["extra"]
    system = obj.get("system")
    if system is not None:
        if not isinstance(system, str):
            raise _Invalid("system must be a string")
        _check_text(system, "system")
    messages: list[Message]
    if prompt is not None:
        if not isinstance(prompt, str):
            raise _Invalid("prompt must be a string")
        if not prompt or prompt.isspace():
            raise _Invalid("empty prompt")
        _check_text(prompt, "prompt")
        messages = [Message("user", prompt)]
    elif raw_messages is not None:
        messages = list(_parse_messages(raw_messages))
    else:
        raise _Invalid("no prompt or messages")
    if system and messages[0].role != "system":
        messages.insert(0, Message("system", system))
    return tuple(messages), overrides


def _parse_batch_line(obj: dict[str, Any]) -> tuple[tuple[Message, ...], dict[str, Any]]:
    unknown = sorted(set(obj) - _BATCH_KEYS)
    if unknown:
        raise _Invalid(f"unknown field {unknown[0]!r}")
    method = obj.get("method", "POST")
    if method != "POST":
        raise _Invalid("method must be POST")
    url = obj.get("url", "/v1/chat/completions")
    if not isinstance(url, str) or not url.rstrip("/").endswith("/chat/completions"):
        raise _Invalid("url must be /v1/chat/completions (the only endpoint batch runs)")
    body = obj.get("body")
    if not isinstance(body, dict):
        raise _Invalid("body must be an object")
    if "messages" not in body:
        raise _Invalid("body has no messages")
    messages = _parse_messages(body["messages"])
    if "max_completion_tokens" in body and "max_tokens" not in body:
        body = {**body, "max_tokens": body["max_completion_tokens"]}
        del body["max_completion_tokens"]
    overrides: dict[str, Any] = {}
    _copy_options({k: v for k, v in body.items() if k in _BODY_OPTIONS}, overrides)
    # Provider thinking knobs become the neutral option, so the profile's provider decides
    # how it is spelled on the wire (a DashScope Batch file then also runs on DeepSeek).
    if "enable_thinking" in body:
        if not isinstance(body["enable_thinking"], bool):
            raise _Invalid("enable_thinking must be true or false")
        overrides["thinking"] = body["enable_thinking"]
    if "thinking" in body:
        kind = body["thinking"].get("type") if isinstance(body["thinking"], dict) else None
        if kind not in ("enabled", "disabled"):
            raise _Invalid("thinking.type must be 'enabled' or 'disabled'")
        overrides["thinking"] = kind == "enabled"
    extra = {
        k: v
        for k, v in body.items()
        if k not in _DROPPED_BODY_KEYS and k not in _BODY_OPTIONS and k not in _THINKING_KEYS
    }
    if extra:
        overrides["extra"] = extra
    return messages, overrides


def _parse_messages(raw: Any) -> tuple[Message, ...]:
    if not isinstance(raw, list) or not raw:
        raise _Invalid("messages must be a non-empty list")
    messages = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise _Invalid(f"messages[{index}] must be an object")
        role = item.get("role")
        if role not in _ROLES:
            raise _Invalid(f"messages[{index}].role must be system, user or assistant")
        content = item.get("content")
        if not isinstance(content, str):
            raise _Invalid(f"messages[{index}].content must be a string")
        _check_text(content, f"messages[{index}].content")
        messages.append(Message(role, content, prefix=item.get("prefix") is True))
    return tuple(messages)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_OPTION_CHECKS: dict[str, tuple[Any, str]] = {
    "model": (lambda v: isinstance(v, str) and bool(v.strip()), "a model name"),
    "thinking": (lambda v: isinstance(v, bool), "true or false"),
    "thinking_budget": (lambda v: _is_int(v) and v >= 1, "a positive integer"),
    "reasoning_effort": (lambda v: v in EFFORT_LEVELS, "one of " + ", ".join(EFFORT_LEVELS)),
    "temperature": (lambda v: _is_number(v) and 0 <= v <= 2, "a number from 0 to 2"),
    "top_p": (lambda v: _is_number(v) and 0 <= v <= 1, "a number from 0 to 1"),
    "max_tokens": (lambda v: _is_int(v) and v >= 1, "a positive integer"),
}


_BODY_OPTIONS = frozenset(_OPTION_CHECKS) - {"thinking"}
_THINKING_KEYS = frozenset({"enable_thinking", "thinking"})


def _copy_options(obj: dict[str, Any], overrides: dict[str, Any]) -> None:
    if obj.keys().isdisjoint(_OPTION_CHECKS):
        return
    for name, (check, wanted) in _OPTION_CHECKS.items():
        value = obj.get(name)
        if value is None:
            continue
        if not check(value):
            raise _Invalid(f"{name} must be {wanted}")
        overrides[name] = value


# ------------------------------------------------------------------------------------------
# The passes


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

    MAX_PROBLEMS = 10

    def note(self, line: int, text: str) -> None:
        if len(self.problems) < self.MAX_PROBLEMS:
            self.problems.append((line, text))

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
