"""The shapes of batch output and error records, ours and the provider-Batch style.

Why separate: the writer must not care what a record says, and resume must read both shapes
(a job may be resumed with another ``--format``). Every record is one line of compact JSON,
redacted as a whole (a provider may echo the key in an error message), and starts with its id
field so the resume scan can read the id without parsing the whole line.

- ``native`` (default), output: ``id, model, answer, reasoning, finish_reason, usage, cost,
  request_id, latency_ms, attempts``, and ``tool_calls: [{id, name, arguments}]`` after
  ``finish_reason`` when the model asked for tools (batch never runs them; ``arguments`` is
  the JSON text the model wrote), so a record without tool calls is as it always was;
  errors: ``id, error{kind, status, code, message}, attempts`` (plus ``line`` for an input
  line that could not be used, whose ``id`` is null).
- ``openai``: the lines the OpenAI/DashScope Batch service writes,
  ``{custom_id, id, response{status_code, request_id, body}, error}``, so files from a local
  run and from a remote batch are interchangeable, keyed by ``custom_id``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from deepseek_cli.batch.input.grammar import BadLine
from deepseek_cli.catalog.pricing import Cost
from deepseek_cli.conversation import Reply
from deepseek_cli.errors import ApiError
from deepseek_cli.events import Usage
from deepseek_cli.redaction import redact

FORMATS = ("native", "openai")

# The id is the first field of every record we write: read it without a full parse.
_ID_PREFIX = re.compile(rb'\{"(id|custom_id)":("(?:[^"\\\n]|\\.)*"|null)')


def encode(record: dict[str, Any]) -> bytes:
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    return (redact(text) + "\n").encode("utf-8")


def success(
    fmt: str,
    item_id: str,
    model: str,
    reply: Reply,
    cost: Cost | None,
    attempts: int,
) -> bytes:
    if fmt == "openai":
        return encode(_openai_success(item_id, model, reply))
    return encode(_native_success(item_id, model, reply, cost, attempts, reply.latency_ms))


def remote_success(item_id: str, model: str, reply: Reply, cost: Cost | None) -> bytes:
    """A native output record for an answer fetched from a provider's Batch service: the
    same fields, with ``latency_ms`` unknown (null) and one attempt (the provider's)."""
    return encode(_native_success(item_id, model, reply, cost, 1, None))


def _native_success(
    item_id: str,
    model: str,
    reply: Reply,
    cost: Cost | None,
    attempts: int,
    latency_ms: int | None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": item_id,
        "model": model,
        "served_model": reply.served_model,
        "answer": reply.answer,
        "reasoning": reply.thinking or None,
        "finish_reason": reply.finish_reason,
    }
    if reply.tool_calls:
        record["tool_calls"] = [
            {"id": call.id, "name": call.name, "arguments": call.arguments}
            for call in reply.tool_calls
        ]
    record["usage"] = reply.usage.to_json() if reply.usage else None
    record["cost"] = cost.to_json() if cost else None
    record["request_id"] = reply.request_id
    record["latency_ms"] = latency_ms
    record["attempts"] = attempts  # last: the resume scan knows a whole record by its tail
    return record


def failure(fmt: str, item_id: str, error: ApiError, attempts: int) -> bytes:
    detail = error.to_record()
    if fmt == "openai":
        return encode(
            {
                "custom_id": item_id,
                "id": _batch_request_id(),
                "response": {
                    "status_code": error.status,
                    "request_id": error.request_id,
                    "body": {"error": {"code": error.code or error.kind, "message": error.message}},
                },
                "error": {"code": error.code or error.kind, "message": error.message},
            }
        )
    return encode({"id": item_id, "error": detail, "attempts": attempts})


def bad_line(fmt: str, bad: BadLine) -> bytes:
    detail = {"kind": "invalid_input", "status": None, "code": bad.code, "message": bad.message}
    if fmt == "openai":
        return encode(
            {
                "custom_id": None,
                "line": bad.line,
                "id": _batch_request_id(),
                "response": None,
                "error": {"code": bad.code, "message": bad.message, "line": bad.line},
            }
        )
    return encode({"id": None, "line": bad.line, "error": detail, "attempts": 0})


def _batch_request_id() -> str:
    return f"batch_req_{uuid.uuid4().hex}"


def _openai_usage(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def _openai_success(item_id: str, model: str, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.answer}
    if reply.thinking:
        message["reasoning_content"] = reply.thinking
    if reply.tool_calls:
        # As the API writes a tool-call turn: no text is null, not "".
        message["content"] = reply.answer or None
        message["tool_calls"] = [call.to_wire() for call in reply.tool_calls]
    request_id = reply.request_id
    return {
        "custom_id": item_id,
        "id": _batch_request_id(),
        "response": {
            "status_code": 200,
            "request_id": request_id,
            "body": {
                "id": f"chatcmpl-{request_id or uuid.uuid4()}",
                "object": "chat.completion",
                "created": int(time.time()),
                # As a provider's Batch output does: the model that answered.
                "model": reply.served_model or model,
                "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
                "usage": _openai_usage(reply.usage),
            },
        },
        "error": None,
    }


# The last field of every record we write, closing the line: ``attempts`` (native), and
# ``error`` (openai; null on success). Ending the line, it can only be a top-level field, so a
# line with this tail is a record without a full parse; any other line is parsed and checked.
_RECORD_TAIL = re.compile(rb'(,"attempts":\d+|[}l],"error":null)\}$')
# Searched for in the last bytes only: a search from the start tries every position of the
# line (4 us for a 270-byte record, most of reading a million records back). A longer tail
# (an attempts count of 30 digits) just takes the full parse.
_TAIL_BYTES = 48

# What marks a batch input line (ours or a provider-Batch one) that is not a record.
INPUT_LINE = "input"


def _is_record(record: dict[str, Any]) -> bool:
    """Whether a JSON object has the shape of a record we write (either format)."""
    if "custom_id" in record:
        return "response" in record and "error" in record
    return "answer" in record or "error" in record


def record_key(line: bytes) -> tuple[str | None, int | None] | str | None:
    """``(id, line)`` of a record; ``None`` when the line is not a record we can read, and
    :data:`INPUT_LINE` when it is a batch input line (the output file is an input file).

    An id-less record (an unusable input line) is keyed by its input line number instead.
    Only lines with a record's shape count: an input line in the output file (``-o`` naming
    an input, ``cat in.jsonl | batch run - -o in.jsonl``) must never mark its id as done.
    """
    body = line.rstrip(b"\r\n")
    if not body.endswith(b"}"):
        return None
    match = _ID_PREFIX.match(body)
    # A provider's Batch line leads with its own "id" and keys by "custom_id": parse those.
    if (
        match is not None
        and match.group(2) != b"null"
        and (match.group(1) == b"custom_id" or b'"custom_id"' not in body)
        and _RECORD_TAIL.search(body, max(0, len(body) - _TAIL_BYTES))
    ):
        token = match.group(2)
        try:
            value = token[1:-1].decode("utf-8") if b"\\" not in token else json.loads(token)
        except ValueError:
            value = None
        if isinstance(value, str):
            return value, None
    try:
        record = json.loads(body)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    if not _is_record(record):
        return INPUT_LINE if {"prompt", "messages", "body"} & set(record) else None
    key = record.get("custom_id") if "custom_id" in record else record.get("id")
    if isinstance(key, str):
        return key, None
    number = record.get("line")
    if key is None and isinstance(number, int) and not isinstance(number, bool):
        return None, number
    return None
