"""``--baseline FILE[:NAME]``: the answers a team already has, as a variant that sends nothing.

The file holds ``{"id", "answer"}`` lines; a ``batch run`` output file is one (its records
have both), and so is its errors file's shape (``{"id", "error"}``), which counts as an error
for that item. Lines are joined to the input by id; an input item the file does not answer
is missing from the baseline, an id the input does not have is ignored (and counted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepseek_cli.compare.collect import error_text
from deepseek_cli.compare.results import Answer
from deepseek_cli.errors import InputDataError, UsageError
from deepseek_cli.safefile import MiB, size_text

MAX_BASELINE_BYTES = 512 * MiB
DEFAULT_NAME = "baseline"


@dataclass(frozen=True)
class Baseline:
    name: str
    answers: dict[str, Answer]
    unknown_ids: int  # lines whose id is not an input item's


def split_spec(spec: str) -> tuple[Path, str]:
    """``FILE`` or ``FILE:NAME``; a path that exists as given wins (it may hold a colon)."""
    if Path(spec).exists() or ":" not in spec:
        return Path(spec), DEFAULT_NAME
    path, _, name = spec.rpartition(":")
    if not name.strip():
        raise UsageError(f"--baseline {spec!r}: the name after ':' is empty")
    return Path(path), name.strip()


def read_baseline(spec: str, ids: set[str]) -> Baseline:
    path, name = split_spec(spec)
    try:
        size = path.stat().st_size
        if size > MAX_BASELINE_BYTES:
            raise InputDataError(f"--baseline {path} is larger than {size_text(size)}")
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"--baseline {path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"cannot read --baseline {path}: {exc.strerror or exc}") from None
    answers: dict[str, Answer] = {}
    unknown = 0
    problems: list[str] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError:
            problems.append(f"{path}:{number}: not JSON")
            continue
        item_id = obj.get("id") if isinstance(obj, dict) else None
        if not isinstance(item_id, str):
            problems.append(f"{path}:{number}: no string 'id'")
            continue
        answer = _answer(obj)
        if answer is None:
            problems.append(f"{path}:{number}: neither an 'answer' string nor an 'error'")
        elif item_id not in ids:
            unknown += 1
        else:
            answers[item_id] = answer  # the last line for an id wins, as in a resumed file
    if problems:
        raise InputDataError(
            f"--baseline: {len(problems)} bad line(s): " + "; ".join(problems[:10]),
            'each line is {"id": ..., "answer": ...}; a batch run output file works',
        )
    return Baseline(name, answers, unknown)


def _answer(obj: dict[str, Any]) -> Answer | None:
    text = obj.get("answer")
    if isinstance(text, str):
        return Answer(text)
    if isinstance(obj.get("error"), dict | str):
        return Answer(None, error=error_text(obj))
    return None
