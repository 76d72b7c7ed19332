"""A variant's answers read back from its batch files: records, errors, checks.

The files are the truth (as for ``batch run``'s resume): the report is built from what they
hold, so a re-run that sends nothing reports the same. Time to the first token is not in a
batch record; it comes from the job's ledger rows, by request id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from deepseek_cli.compare.results import Answer, Item
from deepseek_cli.errors import LocalIOError
from deepseek_cli.safefile import MiB, TooLarge, read_limited

# Our own files, written by the batch engine for these very items: an evaluation set's
# records, not millions of lines.
MAX_RECORDS_BYTES = 1024 * MiB


def read_records(path: Path) -> dict[str, dict[str, Any]]:
    """The records of a batch output or errors file by id (the last one of an id wins);
    a file that does not exist yet holds none."""
    found: dict[str, dict[str, Any]] = {}
    for record in _records(path):
        item_id = record.get("id")
        if isinstance(item_id, str):
            found[item_id] = record
    return found


def _records(path: Path) -> Iterator[dict[str, Any]]:
    try:
        data = read_limited(path, MAX_RECORDS_BYTES)
    except FileNotFoundError:
        return
    except TooLarge:
        raise LocalIOError(f"{path} is larger than a compare's records can be") from None
    except OSError as exc:
        raise LocalIOError(f"cannot read {path}: {exc.strerror or exc}") from None
    for raw in data.split(b"\n"):
        try:
            record = json.loads(raw)
        except ValueError:
            continue  # a torn last line: the batch engine repairs it on its next run
        if isinstance(record, dict):
            yield record


def answers_of(
    items: Sequence[Item],
    output: dict[str, dict[str, Any]],
    errors: dict[str, dict[str, Any]],
    ttft: dict[str, int],
) -> dict[str, Answer]:
    """Each item's answer (or error) from a job's records, its checks evaluated."""
    answers: dict[str, Answer] = {}
    for item in items:
        record = output.get(item.id)
        if record is not None and isinstance(record.get("answer"), str):
            text = str(record["answer"])
            request_id = record.get("request_id")
            answers[item.id] = Answer(
                text,
                latency_ms=_int(record.get("latency_ms")),
                ttft_ms=ttft.get(request_id) if isinstance(request_id, str) else None,
                usage=record.get("usage") if isinstance(record.get("usage"), dict) else None,
                cost=record.get("cost") if isinstance(record.get("cost"), dict) else None,
                passed=tuple(check.passes(text) for check in item.checks),
            )
        elif (failure := errors.get(item.id)) is not None:
            answers[item.id] = Answer(None, error=error_text(failure))
    return answers


def error_text(record: dict[str, Any]) -> str:
    """What an error record (``{"id", "error": {kind, status, code, message}}``) says went
    wrong: its message, else its kind."""
    error = record.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error.get("kind") or "error")
    return error if isinstance(error, str) else "error"


def checked(items: Sequence[Item], answers: dict[str, Answer]) -> dict[str, Answer]:
    """A baseline's answers with the items' checks evaluated on them."""
    done = {}
    for item in items:
        answer = answers.get(item.id)
        if answer is not None and answer.text is not None:
            answer = Answer(answer.text, passed=tuple(c.passes(answer.text) for c in item.checks))
        if answer is not None:
            done[item.id] = answer
    return done


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
