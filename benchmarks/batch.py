"""Batch throughput, memory and time to the first request: ``deepseek batch run`` at scale.

Usage: python benchmarks/batch.py [--items 3000] [--concurrency 64] [--rounds 3]
                                  [--memory-lines 400000,4000000] [--after 5]
                                  [--no-memory] [--no-throughput]

Throughput: a zero-latency local server (``tests/fakeserver.py``, its own process) answers
``--items`` requests. Each round runs ``deepseek batch run`` (output file, fsync cadence and
usage ledger on) and a plain ``asyncio`` + ``AsyncOpenAI`` loop with a semaphore at the same
concurrency (non-streaming, answers written to a file), alternately, each as a fresh process.
Reported per tool: end-to-end requests/s (items / wall time, start-up included) and client
CPU ms per request (user + sys of the process, start-up included), each round's ratio, the
median of the rounds. Targets: CPU per request at most 1.2x the plain loop in every round
(1.05x the goal), requests/s at least 0.85x.

Memory: peak RSS (``VmHWM``) and the time from start to the first request the server sees
(the fake server runs in this process, so it knows), for inputs of 400K and 4M lines (~150
bytes each), each fresh and resuming an output that holds a quarter of the ids (1M records
for the 4M input); each run is sent SIGINT ``--after`` seconds after its first request.
Targets: the larger input's peak at most 1.6x the smaller one's, in both cases, and its time
to the first request at most the ratio of the sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROMPT_PAD = "x" * 100


# -- the plain loop (run in its own process) ----------------------------------------------


def plain_loop(url: str, input_path: str, output_path: str, concurrency: int) -> None:
    import openai

    async def main() -> None:
        client = openai.AsyncOpenAI(api_key="sk-bench", base_url=url, max_retries=0)
        semaphore = asyncio.Semaphore(concurrency)
        with open(input_path) as fh:
            prompts = [json.loads(line) for line in fh]
        with open(output_path, "w") as out:

            async def one(item: dict[str, str]) -> None:
                async with semaphore:
                    completion = await client.chat.completions.create(
                        model="deepseek-v4-pro",
                        messages=[{"role": "user", "content": item["prompt"]}],
                    )
                out.write(
                    json.dumps({"id": item["id"], "answer": completion.choices[0].message.content})
                    + "\n"
                )

            await asyncio.gather(*(one(p) for p in prompts))
        await client.close()

    asyncio.run(main())


# -- harness ------------------------------------------------------------------------------


def high_water_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for row in status:
                if row.startswith("VmHWM:"):
                    return int(row.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run(
    cmd: list[str], env: dict[str, str], cwd: Path, *, stop_after: float | None = None
) -> tuple[int, float, float, int, str]:
    """(exit code, wall s, CPU s, peak RSS KiB, stderr tail) of one fresh process."""
    err_path = cwd / ".bench.err"
    started = time.perf_counter()
    with err_path.open("wb") as err:
        proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
        )
        peak = 0
        signalled = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, high_water_kib(proc.pid))
            if (
                stop_after is not None
                and not signalled
                and time.perf_counter() - started > stop_after
            ):
                proc.send_signal(signal.SIGINT)
                signalled = True
            time.sleep(0.01)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    tail = err_path.read_text()[-300:]
    err_path.unlink()
    return proc.returncode, wall, usage.ru_utime + usage.ru_stime, peak, tail


def write_input(path: Path, n: int) -> None:
    with path.open("w") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"item-{i:08d}", "prompt": f"question {i} {PROMPT_PAD}"}))
            fh.write("\n")


def write_done(path: Path, n: int) -> None:
    """An output holding records for the first ``n`` ids, as ``batch run`` writes them."""
    tail = (
        ',"model":"deepseek-v4-pro","answer":"echo:question","reasoning":null,'
        '"finish_reason":"stop","usage":{"input_tokens":11,"cached_tokens":0,"output_tokens":7,'
        '"reasoning_tokens":0,"total_tokens":18},"cost":null,"request_id":"r","latency_ms":1,'
        '"attempts":1}\n'
    )
    with path.open("w") as fh:
        for i in range(n):
            fh.write(f'{{"id":"item-{i:08d}"{tail}')


def start_server() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fakeserver.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


def setup_home(home: Path, url: str) -> dict[str, str]:
    (home / "config.toml").write_text(
        f'default_profile = "bench"\n[profiles.bench]\nprovider = "deepseek"\nbase_url = "{url}"\n'
    )
    # As installed: byte-code caches on (the sandbox sets PYTHONDONTWRITEBYTECODE, which would
    # make every run recompile the CLI's own modules; the SDK's caches already exist).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DEEPSEEK", "OPENAI")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update({"DEEPSEEK_CLI_HOME": str(home), "DEEPSEEK_API_KEY": "sk-bench-0000000000000000"})
    return env


def throughput(args: argparse.Namespace, url: str, home: Path, env: dict[str, str]) -> None:
    input_path = home / "in.jsonl"
    write_input(input_path, args.items)
    ours_cmd = [
        sys.executable, "-m", "deepseek_cli", "batch", "run", str(input_path),
        "-o", str(home / "out.jsonl"), "-j", str(args.concurrency),
    ]  # fmt: skip
    plain_cmd = [
        sys.executable, __file__, "--plain", url, str(input_path), str(home / "plain.jsonl"),
        str(args.concurrency),
    ]  # fmt: skip
    results: dict[str, list[tuple[float, float]]] = {
        "deepseek batch run": [],
        "plain AsyncOpenAI": [],
    }
    for round_no in range(args.rounds):
        for name, cmd in (("deepseek batch run", ours_cmd), ("plain AsyncOpenAI", plain_cmd)):
            for leftover in home.glob("out*.jsonl"):
                leftover.unlink()
            code, wall, cpu, _, tail = run(cmd, env, home)
            if code != 0:
                raise SystemExit(f"{name} failed ({code}): {tail}")
            results[name].append((args.items / wall, cpu * 1000 / args.items))
            print(f"  round {round_no + 1} {name:<20} {args.items / wall:7.1f} req/s "
                  f"{cpu * 1000 / args.items:6.2f} ms CPU/req  ({wall:.2f} s wall)")  # fmt: skip
    print(f"\nmedian of {args.rounds} rounds, {args.items} items, -j {args.concurrency}:")
    medians = {}
    for name, rows in results.items():
        rate = statistics.median(r for r, _ in rows)
        cpu = statistics.median(c for _, c in rows)
        medians[name] = (rate, cpu)
        print(f"  {name:<20} {rate:7.1f} req/s  {cpu:6.2f} ms CPU/req")
    (ours_rate, ours_cpu), (plain_rate, plain_cpu) = medians.values()
    ours, plain = results.values()
    cpu_ratios = [o[1] / p[1] for o, p in zip(ours, plain, strict=True)]
    rate_ratios = [o[0] / p[0] for o, p in zip(ours, plain, strict=True)]
    print(f"  ratio (ours / plain)  {ours_rate / plain_rate:6.2f}x req/s  "
          f"{ours_cpu / plain_cpu:6.2f}x CPU/req (medians)")  # fmt: skip
    print("  per round, CPU/req: " + " ".join(f"{r:.2f}x" for r in cpu_ratios)
          + "; req/s: " + " ".join(f"{r:.2f}x" for r in rate_ratios))  # fmt: skip
    worst, slowest = max(cpu_ratios), min(rate_ratios)
    print(f"  targets: CPU/req <= 1.2x in every round {'met' if worst <= 1.2 else 'MISSED'} "
          f"(worst {worst:.2f}x; goal 1.05x), req/s >= 0.85x "
          f"{'met' if slowest >= 0.85 else 'MISSED'} (worst {slowest:.2f}x)")  # fmt: skip


def _serve_in_process() -> Any:
    """A fake provider in this process, so the harness sees when the first request arrives."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fakeserver import FakeServer

    return FakeServer()


def _first_request_run(
    cmd: list[str], env: dict[str, str], cwd: Path, server: Any, after: float
) -> tuple[int, float | None, int]:
    """(exit code, seconds to the first request, peak RSS KiB): SIGINT ``after`` s past it."""
    server.requests.clear()
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    peak, first, signalled = 0, None, False
    while True:
        pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, high_water_kib(proc.pid))
        if first is None and server.requests:
            first = server.requests[0].started - started
        if first is not None and not signalled and time.monotonic() - started > first + after:
            proc.send_signal(signal.SIGINT)
            signalled = True
        time.sleep(0.01)
    return os.waitstatus_to_exitcode(status), first, peak


def memory(args: argparse.Namespace, home: Path, env: dict[str, str]) -> None:
    """Peak RSS and time to the first request, fresh and resuming, at each input size."""
    server = _serve_in_process()
    (home / "config.toml").write_text(
        f'default_profile = "bench"\n[profiles.bench]\nprovider = "deepseek"\n'
        f'base_url = "{server.url}"\n'
    )
    sizes = [int(x) for x in args.memory_lines.split(",")]
    print(
        "\npeak RSS (VmHWM) and time to the first request of deepseek batch run, "
        f"-j {args.concurrency}; each run gets SIGINT {args.after:g} s after its first request:"
    )
    rows: dict[tuple[int, str], tuple[int, float]] = {}
    try:
        for n in sizes:
            input_path = home / f"mem{n}.jsonl"
            write_input(input_path, n)
            size = input_path.stat().st_size / 2**20
            out = home / f"mem{n}.out.jsonl"
            cmd = [sys.executable, "-m", "deepseek_cli", "batch", "run", str(input_path),
                   "-o", str(out), "-j", str(args.concurrency)]  # fmt: skip
            done = n // 4
            for case in ("fresh", "resume"):
                out.unlink(missing_ok=True)
                home.joinpath(f"mem{n}.out.errors.jsonl").unlink(missing_ok=True)
                if case == "resume":
                    write_done(out, done)
                code, first, peak = _first_request_run(cmd, env, home, server, args.after)
                if first is None:
                    raise SystemExit(f"{case} run of {n:,} lines sent nothing (exit {code})")
                rows[(n, case)] = (peak, first)
                what = "fresh" if case == "fresh" else f"resume, {done:,} done"
                print(f"  {n:>10,} lines ({size:6.1f} MiB) {what:<22} {peak / 1024:7.1f} MiB  "
                      f"first request after {first:6.2f} s")  # fmt: skip
            input_path.unlink()
            out.unlink(missing_ok=True)
    finally:
        server.close()
    small, large = min(sizes), max(sizes)
    if small == large:
        return
    print(f"  {large:,} / {small:,} lines ({large / small:g}x the input):")
    for case in ("fresh", "resume"):
        (big_peak, big_first), (peak, first) = rows[(large, case)], rows[(small, case)]
        print(
            f"    {case:<7} peak RSS {big_peak / peak:5.2f}x (target <= 1.6x)  time to the "
            f"first request {big_first / first:5.2f}x (target <= {large / small:g}x)"
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--plain":
        plain_loop(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true", help="throughput only")
    parser.add_argument("--memory-lines", default="400000,4000000")
    parser.add_argument("--after", type=float, default=5.0, help="seconds past the first request")
    parser.add_argument("--no-throughput", action="store_true")
    args = parser.parse_args()
    server, url = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            env = setup_home(home, url)
            print(f"server {url} (separate process); python {sys.version.split()[0]}; "
                  f"{os.cpu_count()} CPUs")  # fmt: skip
            if not args.no_throughput:
                throughput(args, url, home, env)
            if not args.no_memory:
                memory(args, home, env)
    finally:
        server.terminate()
        server.wait(5)


if __name__ == "__main__":
    main()
