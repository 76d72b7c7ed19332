"""Every command that prints JSON (and ``batch estimate``'s text) ends quietly, exit 0, when
the reader of stdout has gone: ``deepseek ask --json ... | head -c 1`` must not end in a
traceback or an "internal error". (``models`` has its own cases in ``test_models``.)"""

from __future__ import annotations

import json

import pytest
from fakeserver import openai_stream


def test_ask_json_into_a_closed_pipe_exits_0_quietly(cli):
    cli.server.enqueue(openai_stream(answer=["4"], usage_placement="finish"))
    code, stderr = cli.run_into_closed_pipe("ask", "--json", "2+2?")
    assert (code, stderr) == (0, "")
    assert len(cli.server.requests) == 1  # it was answered; only the printing had no reader


@pytest.mark.parametrize(
    "args",
    [
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
    code, stderr = cli.run_into_closed_pipe(*args)
    assert code == 0, stderr
    assert "Traceback" not in stderr and "Error" not in stderr
