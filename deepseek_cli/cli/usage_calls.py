"""``deepseek usage calls``: the ledger's calls one per line, newest first, and their texts.

Like ``usage`` it reads only ``usage.db``: no config, no network, no SDK. The query is
``ledger.calls``; this module parses the flags and prints. Everything printed from the ledger
goes through the redactor, prompts and answers above all: a key pasted into a prompt is
stored as it was typed, and must not come back out. The texts a listing prints are cut to
``TEXT_CHARS`` characters and ``TEXT_LINES`` lines each (a 10 MB answer would bury the
listing); ``--json`` and ``--csv`` carry them whole.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from deepseek_cli.cli.boundary import guarded
from deepseek_cli.cli.options import (
    DebugOpt,
    JsonOpt,
    ModelFilterOpt,
    ProfileFilterOpt,
    SinceOpt,
    UntilOpt,
    option,
)

if TYPE_CHECKING:
    from pathlib import Path

    from deepseek_cli.ledger.calls import Call, CallQuery, Listing

EPILOG = """\b
Examples:
  deepseek usage calls                          # the newest 50 calls of the last 30 days
  deepseek usage calls --since 7d -m deepseek-v4-pro
  deepseek usage calls --command batch --limit 20
  deepseek usage calls --since all --limit 0 --csv > calls.csv
  deepseek usage calls --grep "stack trace" --prompts
  deepseek usage calls --prompts --json --limit 1 | jq -r '.[0].answer'

\b
Times are local. Input includes cached tokens; output includes reasoning tokens.
Cost is what the call cost when it was made: "unknown" when tokens were used at
an unknown price, "-" when nothing was used. Prompts and answers are recorded
only with log_prompts = true in config.toml; a listing shows the first 2,000
characters (50 lines) of each, --json and --csv the whole text. --grep is
case-insensitive and literal (% and _ are plain characters).
"""

DEFAULT_LIMIT = 50
TEXT_CHARS = 2000
TEXT_LINES = 50
JSON_TEXTS = ("prompt", "answer")
LOG_PROMPTS_HINT = (
    "set log_prompts = true in config.toml (`deepseek config set log_prompts true`) "
    "to record the prompts and answers of calls from now on"
)


class Command(StrEnum):
    ask = "ask"
    chat = "chat"
    batch = "batch"


@guarded
def calls(
    since: SinceOpt = "30d",
    until: UntilOpt = None,
    limit: Annotated[
        int, option("--limit N", "Show at most N calls, the newest; 0 shows all.", min=0)
    ] = DEFAULT_LIMIT,
    profile: ProfileFilterOpt = None,
    model: ModelFilterOpt = None,
    command: Annotated[
        Command | None, option("--command COMMAND", "Only calls made by ask, chat or batch.")
    ] = None,
    prompts: Annotated[
        bool, option("--prompts", "Show each call's prompt and answer (when logged).")
    ] = False,
    grep: Annotated[
        str | None,
        option("--grep TEXT", "Only calls whose logged prompt or answer contains TEXT."),
    ] = None,
    json_output: JsonOpt = False,
    csv_output: Annotated[bool, option("--csv", "Print CSV, one line per call.")] = False,
    debug: DebugOpt = False,
) -> None:
    """One line per call, newest first: time, model, tokens, cost, latency, outcome."""
    from deepseek_cli.config import paths
    from deepseek_cli.errors import UsageError
    from deepseek_cli.ledger import calls as ledger_calls
    from deepseek_cli.ledger.reports import time_range

    if json_output and csv_output:
        raise UsageError("--json and --csv exclude each other")
    if grep is not None and not grep.strip():
        raise UsageError("--grep needs some text to look for")
    start, end = time_range(since, until, now=datetime.now(UTC))
    _register_env_keys()
    query = ledger_calls.CallQuery(
        since=start,
        until=end,
        profile=profile,
        model=model,
        command=command.value if command else None,
        grep=grep,
        limit=limit,
        texts=prompts,
        cut=None if json_output or csv_output else TEXT_CHARS,
    )
    path = paths.ledger_file(os.environ)
    listing = ledger_calls.list_calls(path, query)
    if json_output:
        from deepseek_cli.render.stdout import emit_json

        emit_json([_call_json(call, prompts) for call in listing.calls], indent=2)
    elif csv_output:
        _print_csv(listing.calls, prompts)
    elif prompts:
        _print_with_texts(listing.calls)
    elif listing.calls:
        _print_table(listing.calls, start, end)
    _explain(listing, query, path)


def _register_env_keys() -> None:
    """Mask the keys in the environment too, beyond what looks like a key (``sk-...``): this
    command loads no profile, so no key was registered on the way."""
    from deepseek_cli.redaction import register_secret

    for name, value in os.environ.items():
        if name.endswith("_API_KEY") and value.strip():
            register_secret(value.strip())


def _explain(listing: Listing, query: CallQuery, path: Path) -> None:
    """What stderr says about the listing: more calls than shown, none at all, or texts that
    were never recorded."""
    from deepseek_cli.ledger import calls as ledger_calls
    from deepseek_cli.render import stderr as say

    when = f"since {_local(query.since)}" if query.since else "at all"
    if listing.more:
        noun = "call" if query.limit == 1 else f"{query.limit:,} calls"
        say.notice(f"showing the newest {noun}; more match (--limit N shows more, --limit 0 all)")
    if listing.calls:
        if query.texts and not any(c.logged for c in listing.calls):
            say.notice(f"none of these calls has its prompt recorded: {LOG_PROMPTS_HINT}")
        return
    if query.grep is None:
        given = (("-p", query.profile), ("-m", query.model), ("--command", query.command))
        filters = [f"{flag} {value}" for flag, value in given if value is not None]
        said = f" for {', '.join(filters)}" if filters else ""
        say.notice(f"no calls recorded {when}{said}")
    elif ledger_calls.any_logged(path, query):
        say.notice(f"no call {when} has '{query.grep}' in its prompt or answer")
    else:
        say.notice(f"no call {when} has its prompt recorded to search: {LOG_PROMPTS_HINT}")


def _local(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "now"


def _time(ts: str) -> str:
    try:
        return datetime.fromisoformat(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return str(ts)  # not written by us (an edited ledger): shown as it is


def _cost(call: Call) -> str:
    from deepseek_cli.render.numbers import money

    if call.cost is not None and call.currency:
        return money(call.cost, call.currency)
    return "unknown" if call.input_tokens or call.output_tokens else "-"


def _cells(call: Call) -> list[str]:
    from deepseek_cli.redaction import redact

    cells = [
        _time(call.ts),
        call.command,
        call.profile or "-",
        call.provider or "-",
        call.model or "-",
        f"{call.input_tokens:,}",
        f"{call.cached_tokens:,}",
        f"{call.output_tokens:,}",
        "-" if call.reasoning_tokens is None else f"{call.reasoning_tokens:,}",
        _cost(call),
        "-" if call.latency_ms is None else f"{call.latency_ms / 1000:.2f} s",
        call.outcome,
        call.request_id or "-",
    ]
    return [redact(cell) for cell in cells]


def _columns() -> list[Any]:
    from deepseek_cli.render.tables import Column

    # Only the time may wrap (the date above the clock): Rich would fold any other value
    # mid-word, and a request id is copied into support tickets whole.
    headers = ["Command", "Profile", "Provider", "Model"]
    numbers = ["Input", "Cached", "Output", "Reasoning"]
    return [
        Column("Time", title=True),
        *(Column(header, no_wrap=True) for header in headers),
        *(Column(header, "right", no_wrap=True) for header in numbers),
        Column("Cost", no_wrap=True),
        Column("Latency", "right", no_wrap=True),
        Column("Outcome", no_wrap=True),
        Column("Request id", no_wrap=True),
    ]


def _print_table(rows: list[Call], since: datetime | None, until: datetime | None) -> None:
    from deepseek_cli.render.tables import print_table

    period = f"{_local(since) if since else 'the beginning'} to {_local(until)}"
    print_table(
        _columns(),
        [_cells(call) for call in rows],
        title=f"Calls from {period}, newest first",
        caption="Input includes cached tokens; output includes reasoning tokens.",
    )


def _print_with_texts(rows: list[Call]) -> None:
    """Each call's line (aligned as a piped table is), its prompt and answer below it."""
    from deepseek_cli.render.stdout import emit
    from deepseek_cli.render.tables import fields_text, plain_table

    if not rows:
        return
    header, *lines = plain_table(_columns(), [_cells(call) for call in rows]).splitlines()
    out = [header]
    for line, call in zip(lines, rows, strict=True):
        out.append(line)
        if call.logged:
            pairs = [
                ("prompt", _shown(call.prompt, call.prompt_chars, "no prompt")),
                ("answer", _shown(call.answer, call.answer_chars, "no answer")),
            ]
            out.append(fields_text(pairs, "    ").rstrip("\n"))
        else:
            out.append("    (prompt and answer not recorded: log_prompts was off)")
        out.append("")
    emit("\n".join(out) + "\n")


def _shown(text: str | None, chars: int | None, missing: str) -> list[str]:
    """``text`` redacted, cut to what a listing shows (with a note saying so), and with its
    control characters written out: an escape sequence in a logged answer must not drive the
    terminal that lists it."""
    from deepseek_cli.redaction import redact

    if text is None:
        return [f"({missing})"]
    clean = redact(text)
    lines = clean[:TEXT_CHARS].splitlines() or [""]
    # What was read may itself be a cut (``chars`` is the stored length).
    cut = len(clean) > TEXT_CHARS or len(lines) > TEXT_LINES or (chars or 0) > len(text)
    shown = [_CONTROL.sub(_escaped, line) for line in lines[:TEXT_LINES]]
    if cut:
        total = max(chars or 0, len(text))
        shown.append(f"[cut: {total:,} characters in all; --json shows the whole text]")
    return shown


# C0 controls but tab (line breaks are gone after splitlines), DEL, and C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def _call_json(call: Call, texts: bool) -> dict[str, Any]:
    """Every column of the call (``ts`` in UTC, as the ledger has it); the prompt and answer
    only when asked for. Strings are redacted."""
    from dataclasses import asdict

    from deepseek_cli.ledger.calls import ROW_COLUMNS

    values = asdict(call)
    data = {name: values[name] for name in (*ROW_COLUMNS, *(JSON_TEXTS if texts else ()))}
    return {k: _json_value(v) for k, v in data.items()}


def _json_value(value: Any) -> Any:
    from deepseek_cli.redaction import redact

    if isinstance(value, str):
        return redact(value)
    # Money to 10 decimals: far below a millionth of a cent, and rid of float noise.
    return round(value, 10) if isinstance(value, float) else value


def _print_csv(rows: list[Call], texts: bool) -> None:
    import csv
    import io

    from deepseek_cli.ledger.calls import ROW_COLUMNS
    from deepseek_cli.render.stdout import emit

    header = [*ROW_COLUMNS, *(JSON_TEXTS if texts else ())]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for call in rows:
        data = _call_json(call, texts)
        writer.writerow([_csv_value(data[name]) for name in header])
    emit(buffer.getvalue())


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return f"{value:.10f}".rstrip("0").rstrip(".")
    return value
