"""Tool turns against llama-server: the history the tool loop sends, read by a real parser.

SmolLM2 (135M) does not call tools, even with ``tool_choice = "required"`` under a tool-call
chat template (tried with llama.cpp 0.3.36's server), so the model's side of the loop is the
fake provider's (tests/test_tool_loop.py). What a real server can check is the other side:
a resumed chat whose history holds an assistant turn with ``tool_calls`` and its
``reasoning_content``, a ``tool`` result answering it, and the MCP tools offered as function
tools, all in one request that llama.cpp's own message and tool parsers must accept.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.realserver

CALC = Path(__file__).resolve().parent.parent / "mcp_servers" / "calc_server.py"


def session_with_a_tool_exchange(name: str) -> dict[str, object]:
    call = {"id": "call_1", "name": "calc__add", "arguments": '{"a": 2, "b": 3}'}
    return {
        "name": name,
        "created": "2026-12-01T10:00:00Z",
        "turns": [
            {
                "prompt": "What is 2+3?",
                "answer": "It is 5.",
                "thinking": "the tool said 5",
                "profile": "think",
                "model": "smollm2",
                "status": "ok",
                "steps": [
                    {
                        "role": "assistant",
                        "content": "",
                        "reasoning": "I should add",
                        "tool_calls": [call],
                    },
                    {"role": "tool", "content": "5", "tool_call_id": "call_1"},
                ],
                "ts": "2026-12-01T10:00:00Z",
            }
        ],
    }


def test_a_resumed_chat_with_tool_turns_and_tools_is_accepted(cli, think):
    config = cli.home / "config.toml"
    config.write_text(
        config.read_text()
        + f"\n[mcp.calc]\ncommand = {json.dumps(sys.executable)}\n"
        + f"args = [{json.dumps(str(CALC))}]\n"
    )
    sessions = cli.home / "sessions"
    sessions.mkdir(mode=0o700, exist_ok=True)
    path = sessions / "tools.json"
    path.write_text(json.dumps(session_with_a_tool_exchange("tools")))
    path.chmod(0o600)

    result = cli.run(
        "chat",
        "--session",
        "tools",
        "--tool",
        "calc",
        "--yes",
        "--max-steps",
        "2",
        input="Thanks. And 3+4?\n",
    )
    assert result.code == 0, result.stderr
    rows = cli.ledger_rows()
    assert rows and all(row["outcome"] == "ok" for row in rows), rows
    # what the server received is what the ledger logged (log_prompts): the new prompt
    assert rows[0]["prompt"] == "Thanks. And 3+4?"
    saved = json.loads(path.read_text())
    assert len(saved["turns"]) == 2
    assert saved["turns"][0]["steps"][0]["tool_calls"][0]["id"] == "call_1"  # kept as it was
