"""The two batch input line formats: one line of bytes in, a request line or a bad line out.

Why one parser: the validation pass and the dispatch pass both use it, so they agree on every
line. A bad line is described by position and reason only: the line itself may hold secrets
and is never echoed.

Two line formats:

- ours: ``{"id": "q1", "prompt": "..."}`` or ``{"id": ..., "messages": [...]}`` with optional
  ``system, model, extra`` and the request options a profile can set (``thinking,
  thinking_budget, reasoning_effort, temperature, top_p, max_tokens``), function ``tools``
  and ``tool_choice`` (``tool_fields``), and ``metadata``, carried but not sent;
- the OpenAI/DashScope Batch line ``{"custom_id", "method", "url", "body"}``, whose body's
  provider knobs (``enable_thinking``, ``thinking``) are mapped back to provider-neutral
  options, so a DashScope Batch file also runs against DeepSeek; its ``tools`` and
  ``tool_choice`` are checked as ours are; the rest of the body is sent as raw fields.

A line without an id gets ``line-N`` (1-based). Blank lines, CRLF endings and a BOM are fine.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from deepseek_cli.batch.input.tool_fields import ToolFieldError, read_tools
from deepseek_cli.catalog.models import EFFORT_LEVELS
from deepseek_cli.config.profiles import REQUEST_DEFAULT_KEYS
from deepseek_cli.events import Message

BadLineCode = Literal["invalid_json", "invalid_line", "line_too_long", "not_utf8", "duplicate_id"]

_ROLES = ("system", "user", "assistant")
_BATCH_KEYS = frozenset({"custom_id", "method", "url", "body"})
# Body fields that are ours to decide, not the line's.
_DROPPED_BODY_KEYS = frozenset({"stream", "stream_options", "messages"})
_THINKING_KEYS = frozenset({"enable_thinking", "thinking"})
# Request fields of their own (the ChatRequest's), checked before anything is sent.
_TOOL_KEYS = frozenset({"tools", "tool_choice"})


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
    code: BadLineCode
    message: str
    id: str | None = None

    def located(self, name: str) -> str:
        return f"{name}:{self.line}: {self.message}"


class _Invalid(Exception):
    def __init__(self, message: str, code: BadLineCode = "invalid_line") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# ------------------------------------------------------------------------------------------
# Request options a line may set


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_Check = tuple[Callable[[Any], bool], str]  # (accepts the value?, what it must be)
_CHECKS: dict[str, _Check] = {
    "model": (lambda v: isinstance(v, str) and bool(v.strip()), "a model name"),
    "thinking": (lambda v: isinstance(v, bool), "true or false"),
    "thinking_budget": (lambda v: _is_int(v) and v >= 1, "a positive integer"),
    "reasoning_effort": (lambda v: v in EFFORT_LEVELS, "one of " + ", ".join(EFFORT_LEVELS)),
    "temperature": (lambda v: _is_number(v) and 0 <= v <= 2, "a number from 0 to 2"),
    "top_p": (lambda v: _is_number(v) and 0 <= v <= 1, "a number from 0 to 1"),
    "max_tokens": (lambda v: _is_int(v) and v >= 1, "a positive integer"),
}
# The model, and the request defaults a profile sets, except ``system`` (a field of its own
# that becomes the first message) and ``search`` (chosen for the whole job, not per line).
# A new profile request key without a check above fails here, at import.
LINE_OPTIONS = ("model", *(k for k in REQUEST_DEFAULT_KEYS if k not in ("system", "search")))
_OPTION_CHECKS = {name: _CHECKS[name] for name in LINE_OPTIONS}
_SIMPLE_KEYS = frozenset(
    {"id", "prompt", "messages", "system", "extra", "metadata", *_TOOL_KEYS, *LINE_OPTIONS}
)
# Options a Batch body spells as we do; its thinking knobs are mapped separately.
_BODY_OPTIONS = frozenset(_OPTION_CHECKS) - {"thinking"}


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


def _copy_tools(obj: dict[str, Any], overrides: dict[str, Any]) -> None:
    if obj.keys().isdisjoint(_TOOL_KEYS):
        return
    try:
        read_tools(obj, overrides)
    except ToolFieldError as exc:
        raise _Invalid(str(exc)) from None


# ------------------------------------------------------------------------------------------
# One line


class _NotFinite(ValueError):
    """NaN, Infinity or a number beyond a double: Python's json takes them, JSON has none,
    and the request body could not be written."""


def _not_a_number(name: str) -> float:
    raise _NotFinite(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NotFinite(f"{text[:20]} is too large a number")
    return number


# One decoder for every line: ``json.loads`` with options builds a new one per call.
_DECODER = json.JSONDecoder(parse_constant=_not_a_number, parse_float=_finite_float)


def parse_line(lineno: int, raw: bytes | None, limit: int) -> RequestLine | BadLine | None:
    """A valid line, a bad line, or ``None`` for a blank line (``raw`` ``None``: too long)."""
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
        obj = _DECODER.decode(text)
    except _NotFinite as exc:
        return BadLine(lineno, "invalid_json", f"invalid JSON ({exc})")
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
    _copy_tools(obj, overrides)
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
    _copy_tools(body, overrides)
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
        if k not in _DROPPED_BODY_KEYS
        and k not in _BODY_OPTIONS
        and k not in _THINKING_KEYS
        and k not in _TOOL_KEYS
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
