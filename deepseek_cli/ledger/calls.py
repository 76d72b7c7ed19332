"""The ledger's calls one by one, newest first: the query behind ``usage calls``.

Every listing is an ``ORDER BY ts DESC, id DESC LIMIT n`` that walks the ``ts`` index
backwards from the end of its range and stops after ``n`` matches, so the default listing
reads about ``n`` rows whatever the size of the ledger; ``id`` breaks ties between calls
recorded in the same millisecond (it follows insertion order). Whether more calls matched is
known by asking for one more row, never by counting the whole range.

``--grep`` is a literal, case-insensitive substring search of the logged prompts and answers.
Only calls recorded with ``log_prompts = true`` have text, and the partial index
``calls_logged`` (``store._INDEXES``) holds just those, so a search reads the logged calls and
skips the rest; the query states the index's condition word for word, which is how SQLite
knows it may use it. An ASCII needle is matched with ``LIKE`` (case-insensitive for ASCII;
``%``, ``_`` and ``\\`` escaped so they stand for themselves); any other needle with Python's
``casefold``, which SQLite's ``LIKE`` does not do (``Ä`` would not find ``ä``).

Long texts are cut in SQL (``substr``): a 10 MB answer is never read whole into memory for
a listing that shows its first lines. The cut keeps a margin beyond what is shown so that a
key straddling the cut is still whole when the caller redacts it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from deepseek_cli.ledger import store

COMMANDS = ("ask", "chat", "batch")
# Characters read beyond a cut: longer than any API key, so redaction sees a key whole.
CUT_MARGIN = 256
NO_LIMIT_FROM = 2**62
_LOGGED = "(prompt IS NOT NULL OR answer IS NOT NULL)"  # calls_logged's condition, verbatim


@dataclass(frozen=True)
class Call:
    """One ledger row, as listed (``ts`` is the ledger's UTC ISO time)."""

    id: int
    ts: str
    command: str
    profile: str | None
    provider: str | None
    region: str | None
    model: str | None
    served_model: str | None
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    reasoning_tokens: int | None
    cost: float | None
    currency: str | None
    cache_saved: float | None
    latency_ms: int | None
    ttft_ms: int | None
    outcome: str
    request_id: str | None
    attempts: int | None
    batch_id: str | None
    usage_estimated: bool
    # Only when texts were asked for; cut to ``cut + CUT_MARGIN`` characters when ``cut`` was
    # given, with the full length beside each.
    prompt: str | None = None
    answer: str | None = None
    prompt_chars: int | None = None
    answer_chars: int | None = None

    @property
    def logged(self) -> bool:
        return self.prompt is not None or self.answer is not None


# The columns read for every call, in Call's order (the texts are read apart).
_TEXTS = ("prompt", "answer", "prompt_chars", "answer_chars")
ROW_COLUMNS = tuple(f.name for f in fields(Call) if f.name not in _TEXTS)


@dataclass(frozen=True)
class CallQuery:
    since: datetime | None = None
    until: datetime | None = None
    profile: str | None = None
    model: str | None = None
    command: str | None = None
    grep: str | None = None
    limit: int = 50  # 0: no limit
    texts: bool = False  # read prompt and answer
    cut: int | None = None  # read at most this many characters of each (plus a margin)


@dataclass(frozen=True)
class Listing:
    calls: list[Call]
    more: bool  # more calls matched than the limit let through


def list_calls(path: Path, query: CallQuery) -> Listing:
    """The calls in the ledger at ``path`` that match ``query``, newest first (a missing ledger
    has none, and is not created)."""
    if not path.exists():
        return Listing([], more=False)
    sql, args = listing_sql(query)
    rows = _read(path, sql, args, query.grep)
    more = bool(query.limit) and len(rows) > query.limit
    return Listing([_call(row, query.texts) for row in rows[: query.limit or None]], more)


def listing_sql(query: CallQuery) -> tuple[str, list[Any]]:
    """The statement that lists ``query``'s calls (one more than the limit), and its values."""
    where, args = _where(query)
    selected = list(ROW_COLUMNS)
    if query.texts:
        if query.cut is None:
            selected += ["prompt", "answer"]
        else:
            width = query.cut + CUT_MARGIN
            selected += [f"substr(prompt, 1, {width:d})", f"substr(answer, 1, {width:d})"]
        selected += ["length(prompt)", "length(answer)"]
    sql = f"SELECT {', '.join(selected)} FROM calls WHERE {where} ORDER BY ts DESC, id DESC"
    # A limit beyond any ledger is no limit (SQLite's integers end at 2**63).
    if 0 < query.limit < NO_LIMIT_FROM:
        sql += f" LIMIT {query.limit + 1:d}"
    return sql, args


def any_logged(path: Path, query: CallQuery) -> bool:
    """Whether any call that ``query`` selects, ``--grep`` aside, has a logged prompt or
    answer: what tells "nothing contains that text" from "no text was ever recorded"."""
    if not path.exists():
        return False
    where, args = _where(replace(query, grep=None))
    sql = f"SELECT 1 FROM calls WHERE {where} AND {_LOGGED} LIMIT 1"
    return bool(_read(path, sql, args, None))


def _where(query: CallQuery) -> tuple[str, list[Any]]:
    # Only the fixed fragments below are interpolated; every value is a bound parameter.
    where, args = ["1"], []
    if query.since is not None:
        where.append("ts >= ?")
        args.append(store.ledger_time(query.since))
    if query.until is not None:
        where.append("ts < ?")
        args.append(store.ledger_time(query.until))
    for column in ("profile", "model", "command"):
        value = getattr(query, column)
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if query.grep:
        where.append(_LOGGED)
        if query.grep.isascii():
            pattern = "%" + _escape_like(query.grep) + "%"
            where.append("(prompt LIKE ? ESCAPE '\\' OR answer LIKE ? ESCAPE '\\')")
            args += [pattern, pattern]
        else:
            where.append("grep_hit(prompt, answer)")
    return " AND ".join(where), args


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _casefold_search(needle: str) -> Callable[[str | None, str | None], bool]:
    folded = needle.casefold()

    def hit(prompt: str | None, answer: str | None) -> bool:
        return any(text is not None and folded in text.casefold() for text in (prompt, answer))

    return hit


def _read(path: Path, sql: str, args: list[Any], grep: str | None) -> list[tuple[Any, ...]]:
    with store.reading(path) as conn:
        if grep and not grep.isascii():
            conn.create_function("grep_hit", 2, _casefold_search(grep), deterministic=True)
        rows: list[tuple[Any, ...]] = conn.execute(sql, args).fetchall()
        return rows


def _call(row: tuple[Any, ...], texts: bool) -> Call:
    values = dict(zip(ROW_COLUMNS, row, strict=False))
    values["usage_estimated"] = bool(values["usage_estimated"])
    if texts:
        extra = row[len(ROW_COLUMNS) :]
        values.update(zip(_TEXTS, extra, strict=True))
    return Call(**values)


def batch_ttft(path: Path, batch_id: str) -> dict[str, int]:
    """Time to the first token of a batch job's answered calls, by request id (what a batch
    record does not carry; ``compare`` reports it). No ledger yet is nothing known."""
    if not path.exists():
        return {}
    with store.reading(path) as conn:
        rows = conn.execute(
            "SELECT request_id, ttft_ms FROM calls WHERE batch_id = ? AND outcome = 'ok' "
            "AND request_id IS NOT NULL AND ttft_ms IS NOT NULL",
            (batch_id,),
        ).fetchall()
    return {str(request_id): int(ttft) for request_id, ttft in rows}
