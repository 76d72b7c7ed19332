"""Every command that prints JSON (and ``batch estimate``'s text) ends quietly, exit 0, when
the reader of stdout has gone: ``deepseek ask --json ... | head -c 1`` must not end in a
traceback or an "internal error"."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from fakeserver import openai_stream


def run_into_closed_pipe(cli, *args: str):
    """Run the CLI with stdout a pipe whose reader is already gone (``| head`` after its
    first byte, without depending on when ``head`` exits)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            cli.command(*args),
            input=b"",
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=cli.env,
            cwd=cli.home,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    stderr = done.stderr.decode("utf-8", "replace")
    cli.outputs.append(stderr)
    return done.returncode, stderr


def test_ask_json_into_a_closed_pipe_exits_0_quietly(cli):
    cli.server.enqueue(openai_stream(answer=["4"], usage_placement="finish"))
    code, stderr = run_into_closed_pipe(cli, "ask", "--json", "2+2?")
    assert (code, stderr) == (0, "")
    assert len(cli.server.requests) == 1  # it was answered; only the printing had no reader


@pytest.mark.parametrize(
    "args",
    [
        ["models", "--json"],
        ["models", "show", "deepseek-v4-pro", "--json"],
        ["usage", "--json"],
        ["config", "show", "--json"],
        ["config", "profiles", "--json"],
        ["batch", "estimate", "in.jsonl", "--json"],
        ["batch", "estimate", "in.jsonl"],
    ],
    ids=" ".join,
)
def test_json_commands_into_a_closed_pipe_exit_0_quietly(cli, args):
    (cli.home / "in.jsonl").write_text(json.dumps({"id": "q", "prompt": "hello"}) + "\n")
    code, stderr = run_into_closed_pipe(cli, *args)
    assert code == 0, stderr
    assert "Traceback" not in stderr and "Error" not in stderr
