"""``ask`` against llama-server as a user runs it: piped, on a terminal, ``--json``.

The model is tiny and says odd things even greedily, so model-written text is checked for its
shape (present, where it belongs, equal to what the ledger recorded), never for its words.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
import urllib.request

import pytest
from conftest import ASK_JSON_FIELDS
from ptyterm import Terminal, pump, spawn

pytestmark = pytest.mark.realserver

# A question SmolLM2 answers past the 4-token reasoning budget, so both parts are non-empty.
QUESTION = "What is the capital of France?"


def test_piped_stdout_is_exactly_the_answer(cli, think):
    result = cli.run("ask", "--show-thinking", QUESTION)
    assert result.code == 0, result.stderr
    [row] = cli.ledger_rows()
    assert row["outcome"] == "ok"
    assert row["answer"].strip()
    assert result.stdout == row["answer"] + "\n"
    # the thinking went to stderr (asked for with --show-thinking), not to stdout
    thinking = result.stderr.strip()
    assert thinking
    assert thinking not in result.stdout


def test_json_names_the_served_model_and_leaves_unreported_counts_unknown(cli, think):
    result = cli.run("ask", "--json", QUESTION)
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) == ASK_JSON_FIELDS
    assert (out["profile"], out["provider"], out["model"]) == ("think", "openai", "smollm2")
    # llama-server answers whatever model is asked for and names the file it loaded
    assert out["served_model"] == think.served_model
    listed = json.loads(think.get("/v1/models")[1])["data"]
    assert [m["id"] for m in listed] == [think.served_model]
    assert out["answer"].strip()
    assert out["reasoning"].strip()
    assert out["finish_reason"] == "stop"
    usage = out["usage"]
    # llama.cpp sends no completion_tokens_details: the reasoning count is unknown, not 0
    assert usage["reasoning_tokens"] is None
    assert usage["input_tokens"] > 0
    assert usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert out["cost"] is None  # a local model has no price
    assert out["request_id"]
    [row] = cli.ledger_rows()
    assert (row["model"], row["served_model"]) == ("smollm2", think.served_model)
    assert row["reasoning_tokens"] is None
    assert (row["input_tokens"], row["output_tokens"]) == (
        usage["input_tokens"],
        usage["output_tokens"],
    )


def test_a_terminal_shows_the_thinking_panel_then_the_answer_once(cli, think):
    term = Terminal()
    argv = [sys.executable, "-m", "deepseek_cli", "ask", QUESTION]
    child = spawn(argv, cli.env, str(cli.home), term)
    pump(child, term, until=time.monotonic() + 60)
    child.close()
    cli.outputs.append(term.raw.decode("utf-8", "replace"))
    assert child.exitstatus == 0, "\n".join(term.lines())
    lines = term.lines()
    tops = [i for i, line in enumerate(lines) if line.startswith("╭─ Thinking")]
    assert len(tops) == 1, lines
    bottom = next(i for i in range(tops[0], len(lines)) if lines[i].startswith("╰"))
    assert all(line.startswith("│") for line in lines[tops[0] + 1 : bottom])
    [row] = cli.ledger_rows()
    # below the panel: the answer (Markdown may reflow its whitespace), then the usage line
    below = lines[bottom + 1 :]
    usage = next(i for i, line in enumerate(below) if re.match(r"\d+ in · ", line))
    assert " ".join(below[:usage]).split() == row["answer"].split(), lines
    assert " out · " in " ".join(below[usage:]), lines
    assert term.cursor_visible()


def test_inline_think_from_a_server_without_a_parser_is_thinking_not_answer(cli, inline):
    # The scenario itself: this server leaves the block in content.
    raw = chat_completion(inline.url, QUESTION)
    assert raw["content"].startswith("<think>")
    assert "reasoning_content" not in raw
    result = cli.run("ask", "-p", "inline", "--json", QUESTION)
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["reasoning"].strip()
    assert out["answer"].strip()
    assert "<think>" not in out["answer"]
    assert "</think>" not in out["answer"]
    assert out["served_model"] == inline.served_model
    piped = cli.run("ask", "-p", "inline", QUESTION)
    assert piped.code == 0, piped.stderr
    assert "think>" not in piped.stdout
    assert piped.stdout == cli.ledger_rows()[-1]["answer"] + "\n"


def test_max_tokens_ends_the_answer_with_finish_reason_length(cli, keyed):
    # the keyed server has no thinking template: all three tokens are answer
    result = cli.run("ask", "-p", "keyed", "--json", "--max-tokens", "3", "Tell me about cats.")
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["finish_reason"] == "length"
    assert out["usage"]["output_tokens"] == 3
    assert out["answer"].strip()


def test_max_tokens_cutting_the_answer_is_said_on_stderr(cli, keyed):
    result = cli.run("ask", "-p", "keyed", "--max-tokens", "3", "Tell me about cats.")
    assert result.code == 0, result.stderr
    assert "max_tokens" in result.stderr


def test_max_tokens_spent_on_thinking_alone_is_not_success(cli, think):
    result = cli.run("ask", "--max-tokens", "3", "Tell me about cats.")
    assert result.stdout == ""
    assert result.code not in (0, 1)
    assert "max_tokens" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_long_prompt_waits_for_its_first_token_not_the_idle_limit(cli, inline):
    # llama-server sends its headers at once and nothing until the prompt is processed (one
    # thread: seconds for 1,500 tokens). idle_timeout = 1 must not apply before the first
    # token. Random words keep the prompt out of the server's prompt cache.
    vocabulary = ["river", "stone", "cloud", "table", "music", "paper"]
    words = random.Random(11).choices(vocabulary, k=1500)
    result = cli.run("ask", "-p", "slowprompt", "--json", "Summarise: " + " ".join(words))
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["usage"]["input_tokens"] > 1500
    # the premise: the server was silent for longer than the idle limit before its first token
    assert out["ttft_ms"] > 1000, out


def test_no_think_reaches_the_servers_chat_template(cli, think):
    result = cli.run("ask", "--no-think", "--json", QUESTION)
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    assert not out["reasoning"]
    assert out["answer"].strip()


def chat_completion(base_url: str, prompt: str) -> dict:
    """The server's own message for ``prompt``, bypassing the CLI."""
    body = {"messages": [{"role": "user", "content": prompt}], "max_tokens": 30}
    body["temperature"] = 0
    request = urllib.request.Request(
        base_url + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["choices"][0]["message"]
