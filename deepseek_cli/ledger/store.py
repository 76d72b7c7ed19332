"""The usage ledger: one SQLite row per API call, shared safely by concurrent processes.

Many ``ask`` processes under ``xargs -P`` and a batch job may write at once, so the database
is in WAL mode (set once, it persists), every connection waits up to 5 s for a lock, and
writes take the lock up front with ``BEGIN IMMEDIATE`` (a deferred transaction that upgrades
later can fail without waiting). Files are private: created under a 0077 umask, and SQLite
gives the -wal/-shm files the database's mode. Prompts and answers are stored only when the
config says ``log_prompts = true``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from deepseek_cli.errors import InputDataError
from deepseek_cli.safefile import ensure_private_dir

if TYPE_CHECKING:
    from deepseek_cli.catalog.pricing import Cost
    from deepseek_cli.config.profiles import Profile
    from deepseek_cli.conversation import Reply

SCHEMA_VERSION = 3
_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    command TEXT NOT NULL,
    profile TEXT,
    provider TEXT,
    region TEXT,
    model TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER,
    cost REAL,
    currency TEXT,
    latency_ms INTEGER,
    ttft_ms INTEGER,
    outcome TEXT NOT NULL,
    request_id TEXT,
    attempts INTEGER,
    batch_id TEXT,
    prompt TEXT,
    answer TEXT,
    served_model TEXT,
    usage_estimated INTEGER NOT NULL DEFAULT 0,
    cache_saved REAL
)"""
# ``ts`` serves every time range and "newest first"; ``batch_id`` the exactly-once check of
# fetched Batch results and a budgeted job's spend so far; ``calls_logged`` holds only the
# calls with a logged prompt or answer, so ``usage calls --grep`` reads those and skips the
# rest (a ledger without logged prompts pays nothing for it). New indexes are created on
# connect, on old ledgers too: no schema version needed.
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS calls_ts ON calls(ts)",
    "CREATE INDEX IF NOT EXISTS calls_batch ON calls(batch_id)",
    "CREATE INDEX IF NOT EXISTS calls_logged ON calls(ts)"
    " WHERE prompt IS NOT NULL OR answer IS NOT NULL",
)
# Version 1 had no served_model/usage_estimated and stored an unknown reasoning count as 0;
# its columns are copied as they are (a 0 there may have meant unknown: it cannot be told).
_V1_COLUMNS = (
    "id, ts, command, profile, provider, region, model, input_tokens, cached_tokens, "
    "output_tokens, reasoning_tokens, cost, currency, latency_ms, ttft_ms, outcome, "
    "request_id, attempts, batch_id, prompt, answer"
)


@dataclass(frozen=True)
class LedgerRow:
    command: str
    profile: str
    provider: str
    region: str | None
    model: str
    outcome: str
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int | None = None
    cost: float | None = None
    currency: str | None = None
    latency_ms: int | None = None
    ttft_ms: int | None = None
    request_id: str | None = None
    attempts: int | None = None
    batch_id: str | None = None
    prompt: str | None = None
    answer: str | None = None
    served_model: str | None = None
    usage_estimated: bool = False
    cache_saved: float | None = None  # what the cache hits saved, in ``currency``
    ts: str = ""


@dataclass(frozen=True)
class CallSite:
    """Where a command's calls come from: the facts every row of one ``ask``, chat session or
    batch job shares, so that each call adds only what is its own."""

    command: str
    profile: str
    provider: str
    region: str | None
    log_prompts: bool
    batch_id: str | None = None

    @classmethod
    def of(
        cls, command: str, profile: Profile, log_prompts: bool, batch_id: str | None = None
    ) -> CallSite:
        return cls(command, profile.name, profile.provider, profile.region, log_prompts, batch_id)

    def row(
        self,
        model: str,
        outcome: str,
        reply: Reply,
        cost: Cost | None,
        attempts: int,
        *,
        prompt: str | None = None,
        request_id: str | None = None,
        batch_id: str | None = None,
        timed: bool = True,
        ts: str = "",
    ) -> LedgerRow:
        """The row for one call, however it ended.

        Tokens and money come from what the call reported (nothing reported: zeros and an
        unknown cost), timings from the reply unless ``timed`` is off (a provider's Batch
        service does not say how long a request took), the request id from the reply unless
        one is given. The prompt and whatever answer arrived are kept only when the config
        logs prompts.
        """
        usage = reply.usage
        log = self.log_prompts
        return LedgerRow(
            command=self.command,
            profile=self.profile,
            provider=self.provider,
            region=self.region,
            model=model,
            outcome=outcome,
            input_tokens=usage.input_tokens if usage else 0,
            cached_tokens=usage.cached_tokens if usage else 0,
            output_tokens=usage.output_tokens if usage else 0,
            reasoning_tokens=usage.reasoning_tokens if usage else None,
            cost=cost.amount if cost else None,
            currency=cost.currency if cost else None,
            latency_ms=reply.latency_ms if timed else None,
            ttft_ms=reply.ttft_ms if timed else None,
            request_id=request_id or reply.request_id,
            attempts=attempts,
            batch_id=batch_id or self.batch_id,
            prompt=prompt if log else None,
            answer=(reply.answer or None) if log else None,
            served_model=reply.served_model,
            usage_estimated=reply.usage_estimated,
            cache_saved=cost.saved if cost else None,
            ts=ts,
        )


def ledger_time(moment: datetime | None = None) -> str:
    """The ledger's timestamp form: UTC to the millisecond, so that string order is time order
    and range filters can use the ``ts`` index."""
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds")


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating and migrating if needed) the ledger at ``path``."""
    ensure_private_dir(path.parent)
    old_umask = os.umask(0o077)
    try:
        conn = sqlite3.connect(path, timeout=5.0, isolation_level=None)
    finally:
        os.umask(old_umask)
    conn.execute("PRAGMA busy_timeout = 5000")
    for _ in range(50):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            break
        except sqlite3.OperationalError:
            # Switching journal mode does not wait on the busy handler; another process is
            # creating the database right now.
            time.sleep(0.02)
    conn.execute("PRAGMA synchronous = NORMAL")
    if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION or _missing_index(conn):
        _migrate(conn)
    return conn


@contextlib.contextmanager
def reading(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to the ledger for a report; a ledger SQLite cannot read (not a database,
    corrupt) is exit 65 naming the file, never a traceback."""
    try:
        conn = connect(path)
        try:
            yield conn
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise InputDataError(
            f"cannot read the usage ledger {path}: {exc}",
            "move the file away to start a new ledger",
        ) from None


def _missing_index(conn: sqlite3.Connection) -> bool:
    """Whether an index of ``_INDEXES`` is not there yet: one added after the ledger reached
    this schema version. An index changes no row, so adding one needs no new version."""
    have = conn.execute(
        "SELECT COUNT(*) FROM sqlite_master"
        " WHERE type = 'index' AND tbl_name = 'calls' AND sql IS NOT NULL"
    ).fetchone()[0]
    return bool(have < len(_INDEXES))


def _migrate(conn: sqlite3.Connection) -> None:
    """Create the table, rebuild a version-1 table (SQLite cannot drop a NOT NULL), or add
    version 3's savings column to a version-2 one (its old rows' savings stay unknown); then
    create the indexes that are missing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while this one waited for the lock.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version < SCHEMA_VERSION:
            old = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'calls'").fetchone()
            if old is not None and version == 1:
                conn.execute(_TABLE.format(name="calls_v2"))
                conn.execute(
                    f"INSERT INTO calls_v2 ({_V1_COLUMNS}) SELECT {_V1_COLUMNS} FROM calls"
                )
                conn.execute("DROP TABLE calls")
                conn.execute("ALTER TABLE calls_v2 RENAME TO calls")
            elif old is not None and version == 2:
                conn.execute("ALTER TABLE calls ADD COLUMN cache_saved REAL")
            conn.execute(_TABLE.format(name="calls"))
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        for index in _INDEXES:
            conn.execute(index)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


_COLUMNS = [f for f in LedgerRow.__dataclass_fields__ if f != "ts"]


_INSERT = (
    f"INSERT INTO calls (ts, {', '.join(_COLUMNS)}) VALUES (?, {', '.join('?' for _ in _COLUMNS)})"
)


def _insert_rows(conn: sqlite3.Connection, rows: list[LedgerRow]) -> None:
    # getattr, not dataclasses.asdict: asdict deep-copies every field, a measurable share of
    # a batch job's CPU per request.
    conn.executemany(
        _INSERT, [[row.ts or ledger_time(), *(getattr(row, c) for c in _COLUMNS)] for row in rows]
    )


def insert(conn: sqlite3.Connection, rows: list[LedgerRow]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        _insert_rows(conn, rows)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def insert_once(conn: sqlite3.Connection, rows: list[LedgerRow], batch_id: str) -> bool:
    """Insert ``rows`` unless rows with ``batch_id`` are there already; False when they were.

    The check and the inserts are one transaction, so rows fetched from a provider's Batch
    service are recorded exactly once however often (or however concurrently) they are
    fetched, and a crash leaves either all of them or none.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        seen = conn.execute("SELECT 1 FROM calls WHERE batch_id = ? LIMIT 1", (batch_id,))
        if seen.fetchone() is not None:
            conn.execute("ROLLBACK")
            return False
        _insert_rows(conn, rows)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return True


def record(path: Path, row: LedgerRow) -> None:
    """Append one row. Raises ``sqlite3.Error``/``OSError``; callers warn and carry on."""
    conn = connect(path)
    try:
        insert(conn, [row])
    finally:
        conn.close()


@dataclass(frozen=True)
class BatchSpend:
    """What the rows of one batch job cost in one currency, and how many rows it leaves out."""

    amount: float = 0.0
    uncounted: int = 0  # rows with tokens but no price, or priced in another currency


def batch_spend(path: Path, batch_id: str, currency: str) -> BatchSpend:
    """The money earlier runs of a batch job recorded in ``currency`` (a budget's spend so far).

    No ledger yet is nothing spent. Raises ``sqlite3.Error``/``OSError`` when the ledger
    cannot be read: the caller decides (a budget cannot be kept on a spend it cannot read).
    """
    if not path.exists():
        return BatchSpend()
    conn = connect(path)
    try:
        amount, uncounted = conn.execute(
            "SELECT COALESCE(SUM(CASE WHEN currency = ? THEN cost END), 0.0), "
            "COUNT(CASE WHEN (cost IS NULL AND input_tokens + output_tokens > 0) "
            "OR (cost IS NOT NULL AND currency IS NOT ?) THEN 1 END) "
            "FROM calls WHERE batch_id = ?",
            (currency, currency, batch_id),
        ).fetchone()
    finally:
        conn.close()
    return BatchSpend(float(amount), int(uncounted))
