"""What llama-server refuses, as the user sees it: one line on stderr, the documented exit code.

Its error bodies (saved in tests/fixtures/llamacpp/) carry ``code`` as an integer and a
standard ``type``; the hints the tool adds on top are issue 11 item 7 and 9.
"""

from __future__ import annotations

import json

import pytest

from .conftest import SERVER_KEY, LlamaServer, Servers

pytestmark = pytest.mark.realserver

# About 430 tokens: more than the keyed server's 256-token context.
TOO_LONG = "word " * 400


def one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_a_path_the_server_does_not_serve_is_rejected_in_one_line(cli, think):
    result = cli.run("ask", "-p", "wrongpath", "hi")
    assert result.code == 65, result.stderr
    line = one_error_line(result.stderr)
    assert "File Not Found" in line  # the server's own message
    assert cli.ledger_rows()[-1]["outcome"] != "ok"


def test_a_path_the_server_does_not_serve_gets_a_hint_about_v1(cli, think):
    line = one_error_line(cli.run("ask", "-p", "wrongpath", "hi").stderr)
    assert "/v1" in line
    assert "404, 404" not in line


def test_a_prompt_longer_than_the_context_is_rejected_in_one_line(cli, keyed):
    result = cli.run("ask", "-p", "keyed", TOO_LONG)
    assert result.code == 65, result.stderr
    line = one_error_line(result.stderr)
    assert "exceeds the available context size (256 tokens)" in line


def test_a_prompt_longer_than_the_context_gets_a_hint(cli, keyed):
    line = one_error_line(cli.run("ask", "-p", "keyed", TOO_LONG).stderr)
    assert "/clear" in line
    assert "400, 400" not in line


def test_the_servers_key_is_sent_and_never_shown(cli, keyed):
    # the server's key is the canary in DEEPSEEK_API_KEY: the fixture checks every output
    result = cli.run("ask", "-p", "keyed", "--json", "Say hello.")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["answer"].strip()
    shown = cli.run("config", "show", "-p", "keyed")
    assert shown.code == 0, shown.stderr
    assert SERVER_KEY not in shown.stdout


def test_a_keyless_profile_on_a_keyed_server_exits_77_in_one_line(cli, keyed):
    result = cli.run("ask", "-p", "keyless", "hi")
    assert result.code == 77, result.stderr
    assert "Invalid API Key" in one_error_line(result.stderr)


def test_a_wrong_key_exits_77_in_one_line(cli, keyed):
    result = cli.run("ask", "-p", "keyed", "hi", env={"DEEPSEEK_API_KEY": "sk-not-the-servers"})
    assert result.code == 77, result.stderr
    line = one_error_line(result.stderr)
    assert "Invalid API Key" in line
    assert "sk-not-the-servers" not in line


def test_a_keyless_profile_is_told_to_set_api_key_env(cli, keyed):
    line = one_error_line(cli.run("ask", "-p", "keyless", "hi").stderr)
    assert "api_key_env" in line


def test_a_batch_stopped_by_401_says_the_items_remain(cli, keyed, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"q{i}", "prompt": "hi"}) + "\n" for i in range(3)))
    result = cli.run("batch", "run", str(src), "-p", "keyless")
    assert result.code == 77, result.stderr
    assert "Traceback" not in result.stderr
    assert "nothing left to send" not in result.stderr


def test_a_server_killed_mid_answer_is_an_answer_cut_off(cli, llama: Servers, keyed):
    # A server of its own, since this test kills it; the keyed profile points at it.
    doomed: LlamaServer = llama.start_private("keyed")
    config = cli.home / "config.toml"
    cli.write_config(config.read_text().replace(keyed.url, doomed.url))
    proc = cli.spawn("ask", "-p", "keyed", "--max-tokens", "200", "Tell me a long story.")
    cli.wait_output(proc, " ", timeout=60)  # the answer has started
    doomed.proc.kill()
    doomed.proc.wait(10)
    result = cli.finish(proc)
    assert result.code not in (0, 1), result.stderr
    assert result.stdout  # what arrived stays printed
    line = result.stderr.splitlines()[-1]
    assert "cut off" in line, result.stderr
    assert "Traceback" not in result.stderr
    [row] = cli.ledger_rows()
    assert row["output_tokens"] > 0
    assert row["usage_estimated"] == 1
