"""Feeds the usage ledger from a batch job: many rows per transaction, never in the way.

Why not one ``ledger.record`` per request: a connection and a transaction per row would cost
more than the request's own client work at hundreds of requests per second. Why not a writer
thread: SQLite releases the GIL around every statement, and the resulting hand-offs with the
busy event loop cost more CPU (measured) than the inserts themselves.

So rows are collected in memory and written by the job's ticker, a few hundred per
transaction, with a short busy timeout: when another process holds the database, the batch
waits for the next tick instead of stalling the output for seconds (up to ``MAX_BACKLOG``
rows are kept; beyond that the oldest are dropped with a warning). At exit the remaining rows
get one longer try. A ledger failure warns once and never fails or blocks the job.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from deepseek_cli.ledger import store as ledger
from deepseek_cli.render import stderr as say

FLUSH_ROWS = 500  # write early when this many rows are waiting
MAX_BACKLOG = 100_000
BUSY_MS = 50  # while the job runs
BUSY_MS_AT_EXIT = 3000


class LedgerFeed:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._rows: list[ledger.LedgerRow] = []
        self._conn: sqlite3.Connection | None = None
        self._broken = False
        self._warned = False
        self.recorded = 0
        self.dropped = 0

    def open(self) -> None:
        """Connect (and create or migrate) before the job starts, when waiting is harmless."""
        try:
            self._conn = ledger.connect(self.path)
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        except (sqlite3.Error, OSError) as exc:
            self._fail(exc)

    def put(self, row: ledger.LedgerRow) -> None:
        if self._broken:
            self.dropped += 1
            return
        self._rows.append(row)
        if len(self._rows) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._rows or self._conn is None:
            return
        try:
            ledger.insert(self._conn, self._rows)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                self._trim()  # someone else holds the database: try again next tick
                return
            self._fail(exc)
            return
        except (sqlite3.Error, OSError) as exc:
            self._fail(exc)
            return
        self.recorded += len(self._rows)
        self._rows = []

    def close(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_MS_AT_EXIT}")
            self.flush()
            if self._rows:
                self._fail(sqlite3.OperationalError("database is locked"))
        finally:
            self._conn.close()
            self._conn = None

    def _trim(self) -> None:
        excess = len(self._rows) - MAX_BACKLOG
        if excess > 0:
            del self._rows[:excess]
            self.dropped += excess
            self._warn(f"usage ledger busy; {excess} batch rows not recorded")

    def _fail(self, exc: BaseException) -> None:
        self.dropped += len(self._rows)
        self._rows = []
        self._broken = True
        self._warn(f"usage not recorded: {exc}")

    def _warn(self, text: str) -> None:
        if not self._warned:
            self._warned = True
            say.warning(text)
