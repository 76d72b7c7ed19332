"""A compare line's ``expected`` and ``checks``: parsed and checked before anything is sent.

A check is a claim about an answer a team can write without a judge: it contains a string
(``expected`` is that, ignoring case), does not contain one, equals one, matches a regular
expression, is JSON, is at most N characters. A bad check is found on the line it is on
(exit 65 with line numbers, as for any bad batch line), never after the money was spent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["expected", "contains", "not_contains", "equals", "regex", "json", "max_chars"]
KINDS: tuple[str, ...] = ("contains", "not_contains", "equals", "regex", "json", "max_chars")
# A pattern is the user's own, but a catastrophic one would hang the report: bound its size.
MAX_PATTERN = 1000


class CheckError(ValueError):
    """Why a line's checks cannot be used (the message never quotes the line)."""


@dataclass(frozen=True)
class Check:
    kind: Kind
    value: Any

    def passes(self, answer: str) -> bool:
        match self.kind:
            case "expected":
                return str(self.value).casefold() in answer.casefold()
            case "contains":
                return str(self.value) in answer
            case "not_contains":
                return str(self.value) not in answer
            case "equals":
                return answer.strip() == str(self.value).strip()
            case "regex":
                return re.search(str(self.value), answer) is not None
            case "json":
                return _is_json(answer) is bool(self.value)
            case "max_chars":
                return len(answer) <= int(self.value)
        return False  # pragma: no cover - every kind is matched above

    @property
    def label(self) -> str:
        """The check as the report names it: ``contains "Paris"``, ``json``."""
        if self.kind == "json":
            return "json" if self.value else "not json"
        if self.kind == "max_chars":
            return f"max_chars {self.value}"
        text = str(self.value)
        shown = text if len(text) <= 40 else text[:39] + "…"
        return f"{self.kind} {json.dumps(shown, ensure_ascii=False)}"

    def to_json(self) -> dict[str, Any]:
        return {self.kind: self.value}


def _is_json(answer: str) -> bool:
    text = answer.strip()
    # Models often fence JSON in Markdown; the fenced body is what a program would parse.
    fenced = re.fullmatch(r"```(?:json)?\s*\n(.*)\n```", text, re.DOTALL)
    try:
        json.loads(fenced.group(1) if fenced else text)
    except ValueError:
        return False
    return True


def parse_checks(obj: dict[str, Any]) -> tuple[Check, ...]:
    """The checks of a line (``expected`` first); ``CheckError`` names what is wrong."""
    checks: list[Check] = []
    if "expected" in obj:
        expected = obj["expected"]
        if not isinstance(expected, str) or not expected.strip():
            raise CheckError("'expected' must be a non-empty string")
        checks.append(Check("expected", expected))
    raw = obj.get("checks", [])
    if not isinstance(raw, list):
        raise CheckError('\'checks\' must be a list such as [{"contains": "Paris"}]')
    for index, entry in enumerate(raw):
        checks.append(_one(entry, f"checks[{index}]"))
    return tuple(checks)


def _one(entry: Any, where: str) -> Check:
    if not isinstance(entry, dict) or len(entry) != 1:
        raise CheckError(f"{where} must be one object with one key ({', '.join(KINDS)})")
    ((kind, value),) = entry.items()
    if kind not in KINDS:
        raise CheckError(f"{where}: unknown check '{kind}' (known: {', '.join(KINDS)})")
    if kind in ("contains", "not_contains", "equals"):
        if not isinstance(value, str) or (kind != "equals" and not value):
            raise CheckError(f"{where}: '{kind}' takes a non-empty string")
    elif kind == "regex":
        if not isinstance(value, str) or not value or len(value) > MAX_PATTERN:
            raise CheckError(f"{where}: 'regex' takes a pattern of 1 to {MAX_PATTERN} characters")
        try:
            re.compile(value)
        except re.error as exc:
            raise CheckError(f"{where}: 'regex' is not a valid pattern ({exc.msg})") from None
    elif kind == "json":
        if not isinstance(value, bool):
            raise CheckError(f"{where}: 'json' takes true or false")
    elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CheckError(f"{where}: 'max_chars' takes a whole number of at least 1")
    return Check(kind, value)
