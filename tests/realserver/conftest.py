"""The real-server tier: llama.cpp's ``llama-server`` with a tiny model, on 127.0.0.1.

Every other test talks to our own fake server, which only does what we thought a server does.
Here the CLI meets a server nobody here wrote: its streaming, reasoning parser, error bodies and
timing. ``provision.sh`` (beside this file) builds the server and fetches the weights once into
the user cache dir; without them the tier is skipped with the reason, unless
``DEEPSEEK_REAL_SERVER=required`` (CI) makes that a failure.

Servers are started lazily, one of each kind per test process (so per xdist worker), each on
its own free port, and stopped at the end of the session; they also die with the test process
(``PR_SET_PDEATHSIG``, where ``setpriv`` exists), so a killed run leaves no server behind.

Tests use the ``cli`` fixture of ``tests/conftest.py`` (its canary-key checks included), with a
config whose ``provider = "openai"`` profiles point at these servers.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import CANARY_DEEPSEEK

HERE = Path(__file__).parent
THINK_TEMPLATE = HERE / "think.jinja"
PROVISION = HERE / "provision.sh"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
STARTUP_LIMIT = 60.0  # seconds: the model loads in about one on an idle machine
# The keyed server's key is a canary: the fixture's leak check then covers it too.
SERVER_KEY = CANARY_DEEPSEEK

# Every kind shares the model, one thread (the model is tiny; two workers share two cores),
# a fixed seed, and no web UI.
COMMON = ("-t", "1", "--seed", "1", "--no-webui", "--metrics")
# A template that opens <think> at the generation prompt, plus a reasoning budget small enough
# that SmolLM2's short answers still get past it into the answer.
THINKING = ("--jinja", "--chat-template-file", str(THINK_TEMPLATE), "--reasoning-budget", "4")
KINDS: dict[str, tuple[str, ...]] = {
    # reasoning_content parsed out by the server, as DeepSeek's own API streams it
    "think": (*THINKING, "--reasoning-format", "deepseek", "-c", "2048", "-np", "2"),
    # no reasoning parser: <think>...</think> arrives inline in content (item 3); 2048 tokens per
    # slot leave room for the long-prompt test
    "inline": (*THINKING, "--reasoning-format", "none", "-c", "4096", "-np", "2"),
    # demands a key, and a context small enough to overflow with a paragraph
    "keyed": ("--api-key", SERVER_KEY, "-c", "256", "-np", "1"),
}


def cache_dir() -> Path:
    """Where provision.sh puts the server and the weights (same rule as the script)."""
    if explicit := os.environ.get("DEEPSEEK_TEST_CACHE"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "deepseek-cli-tests"


def find_provisioned() -> tuple[Path, Path] | str:
    """(server binary, model) or why they cannot be used."""
    cache = cache_dir()
    if env_server := os.environ.get("LLAMA_SERVER"):
        server = Path(env_server)
    else:
        # provision.sh names the directory after the llama-cpp-python release it builds from
        release = re.search(r"^LLAMA_CPP_PYTHON=(\S+)$", PROVISION.read_text(), re.MULTILINE)
        assert release, f"no LLAMA_CPP_PYTHON= line in {PROVISION}"
        server = cache / f"llama-server-{release.group(1)}" / "llama-server"
    model = Path(os.environ.get("LLAMA_MODEL") or cache / MODEL_FILE)
    missing = [str(p) for p in (server, model) if not p.is_file()]
    if missing:
        return (
            f"llama-server not provisioned (missing {', '.join(missing)}): "
            "run tests/realserver/provision.sh (builds it once, ~15 min on 2 cores)"
        )
    if not os.access(server, os.X_OK):
        return f"{server} is not executable"
    return server, model


def dying_with_us(argv: list[str]) -> list[str]:
    """``argv`` sent SIGTERM when this process dies, however it dies (util-linux's setpriv
    sets PR_SET_PDEATHSIG, which survives its exec; no preexec_fn in a threaded process)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *argv] if setpriv else argv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LlamaServer:
    kind: str
    port: int
    model: Path
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.root}/v1"

    @property
    def served_model(self) -> str:
        """What this server names its model: the path it loaded (no ``--alias`` given)."""
        return str(self.model)

    def get(self, path: str, key: str | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.root + path)
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def metric(self, name: str) -> float:
        """One counter of ``/metrics`` (e.g. ``n_decode_total``: moves with every request)."""
        status, body = self.get("/metrics")
        assert status == 200, body
        found = re.search(rf"^llamacpp:{name} (\S+)$", body.decode(), re.MULTILINE)
        assert found, f"no {name} in /metrics"
        return float(found.group(1))

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class Servers:
    """The servers of this test process, started on first use."""

    def __init__(self, binary: Path, model: Path, logs: Path) -> None:
        self.binary = binary
        self.model = model
        self.logs = logs
        self.running: dict[str, LlamaServer] = {}
        self.private: list[LlamaServer] = []

    def get(self, kind: str) -> LlamaServer:
        if kind not in self.running:
            self.running[kind] = self._start(kind)
        return self.running[kind]

    def start_private(self, kind: str) -> LlamaServer:
        """A server no other test shares (for one a test may kill); stopped at the end."""
        server = self._start(kind)
        self.private.append(server)
        return server

    def _start(self, kind: str) -> LlamaServer:
        port = free_port()
        log = self.logs / f"llama-{kind}-{port}.log"
        argv = [str(self.binary), "-m", str(self.model), "--host", "127.0.0.1"]
        argv += ["--port", str(port), *COMMON, *KINDS[kind]]
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                dying_with_us(argv),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        server = LlamaServer(kind, port, self.model, proc, log)
        deadline = time.monotonic() + STARTUP_LIMIT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"llama-server ({kind}) exited {proc.returncode}:\n{server.log_tail()}")
            with contextlib.suppress(OSError):
                status, body = server.get("/health")
                if status == 200 and json.loads(body).get("status") == "ok":
                    return server
            time.sleep(0.05)  # polling a starting process: nothing to wait on instead
        self._stop(server)
        limit = f"{STARTUP_LIMIT:.0f} s"
        pytest.fail(f"llama-server ({kind}) not ready in {limit}:\n{server.log_tail()}")

    @staticmethod
    def _stop(server: LlamaServer) -> None:
        if server.proc.poll() is None:
            server.proc.terminate()
            try:
                server.proc.wait(10)
            except subprocess.TimeoutExpired:
                server.proc.kill()
                server.proc.wait(10)

    def close(self) -> None:
        for server in [*self.running.values(), *self.private]:
            self._stop(server)
        self.running.clear()
        self.private.clear()


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    found = find_provisioned()
    if isinstance(found, str):
        if os.environ.get("DEEPSEEK_REAL_SERVER") == "required":
            pytest.fail(f"DEEPSEEK_REAL_SERVER=required, but {found}", pytrace=False)
        pytest.skip(found)
    servers = Servers(*found, tmp_path_factory.mktemp("llama-logs"))
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture(scope="session")
def think(llama: Servers) -> LlamaServer:
    return llama.get("think")


@pytest.fixture(scope="session")
def inline(llama: Servers) -> LlamaServer:
    return llama.get("inline")


@pytest.fixture(scope="session")
def keyed(llama: Servers) -> LlamaServer:
    return llama.get("keyed")


def profile(name: str, base_url: str, **fields: object) -> str:
    # greedy, and short answers: the model writes 20-50 tokens/s on one thread
    values: dict[str, object] = {"provider": "openai", "base_url": base_url, "model": "smollm2"}
    values |= {"temperature": 0, "max_tokens": 30, **fields}
    lines = [f"[profiles.{name}]", *(f"{k} = {json.dumps(v)}" for k, v in values.items())]
    return "\n".join(lines) + "\n"


def real_config(servers: Servers) -> str:
    """Profiles for the servers running now (session fixtures start before ``cli``)."""
    parts = ['default_profile = "think"', "log_prompts = true", ""]
    running = servers.running
    if "think" in running:
        parts.append(profile("think", running["think"].url))
        # a path the server does not serve: its API is under /v1
        parts.append(profile("wrongpath", running["think"].root + "/api"))
    if "inline" in running:
        parts.append(profile("inline", running["inline"].url))
        parts.append(profile("slowprompt", running["inline"].url, idle_timeout=1, max_tokens=12))
    if "keyed" in running:
        parts.append(profile("keyed", running["keyed"].url, api_key_env="DEEPSEEK_API_KEY"))
        parts.append(profile("keyless", running["keyed"].url))
    return "\n".join(parts)


@pytest.fixture
def cli(cli, llama: Servers):
    """The shared ``cli`` fixture, configured for the real servers."""
    cli.write_config(real_config(llama))
    cli.llama = llama
    return cli
