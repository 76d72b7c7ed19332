"""``deepseek usage`` and ``usage calls`` on a ledger of 1,000,000 calls: median wall time.

Usage:
    python benchmarks/ledger.py [--rows N] [--runs N] [--keep DIR] [--index-cost]

Builds a ledger with the real schema in a temporary ``DEEPSEEK_CLI_HOME`` (``store.connect``
creates it, then one transaction of ``executemany``): 90 days of calls in append order, six
models over three providers, five profiles, ask/chat/batch, a few failures, and about one
call in ten with a logged prompt and answer of a few hundred characters. Then it times the
real CLI as fresh processes, stdout piped (the aligned text a pipe gets), several runs each
measured alternately (the order rotating every round, so a busy moment hits every command
alike), and prints the median and min with the machine they ran on.

``--index-cost`` also builds the same ledger without the indexes ``usage calls`` added
(``calls_logged``) and prints what they cost: build time per row, file size, and the time of
single-row inserts (one transaction each, as ``ask`` records a call) into the full ledger.
``--keep DIR`` leaves the ledger in ``DIR`` to try queries on.

llm's ``logs`` is the peer: SQLite too, with FTS for ``-q``. The target is that every
listing answers within ~0.5 s at 1M rows, start-up (~0.15-0.2 s here) included.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deepseek_cli.ledger import store

# (profile, provider, region, model, USD per 1M input / output; None: price unknown)
SITES = (
    ("intl", "dashscope", "intl", "deepseek-v4-pro", (0.55, 2.2)),
    ("intl", "dashscope", "intl", "deepseek-v4-flash", (0.14, 0.28)),
    ("cn", "dashscope", "cn", "deepseek-v3.2", (0.28, 0.42)),
    ("work", "dashscope", "intl", "deepseek-v4-pro", (0.55, 2.2)),
    ("deepseek", "deepseek", None, "deepseek-v4-pro", (0.66, 1.98)),
    ("deepseek", "deepseek", None, "deepseek-flash", (0.14, 0.28)),
    ("local", "openai", None, "qwen3-coder", None),
)
COMMANDS = (("ask", 50), ("chat", 30), ("batch", 20))
OUTCOMES = (("ok", 970), ("failed", 15), ("rate_limited", 8), ("interrupted", 7))
DAYS = 90
LOGGED_SHARE = 0.10
# A word in one logged call in ~5,000 (about 20 calls of 1M): --grep must read every logged
# call to find them, the worst case for a search.
RARE_WORD = "quokka"
_VOCABULARY = (
    "the a of to and in is it that for on with as this be at by from or an are was not can "
    "function error value return list file data model token cache price request answer "
    "python rust sqlite index query table column batch profile region latency stream json "
    "explain summarise translate refactor review why how what when which where test bug"
)
WORDS = _VOCABULARY.split()
COLUMNS = (
    "ts, command, profile, provider, region, model, input_tokens, cached_tokens, "
    "output_tokens, reasoning_tokens, cost, currency, latency_ms, ttft_ms, outcome, "
    "request_id, attempts, batch_id, prompt, answer, served_model, usage_estimated, cache_saved"
)
INSERT = f"INSERT INTO calls ({COLUMNS}) VALUES ({', '.join('?' * len(COLUMNS.split(',')))})"
# The model most calls name and one few do, for ``usage calls -m``.
COMMON_MODEL = "deepseek-v4-pro"
RARE_MODEL = "qwen3-coder"


def _weighted(pairs: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _text(rng: random.Random, words: int) -> str:
    picked = rng.choices(WORDS, k=words)
    if rng.random() < 1 / 5000:
        picked[rng.randrange(words)] = RARE_WORD
    return " ".join(picked).capitalize() + "."


def rows(n: int, now: datetime, seed: int = 12) -> Iterator[tuple[object, ...]]:
    rng = random.Random(seed)
    commands, command_weights = _weighted(COMMANDS)
    outcomes, outcome_weights = _weighted(OUTCOMES)
    site_weights = [30, 15, 10, 10, 20, 10, 5]
    start = now - timedelta(days=DAYS)
    step = timedelta(days=DAYS) / n
    batch_id = None
    for i in range(n):
        ts = store.ledger_time(start + step * i + timedelta(seconds=rng.random()))
        command = rng.choices(commands, command_weights)[0]
        profile, provider, region, model, price = rng.choices(SITES, site_weights)[0]
        outcome = rng.choices(outcomes, outcome_weights)[0]
        if command == "batch" and (batch_id is None or rng.random() < 0.002):
            batch_id = f"job-{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}"
        ok = outcome == "ok"
        inp = rng.randint(20, 20_000) if ok else 0
        cached = rng.randint(0, inp) if ok and rng.random() < 0.4 else 0
        out = rng.randint(5, 4_000) if ok else 0
        reasoning = rng.randint(0, out) if ok and "pro" in model else None
        cost = (inp * price[0] + out * price[1]) / 1e6 if ok and price else None
        logged = rng.random() < LOGGED_SHARE
        yield (
            ts,
            command,
            profile,
            provider,
            region,
            model,
            inp,
            cached,
            out,
            reasoning,
            cost,
            "USD" if cost is not None else None,
            rng.randint(300, 60_000) if command != "batch" or ok else None,
            rng.randint(100, 3_000) if ok else None,
            outcome,
            str(uuid.UUID(int=rng.getrandbits(128))),
            1 if rng.random() < 0.97 else rng.randint(2, 4),
            batch_id if command == "batch" else None,
            _text(rng, rng.randint(20, 60)) if logged else None,
            _text(rng, rng.randint(30, 90)) if logged and ok else None,
            model,
            0,
            0.0 if cost is not None else None,
        )


def build(home: Path, n: int, now: datetime, *, without: tuple[str, ...] = ()) -> float:
    """The ledger of ``n`` calls under ``home``; seconds the inserts took."""
    conn = store.connect(home / "usage.db")
    try:
        for index in without:
            conn.execute(f"DROP INDEX {index}")
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT, rows(n, now))
        conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return elapsed


def deepseek_argv() -> list[str]:
    script = Path(sys.executable).with_name("deepseek")
    return [str(script)] if script.exists() else [sys.executable, "-m", "deepseek_cli"]


def run(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - started, done.returncode


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    python = platform.python_version()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {python}, SQLite {sqlite3.sqlite_version}; load average {load}"
    )


def single_inserts(path: Path, count: int, *, logged: bool) -> float:
    """Mean seconds of one insert in its own transaction, as ``ask`` records a call."""
    row = store.LedgerRow(
        command="ask",
        profile="intl",
        provider="dashscope",
        region="intl",
        model="deepseek-v4-pro",
        outcome="ok",
        input_tokens=1200,
        output_tokens=300,
        prompt="a logged prompt " * 20 if logged else None,
        answer="a logged answer " * 30 if logged else None,
    )
    conn = store.connect(path)
    try:
        started = time.perf_counter()
        for _ in range(count):
            store.insert(conn, [row])
        return (time.perf_counter() - started) / count
    finally:
        conn.close()


def index_cost(tmp: Path, n: int, now: datetime, rounds: int = 7) -> None:
    """What ``calls_logged`` costs: build time, file size, and single inserts into the full
    ledger (alternating between the two ledgers, the median of ``rounds``)."""
    added = ("calls_logged",)
    homes = {"with": tmp / "cost-with", "without": tmp / "cost-without"}
    build_s, size = {}, {}
    for name, home in homes.items():
        home.mkdir()
        build_s[name] = build(home, n, now, without=() if name == "with" else added)
        size[name] = (home / "usage.db").stat().st_size
    inserts: dict[tuple[str, bool], list[float]] = {}
    for _ in range(rounds):
        for name, home in homes.items():
            for logged in (True, False):
                seconds = single_inserts(home / "usage.db", 300, logged=logged)
                inserts.setdefault((name, logged), []).append(seconds)
    print(f"\nindex cost ({', '.join(added)}), {n:,} rows, of which ~10% logged")
    print(
        f"{'':<8} {'build s':>8} {'us/row':>7} {'file MiB':>9}"
        f" {'insert ms (logged)':>19} {'insert ms (not logged)':>23}"
    )
    for name, home in homes.items():
        logged = statistics.median(inserts[(name, True)]) * 1000
        plain = statistics.median(inserts[(name, False)]) * 1000
        print(
            f"{name:<8} {build_s[name]:>8.2f} {build_s[name] / n * 1e6:>7.2f}"
            f" {size[name] / 2**20:>9.1f} {logged:>19.3f} {plain:>23.3f}"
        )
        shutil.rmtree(home)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7, help="measured runs per command (>= 3)")
    parser.add_argument("--keep", type=Path, help="build the ledger in DIR and leave it there")
    parser.add_argument("--index-cost", action="store_true", help="measure the added indexes")
    options = parser.parse_args()
    runs = max(options.runs, 3)
    now = datetime.now(UTC)

    tmp = Path(tempfile.mkdtemp(prefix="deepseek-ledger-"))
    try:
        home = options.keep or tmp / "home"
        home.mkdir(parents=True, exist_ok=True)
        if (home / "usage.db").exists():
            print(f"using the ledger in {home}", file=sys.stderr)
        else:
            print(f"building {options.rows:,} rows...", file=sys.stderr, flush=True)
            seconds = build(home, options.rows, now)
            print(f"built in {seconds:.1f} s", file=sys.stderr)
        size = (home / "usage.db").stat().st_size
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DEEPSEEK", "_DEEPSEEK", "COMP_", "_TYPER"))
        }
        env["DEEPSEEK_CLI_HOME"] = str(home)
        ds = deepseek_argv()
        cases = {
            "usage": ["usage"],
            "usage --since all": ["usage", "--since", "all"],
            "usage --since all --by day": ["usage", "--since", "all", "--by", "day"],
            "usage calls": ["usage", "calls"],
            f"usage calls -m {COMMON_MODEL}": ["usage", "calls", "-m", COMMON_MODEL],
            f"usage calls -m {RARE_MODEL}": ["usage", "calls", "-m", RARE_MODEL],
            "usage calls --command batch --limit 20": [
                *("usage", "calls", "--command", "batch", "--limit", "20"),
            ],
            f"usage calls --grep {RARE_WORD} --since all": [
                *("usage", "calls", "--grep", RARE_WORD, "--since", "all"),
            ],
            "usage calls --prompts --since all": ["usage", "calls", "--prompts", "--since", "all"],
        }
        names = list(cases)
        times: dict[str, list[float]] = {name: [] for name in names}
        codes: dict[str, set[int]] = {name: set() for name in names}
        for argv in cases.values():  # warm the page cache and the .pyc files
            run([*ds, *argv], env)
        for round_no in range(runs):
            shift = round_no % len(names)
            for name in names[shift:] + names[:shift]:
                elapsed, code = run([*ds, *cases[name]], env)
                times[name].append(elapsed)
                codes[name].add(code)

        print(f"ledger of {options.rows:,} calls, {size / 2**20:.0f} MiB; {machine()}")
        print(f"wall time of a fresh process, stdout piped; median and min of {runs} runs")
        print(f"{'command':<48} {'median':>8} {'min':>8}")
        for name in names:
            values = [t * 1000 for t in times[name]]
            failed = "" if codes[name] == {0} else f"  exit {sorted(codes[name])}"
            print(
                f"deepseek {name:<39} {statistics.median(values):>6.0f}ms "
                f"{min(values):>6.0f}ms{failed}"
            )
        started = time.perf_counter()
        run([*ds, "--help"], env)
        print(f"(start-up alone, deepseek --help: {(time.perf_counter() - started) * 1000:.0f} ms)")
        if options.index_cost:
            index_cost(tmp, options.rows, now)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
