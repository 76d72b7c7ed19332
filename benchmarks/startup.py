"""Start-up time of the CLI against llm's: median wall time of repeated fresh processes.

Usage:
    python benchmarks/startup.py [--runs N] [--llm PATH/TO/llm]

Measures, alternately in the same run (round-robin, the order rotating every round, so a busy
moment of the machine hits every command alike):

- ``deepseek --help``
- ``deepseek models``           piped (the catalog table as plain text)
- ``deepseek models`` on a pty  (the Rich table a terminal gets)
- ``deepseek usage``            piped, over a ledger of 2,000 calls
- a TAB completion request      (``deepseek ask -m deepseek-<TAB>`` as bash asks it)
- ``llm --help``                llm 0.x, the peer with the same shape (Python, Click)

Without ``--llm`` the script creates a temporary venv and installs llm from PyPI into it
(that takes a minute, once). Each deepseek run gets an isolated DEEPSEEK_CLI_HOME and llm an
isolated LLM_USER_PATH. Targets: every deepseek median <= 150 ms and >= 3x faster than
``llm --help``. The figure is the median wall time of a new process, which is what a user waits
for; min and max show the spread.
"""

from __future__ import annotations

import argparse
import os
import pty
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TARGET_MS = 150.0
TARGET_RATIO = 3.0


def deepseek_argv() -> list[str]:
    script = Path(sys.executable).with_name("deepseek")
    return [str(script)] if script.exists() else [sys.executable, "-m", "deepseek_cli"]


def make_llm_venv(root: Path) -> Path:
    print("installing llm into a temporary venv (once)...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
    pip = root / "bin" / "pip"
    subprocess.run([str(pip), "install", "--quiet", "llm"], check=True)
    return root / "bin" / "llm"


def fill_ledger(home: Path, rows: int) -> None:
    from datetime import UTC, datetime, timedelta

    from deepseek_cli.ledger import store as ledger

    now = datetime.now(UTC)
    conn = ledger.connect(home / "usage.db")
    try:
        ledger.insert(
            conn,
            [
                ledger.LedgerRow(
                    command="ask" if i % 3 else "batch",
                    profile=("intl", "deepseek", "cn")[i % 3],
                    provider="deepseek" if i % 3 == 1 else "dashscope",
                    region=None,
                    model=("deepseek-v4-pro", "deepseek-flash")[i % 2],
                    outcome="ok",
                    input_tokens=1200,
                    cached_tokens=300,
                    output_tokens=400,
                    reasoning_tokens=250,
                    cost=0.0012 if i % 3 == 1 else None,
                    currency="USD" if i % 3 == 1 else None,
                    ts=(now - timedelta(minutes=20 * i)).isoformat(timespec="milliseconds"),
                )
                for i in range(rows)
            ],
        )
    finally:
        conn.close()


def run_piped(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,  # a failing command is still timed; the test suite checks behaviour
    )
    return time.perf_counter() - started


def run_on_pty(argv: list[str], env: dict[str, str]) -> float:
    """Like ``run_piped`` but stdout is a terminal (drained by a thread so it never blocks)."""
    master, slave = pty.openpty()

    def drain() -> None:
        try:
            while os.read(master, 65536):
                pass
        except OSError:
            pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    started = time.perf_counter()
    subprocess.run(
        argv,
        env={**env, "TERM": "xterm-256color", "COLUMNS": "160"},
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    elapsed = time.perf_counter() - started
    os.close(slave)
    reader.join(5)
    os.close(master)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11, help="measured runs per command (>= 7)")
    parser.add_argument("--llm", type=Path, help="an llm executable (default: install one)")
    options = parser.parse_args()
    runs = max(options.runs, 7)

    with tempfile.TemporaryDirectory(prefix="deepseek-startup-") as tmp:
        tmp_path = Path(tmp)
        llm = options.llm or make_llm_venv(tmp_path / "llm-venv")
        home = tmp_path / "home"
        home.mkdir()
        fill_ledger(home, 2000)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DEEPSEEK", "_DEEPSEEK", "COMP_", "_TYPER"))
        }
        env.update(DEEPSEEK_CLI_HOME=str(home), LLM_USER_PATH=str(tmp_path / "llm-home"))
        tab = {
            **env,
            "_DEEPSEEK_COMPLETE": "complete_bash",
            "COMP_WORDS": "deepseek ask -m deepseek-",
            "COMP_CWORD": "3",
        }
        ds = deepseek_argv()
        cases = {
            "deepseek --help": (run_piped, [*ds, "--help"], env),
            "deepseek models": (run_piped, [*ds, "models"], env),
            "deepseek models (tty)": (run_on_pty, [*ds, "models"], env),
            "deepseek usage": (run_piped, [*ds, "usage"], env),
            "completion request (TAB)": (run_piped, ds, tab),
            "llm --help": (run_piped, [str(llm), "--help"], env),
        }
        names = list(cases)
        times: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(2):  # warm the page cache and the .pyc files
            for runner, argv, case_env in cases.values():
                runner(argv, case_env)
        for round_no in range(runs):
            shift = round_no % len(names)
            for name in names[shift:] + names[:shift]:
                runner, argv, case_env = cases[name]
                times[name].append(runner(argv, case_env))

    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    llm_ms = medians["llm --help"]
    python = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    print(f"start-up, median of {runs} runs each, measured alternately (Python {python})")
    print(f"{'command':<27} {'median':>8} {'min':>8} {'max':>8} {'vs llm':>8}  target")
    ok_all = True
    for name in names:
        values = [t * 1000 for t in times[name]]
        median = medians[name]
        if name == "llm --help":
            verdict, ratio = "(reference)", "1.0x"
        else:
            ok = median <= TARGET_MS and llm_ms / median >= TARGET_RATIO
            ok_all &= ok
            verdict = "ok" if ok else f"MISSED (<= {TARGET_MS:.0f} ms, >= {TARGET_RATIO:.0f}x)"
            ratio = f"{llm_ms / median:.1f}x"
        print(
            f"{name:<27} {median:>6.1f}ms {min(values):>6.1f}ms {max(values):>6.1f}ms "
            f"{ratio:>8}  {verdict}"
        )
    print("all targets met" if ok_all else "some targets missed")
    shutil.rmtree(tmp_path, ignore_errors=True)


if __name__ == "__main__":
    main()
