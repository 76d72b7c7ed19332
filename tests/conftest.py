"""Shared fixtures: a fake provider server, an isolated home, and the CLI run as a user would.

Every CLI run goes through :class:`Cli`, which remembers all output; at teardown the canary
keys must appear nowhere: not in stdout, stderr, or any file under the test's home.

A spawned CLI is watched through :meth:`Cli.wait_output` (block until a text appears on its
stdout or stderr), never through fixed sleeps.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakeserver import FakeServer

# A ``sitecustomize`` that makes a third-party SDK misbehave inside the child (see its file).
SDK_FAULTS = Path(__file__).parent / "sdk_faults"

# A run started in the background by a non-interactive shell (``pytest ... &``, some CI
# runners) has SIGINT ignored, and every CLI it starts would inherit that: Python then sets no
# KeyboardInterrupt handler, so ``ask`` rightly ignores Ctrl-C and the SIGINT tests fail. The
# CLIs must start as under a terminal: a handled signal (unlike an ignored one) is reset to
# the default on exec.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    with contextlib.suppress(ValueError):  # not the main thread: leave it
        signal.signal(signal.SIGINT, signal.default_int_handler)

CANARY_DEEPSEEK = "sk-CANARY-deepseek-5f1c0e9a7b3d4c2e8f6a1b0c9d8e7f6a"
CANARY_DASHSCOPE = "sk-CANARY-dashscope-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"
CANARIES = (CANARY_DEEPSEEK, CANARY_DASHSCOPE)

# The fields of the object ``ask --json`` prints (DESIGN's contract, plus served_model).
ASK_JSON_FIELDS = {
    "profile",
    "provider",
    "model",
    "served_model",
    "answer",
    "reasoning",
    "finish_reason",
    "usage",
    "cost",
    "request_id",
    "latency_ms",
    "ttft_ms",
}


def canary_pieces(text: str) -> list[str]:
    """Every 12-character substring of a canary that occurs in ``text``."""
    found = []
    for canary in CANARIES:
        for i in range(len(canary) - 11):
            if canary[i : i + 12] in text:
                found.append(canary[i : i + 12])
    return found


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    elapsed: float  # test-side wall clock, start-up included: for messages, never for asserts


PROBE = """
import json, sys
sys.argv = ["deepseek", *json.loads(sys.argv[1])]
try:
    from deepseek_cli.__main__ import main
    main()
except SystemExit:
    pass
print("\\nPROBE " + json.dumps(REPORT))
"""


class Cli:
    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.env = env
        self.outputs: list[str] = []
        self._early: dict[int, tuple[bytearray, bytearray]] = {}

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "deepseek_cli", *args]

    def run(
        self,
        *args: str,
        input: str | bytes | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> Result:
        return self.run_argv(self.command(*args), input=input, env=env, timeout=timeout)

    def run_argv(
        self,
        argv: list[str],
        *,
        input: str | bytes | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> Result:
        """Any command (a shell wrapping the CLI, a probe script) in the test's home and
        environment; its output is checked for keys like the CLI's."""
        started = time.monotonic()
        data = input.encode() if isinstance(input, str) else input
        done = subprocess.run(
            argv,
            input=data if data is not None else b"",
            capture_output=True,
            env={**self.env, **(env or {})},
            timeout=timeout,
            cwd=self.home,
            check=False,
        )
        result = Result(
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
            time.monotonic() - started,
        )
        self.outputs += [result.stdout, result.stderr]
        return result

    def spawn(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.command(*args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**self.env, **(env or {})},
            cwd=self.home,
        )

    def wait_output(
        self,
        proc: subprocess.Popen[bytes],
        text: str,
        stream: str = "stdout",
        timeout: float = 30,
    ) -> str:
        """Block until ``text`` has appeared on the spawned CLI's ``stream``; returns what that
        stream said so far. Both pipes are drained meanwhile (a full pipe would stall the
        child), and :meth:`finish` still returns everything."""
        early = self._early.setdefault(proc.pid, (bytearray(), bytearray()))
        pipes = {proc.stdout.fileno(): early[0], proc.stderr.fileno(): early[1]}
        wanted = early[0] if stream == "stdout" else early[1]
        needle = text.encode()
        deadline = time.monotonic() + timeout
        while needle not in wanted:
            left = deadline - time.monotonic()
            if left <= 0 or not pipes:
                said = bytes(wanted).decode("utf-8", "replace")
                raise AssertionError(f"{text!r} never appeared on {stream}; it said: {said!r}")
            ready, _, _ = select.select(list(pipes), [], [], left)
            for fd in ready:
                data = os.read(fd, 65536)
                if data:
                    pipes[fd] += data
                else:
                    del pipes[fd]  # that stream ended
        return bytes(wanted).decode("utf-8", "replace")

    def finish(
        self, proc: subprocess.Popen[bytes], sig: int | None = None, timeout: float = 30
    ) -> Result:
        started = time.monotonic()
        if sig is not None:
            proc.send_signal(sig)
        out, err = proc.communicate(timeout=timeout)
        early_out, early_err = self._early.pop(proc.pid, (b"", b""))
        result = Result(
            proc.returncode,
            (bytes(early_out) + out).decode("utf-8", "replace"),
            (bytes(early_err) + err).decode("utf-8", "replace"),
            time.monotonic() - started,
        )
        self.outputs += [result.stdout, result.stderr]
        return result

    def sdk_fault(self, fault: str) -> dict[str, str]:
        """Environment for a child whose SDK misbehaves as ``fault`` (``sdk_faults/``)."""
        path = os.pathsep.join(p for p in (str(SDK_FAULTS), self.env.get("PYTHONPATH")) if p)
        return {"PYTHONPATH": path, "TEST_SDK_FAULT": fault}

    def run_into_closed_pipe(self, *args: str) -> tuple[int, str]:
        """Run the CLI with stdout a pipe whose reader is already gone (``| head`` after its
        first byte, without depending on when ``head`` exits); (exit code, stderr)."""
        read_end, write_end = os.pipe()
        os.close(read_end)  # every write now fails with EPIPE
        try:
            done = subprocess.run(
                self.command(*args),
                stdin=subprocess.DEVNULL,
                stdout=write_end,
                stderr=subprocess.PIPE,
                env=self.env,
                cwd=self.home,
                timeout=60,
                check=False,
            )
        finally:
            os.close(write_end)
        stderr = done.stderr.decode("utf-8", "replace")
        self.outputs.append(stderr)
        return done.returncode, stderr

    def probe(self, report: str, *args: str, env: dict[str, str] | None = None) -> Any:
        """Run the CLI in-process, as the console script does, with ``args``; then evaluate
        ``report`` (Python, e.g. which modules ``sys.modules`` holds) in that process and
        return its value (through JSON)."""
        script = PROBE.replace("REPORT", report)
        done = self.run_argv([sys.executable, "-c", script, json.dumps(args)], env=env)
        marker = [line for line in done.stdout.splitlines() if line.startswith("PROBE ")]
        assert marker, done.stdout + done.stderr
        return json.loads(marker[-1].removeprefix("PROBE "))

    def ledger_rows(self) -> list[dict[str, Any]]:
        """Every row of the usage ledger under this home, oldest first, as dicts."""
        conn = sqlite3.connect(self.home / "usage.db")
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute("SELECT * FROM calls ORDER BY id")]
        finally:
            conn.close()

    def write_config(self, text: str, mode: int = 0o600) -> Path:
        path = self.home / "config.toml"
        path.write_text(textwrap.dedent(text))
        path.chmod(mode)
        return path


def base_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DEEPSEEK", "DASHSCOPE", "OPENAI", "FORCE_COLOR", "NO_COLOR"))
    }
    env.update(
        {
            "DEEPSEEK_CLI_HOME": str(home),
            "HOME": str(home),
            "TERM": "dumb",
            "DEEPSEEK_API_KEY": CANARY_DEEPSEEK,
            "DASHSCOPE_API_KEY": CANARY_DASHSCOPE,
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "100",
        }
    )
    return env


def profiles_toml(url: str) -> str:
    return f"""
    default_profile = "ds"

    [profiles.ds]
    provider = "deepseek"
    base_url = "{url}"

    [profiles.dsc]
    provider = "dashscope"
    base_url = "{url}/compatible-mode/v1"

    [profiles.dsn]
    provider = "dashscope"
    api = "native"
    base_url = "{url}/api/v1"

    [profiles.oai]
    provider = "openai"
    base_url = "{url}/v1"
    model = "local-model"
    """


@pytest.fixture
def server():
    srv = FakeServer()
    yield srv
    srv.close()


@pytest.fixture
def cli(tmp_path, server):
    home = tmp_path / "home"
    home.mkdir()
    runner = Cli(home, base_env(home))
    runner.write_config(profiles_toml(server.url))
    runner.server = server
    yield runner
    leaks = [p for text in runner.outputs for p in canary_pieces(text)]
    for path in home.rglob("*"):
        if path.is_file() and path.name != "config.toml":
            leaks += canary_pieces(path.read_bytes().decode("utf-8", "replace"))
    assert not leaks, f"API key material leaked: {leaks[:3]}"


__all__ = [
    "ASK_JSON_FIELDS",
    "CANARIES",
    "CANARY_DASHSCOPE",
    "CANARY_DEEPSEEK",
    "Cli",
    "Result",
    "canary_pieces",
    "signal",
]
