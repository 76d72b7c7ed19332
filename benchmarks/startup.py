"""Start-up time of the CLI: median wall time of repeated fresh processes.

Usage: python benchmarks/startup.py [--runs N]

Each command runs in a new process with an isolated DEEPSEEK_CLI_HOME; the figure is the
median wall time, which is what a user waits for. Target: <= 150 ms for ``deepseek --help``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = {
    "deepseek --help": ["--help"],
    "deepseek ask --help": ["ask", "--help"],
    "deepseek --version": ["--version"],
}


def measure(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "deepseek_cli", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "DEEPSEEK_CLI_HOME": home}
        measure(["--help"], env, 2)  # warm the page cache and .pyc files
        print(f"{'command':<28} {'median':>9} {'min':>9} {'max':>9}   (runs={options.runs})")
        for name, args in COMMANDS.items():
            times = measure(args, env, options.runs)
            print(
                f"{name:<28} {statistics.median(times) * 1000:>7.1f}ms "
                f"{min(times) * 1000:>7.1f}ms {max(times) * 1000:>7.1f}ms"
            )


if __name__ == "__main__":
    main()
