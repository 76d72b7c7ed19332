"""Older ledgers are migrated in place, once, and keep every row.

Version 1 stored an unknown reasoning count as 0 (NOT NULL) and had no served model; version 2
had no savings column. Both are built here with the tables those versions created.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from deepseek_cli.ledger import store

_COMMON = """
    id INTEGER PRIMARY KEY, ts TEXT NOT NULL, command TEXT NOT NULL, profile TEXT,
    provider TEXT, region TEXT, model TEXT, input_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
"""
_TAIL = """
    cost REAL, currency TEXT, latency_ms INTEGER, ttft_ms INTEGER, outcome TEXT NOT NULL,
    request_id TEXT, attempts INTEGER, batch_id TEXT, prompt TEXT, answer TEXT
"""
V1 = f"CREATE TABLE calls ({_COMMON} reasoning_tokens INTEGER NOT NULL DEFAULT 0, {_TAIL})"
V2 = (
    f"CREATE TABLE calls ({_COMMON} reasoning_tokens INTEGER, {_TAIL}, served_model TEXT, "
    "usage_estimated INTEGER NOT NULL DEFAULT 0)"
)
ROW = (
    "INSERT INTO calls (ts, command, profile, provider, model, input_tokens, cached_tokens, "
    "output_tokens, reasoning_tokens, cost, currency, outcome) VALUES "
    "('2026-11-30T10:00:00.000+00:00', 'ask', 'ds', 'deepseek', 'deepseek-v4-pro', 100, 40, 10, "
    "0, 0.5, 'USD', 'ok')"
)


@pytest.mark.parametrize(("version", "table"), [(1, V1), (2, V2)])
def test_an_older_ledger_is_migrated_and_keeps_its_rows(cli, version, table):
    path = cli.home / "usage.db"
    with sqlite3.connect(path) as db:
        db.execute(table)
        db.execute(ROW)
        db.execute(f"PRAGMA user_version = {version}")
    db.close()
    conn = store.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        columns = {row[1] for row in conn.execute("PRAGMA table_info(calls)")}
        assert {"served_model", "usage_estimated", "cache_saved"} <= columns
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(calls)")}
        assert {"calls_ts", "calls_batch"} <= indexes
        old = conn.execute("SELECT input_tokens, cost, cache_saved FROM calls").fetchall()
        assert old == [(100, 0.5, None)]  # the old row's savings are unknown, not made up
    finally:
        conn.close()
    assert cli.run("ask", "hi").code == 0  # a new row next to the old one
    data = json.loads(cli.run("usage", "--json", "--since", "all").stdout)
    assert data["total"]["calls"] == 2
    # The old row's 100 in / 40 cached, and the fake server's default answer's 11 / 3.
    assert data["total"]["cached_tokens"] == 43 and data["total"]["input_tokens"] == 111
