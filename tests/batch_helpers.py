"""Helpers for the batch tests: inputs, server scripts and the exactly-once oracle.

Prompts are ``prompt for <id>`` and the echo server answers ``echo:<prompt>``, so the oracle can
tell an answer paired with the wrong request, and every request the server saw can be mapped
back to its id.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fakeserver import Recorded, Reply, echo, json_reply, last_user_text

PREFIX = "prompt for "


# The fields of a success record in batch run's (and batch fetch's) output file, in order
# (a record without tool calls has exactly these).
RECORD_KEYS = [
    "id",
    "model",
    "served_model",
    "answer",
    "reasoning",
    "finish_reason",
    "usage",
    "cost",
    "request_id",
    "latency_ms",
    "attempts",
]
OUTPUT_FIELDS = set(RECORD_KEYS)


def make_input(path: Path, n: int, *, start: int = 0, extra: dict | None = None) -> dict[str, str]:
    """``n`` simple lines ``{"id": "q<i>", "prompt": "prompt for q<i>"}``; returns id -> prompt."""
    prompts = {f"q{i}": f"{PREFIX}q{i}" for i in range(start, start + n)}
    with path.open("w") as fh:
        for item_id, prompt in prompts.items():
            fh.write(json.dumps({"id": item_id, "prompt": prompt, **(extra or {})}) + "\n")
    return prompts


def id_of(request: Recorded) -> str | None:
    text = last_user_text(request.json)
    return text[len(PREFIX) :] if text.startswith(PREFIX) else None


def requested_ids(server: Any, start: int = 0, end: int | None = None) -> list[str]:
    return [i for r in server.requests[start:end] if (i := id_of(r)) is not None]


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every line of a records file; each must be complete JSON (the file ends with \\n)."""
    if not path.exists():
        return []
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), f"{path.name} does not end with a newline"
    return [json.loads(line) for line in data.splitlines()]


def answer_of(record: dict[str, Any]) -> str:
    if "response" in record:
        return record["response"]["body"]["choices"][0]["message"]["content"]
    return record["answer"]


def check_exactly_once(
    prompts: dict[str, str], output: Path, errors: Path, *, fmt: str = "native"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The oracle: every valid id exactly once across output and errors, no unknown ids, every
    line parses, every answer belongs to its own prompt."""
    key = "custom_id" if fmt == "openai" else "id"
    outs, errs = read_records(output), read_records(errors)
    ids = [r[key] for r in outs] + [r[key] for r in errs if r.get(key) is not None]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"ids recorded twice: {duplicates[:5]}"
    missing, unknown = sorted(set(prompts) - set(ids)), sorted(set(ids) - set(prompts))
    assert not missing and not unknown, f"missing {missing[:5]}, unknown {unknown[:5]}"
    for record in outs:
        assert answer_of(record) == "echo:" + prompts[record[key]], record
    return outs, errs


def deepseek_error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return json_reply(
        {
            "error": {
                "message": message,
                "type": "error",
                "param": None,
                "code": "invalid_request_error",
            }
        },
        status,
        headers,
    )


Step = Reply | Callable[[Recorded], Reply]


class Script:
    """Per-id behaviour: the k-th request for an id gets ``steps[id][k]``, later ones ``then``.

    ``delay`` is added to every echo (the handler runs on the server's loop and must not
    sleep itself).
    """

    def __init__(
        self,
        steps: dict[str, list[Step]] | None = None,
        *,
        delay: float = 0.0,
        then: Callable[[Recorded], Reply] = echo,
    ) -> None:
        self.steps = steps or {}
        self.delay = delay
        self.then = then
        self.counts: dict[str | None, int] = defaultdict(int)
        self._lock = threading.Lock()

    def __call__(self, request: Recorded) -> Reply:
        item_id = id_of(request)
        with self._lock:
            n = self.counts[item_id]
            self.counts[item_id] += 1
        steps = self.steps.get(item_id or "", [])
        if n < len(steps):
            step = steps[n]
            return step(request) if callable(step) else step
        reply = self.then(request)
        if self.delay:
            reply.delay = self.delay
        return reply


def windows(times: list[float], width: float) -> int:
    """The most events in any window of ``width`` seconds."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


def line_count(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _high_water_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for row in status:
                if row.startswith("VmHWM:"):
                    return int(row.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_measured(cli: Any, *args: str, timeout: float = 60) -> tuple[int, str, str, int]:
    """Run the CLI and also return its peak RSS in KiB.

    Read from ``VmHWM`` while it runs: ``ru_maxrss`` would also count the pages the child
    shared with this (large) pytest process between fork and exec.
    """
    out_path = cli.home / ".measured.out"
    err_path = cli.home / ".measured.err"
    peak = 0
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            cli.command(*args),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=cli.env,
            cwd=cli.home,
        )
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            peak = max(peak, _high_water_kib(proc.pid))
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError("timed out")
            time.sleep(0.002)
    stdout, stderr = out_path.read_text(), err_path.read_text()
    out_path.unlink()
    err_path.unlink()
    cli.outputs += [stdout, stderr]
    return proc.returncode, stdout, stderr, peak
