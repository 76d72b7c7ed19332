"""``deepseek ask`` driven as a user drives it: a subprocess against the local server."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys

import pytest
from batch_helpers import wait_for
from conftest import ASK_JSON_FIELDS, CANARY_DEEPSEEK
from fakeserver import (
    Reply,
    http_fixture,
    json_reply,
    native_stream,
    openai_stream,
    sse_fixture,
    sse_reply,
)


def body(cli, index=-1):
    return cli.server.requests[index].json


# --- output shape ---------------------------------------------------------------------------


def test_piped_output_is_exactly_the_answer_plus_newline(cli):
    cli.server.enqueue(openai_stream(answer=["Hello", ", **world**"], thinking=["secret plan"]))
    result = cli.run("ask", "hi")
    assert result.code == 0
    assert result.stdout == "Hello, **world**\n"
    assert "secret plan" not in result.stdout
    assert "\x1b" not in result.stdout


def test_thinking_goes_to_stderr_only_when_asked(cli):
    cli.server.enqueue(openai_stream(answer=["A"], thinking=["pondering"]))
    assert "pondering" not in cli.run("ask", "hi").stderr
    cli.server.enqueue(openai_stream(answer=["A"], thinking=["pondering"]))
    shown = cli.run("ask", "--show-thinking", "hi")
    assert "pondering" in shown.stderr and shown.stdout == "A\n"


def test_answer_that_already_ends_with_newline_gets_no_extra(cli):
    cli.server.enqueue(openai_stream(answer=["line\n"]))
    assert cli.run("ask", "hi").stdout == "line\n"


def test_stdin_is_appended_after_a_blank_line(cli):
    result = cli.run("ask", "review", "this", input="diff --git a b\n+x\n")
    assert result.code == 0
    messages = body(cli)["messages"]
    assert messages == [{"role": "user", "content": "review this\n\ndiff --git a b\n+x"}]
    assert result.stdout == "echo:review this\n\ndiff --git a b\n+x\n"


def test_empty_prompt_exits_2_and_sends_nothing(cli):
    result = cli.run("ask", input="   \n")
    assert result.code == 2
    assert "empty prompt" in result.stderr
    assert cli.server.requests == []


def test_json_envelope(cli):
    cli.server.enqueue(openai_stream(answer=["4"], thinking=["2+2"], usage_placement="finish"))
    result = cli.run("ask", "--json", "2+2?")
    assert result.code == 0
    data = json.loads(result.stdout)
    assert set(data) == ASK_JSON_FIELDS
    assert (data["answer"], data["reasoning"], data["finish_reason"]) == ("4", "2+2", "stop")
    assert data["usage"] == {
        "input_tokens": 11,
        "cached_tokens": 3,
        "output_tokens": 7,
        "reasoning_tokens": 2,
        "total_tokens": 18,
    }
    assert data["cost"]["currency"] == "USD" and data["cost"]["amount"] > 0
    assert (data["profile"], data["provider"]) == ("ds", "deepseek")


def test_usage_line_on_request(cli):
    result = cli.run("ask", "-u", "hi")
    assert "11 in" in result.stderr and "7 out" in result.stderr and "$" in result.stderr


def test_unknown_price_stays_unknown(cli):
    # A DashScope snapshot id whose sources disagree has no price in the catalog.
    result = cli.run("ask", "-p", "dsc", "-m", "deepseek-v4-pro-0813", "--json", "hi")
    assert json.loads(result.stdout)["cost"] is None


def test_closed_pipe_ends_quietly(cli):
    cli.server.enqueue(openai_stream(answer=["x" * 1000 + "\n"] * 200, delay=0.001))
    cmd = " ".join(cli.command("ask", "hi")) + " | head -c 10"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", cmd],
        capture_output=True,
        env=cli.env,
        cwd=cli.home,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"x" * 10
    assert done.stderr == b""


# --- request bodies per provider and flag -----------------------------------------------------


def test_deepseek_body_for_thinking_flags(cli):
    cli.run(
        "ask",
        "--think",
        "--effort",
        "max",
        "-t",
        "0.3",
        "--max-tokens",
        "100",
        "--stop",
        "END",
        "-s",
        "be brief",
        "hi",
    )
    sent = body(cli)
    assert sent["thinking"] == {"type": "enabled"}
    assert sent["reasoning_effort"] == "max"
    assert sent["temperature"] == 0.3 and sent["max_tokens"] == 100 and sent["stop"] == ["END"]
    assert sent["messages"][0] == {"role": "system", "content": "be brief"}
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert "enable_thinking" not in sent
    cli.run("ask", "--no-think", "hi")
    assert body(cli)["thinking"] == {"type": "disabled"}


def test_dashscope_compat_body(cli):
    result = cli.run(
        "ask", "-p", "dsc", "--think", "--budget", "2048", "--effort", "xhigh", "--search", "hi"
    )
    sent = body(cli)
    assert cli.server.requests[-1].path == "/compatible-mode/v1/chat/completions"
    assert sent["enable_thinking"] is True and sent["thinking_budget"] == 2048
    assert sent["reasoning_effort"] == "max" and sent["enable_search"] is True
    assert "thinking" not in sent
    assert "'xhigh' is sent as 'max'" in result.stderr


def test_dashscope_native_body(cli):
    cli.run("ask", "-p", "dsn", "--no-think", "-x", "top_k=20", "-x", "seed=7", "hi")
    request = cli.server.requests[-1]
    assert request.path == "/api/v1/services/aigc/text-generation/generation"
    sent = request.json
    assert sent["model"] == "deepseek-v4-pro"
    assert sent["input"]["messages"] == [{"role": "user", "content": "hi"}]
    assert sent["parameters"]["enable_thinking"] is False
    assert sent["parameters"]["top_k"] == 20 and sent["parameters"]["seed"] == 7
    assert request.headers["authorization"].startswith("Bearer ")


def test_generic_openai_server_body(cli):
    result = cli.run(
        "ask",
        "-p",
        "oai",
        "--effort",
        "low",
        "--think",
        "-x",
        'chat_template_kwargs={"thinking": true}',
        "hi",
    )
    sent = body(cli)
    assert sent["model"] == "local-model" and sent["reasoning_effort"] == "low"
    # --think as llama.cpp, vLLM and SGLang read it, merged with the raw -x arguments.
    assert sent["chat_template_kwargs"] == {"enable_thinking": True, "thinking": True}
    assert "thinking" not in sent and "enable_thinking" not in sent
    assert result.code == 0 and "thinking switch" not in result.stderr


def test_json_object_warns_without_json_in_prompt(cli):
    result = cli.run("ask", "--json-object", "give me a dict")
    assert body(cli)["response_format"] == {"type": "json_object"}
    assert "should mention JSON" in result.stderr
    assert "should mention JSON" not in cli.run("ask", "--json-object", "as JSON please").stderr


def test_prefix_uses_the_beta_endpoint_and_a_prefix_message(cli):
    result = cli.run("ask", "--prefix", "```python\n", "write hello world")
    assert result.code == 0
    assert cli.server.requests[-1].path == "/beta/chat/completions"
    assert body(cli)["messages"][-1] == {
        "role": "assistant",
        "content": "```python\n",
        "prefix": True,
    }


def test_suffix_uses_fim(cli):
    result = cli.run("ask", "--suffix", "    return a", "def fib(a):")
    assert result.code == 0
    assert cli.server.requests[-1].path == "/beta/completions"
    assert body(cli)["suffix"] == "    return a" and body(cli)["prompt"] == "def fib(a):"
    assert result.stdout == "echo:def fib(a):\n"


def test_prefix_on_dashscope_is_a_usage_error(cli):
    result = cli.run("ask", "-p", "dsc", "--prefix", "x", "hi")
    assert result.code == 2 and "needs the DeepSeek API" in result.stderr
    assert cli.server.requests == []


def test_impossible_setting_gives_a_notice_and_goes_out_without_it(cli):
    cli.write_config(f"""
    [profiles.r1]
    provider = "dashscope"
    base_url = "{cli.server.url}/compatible-mode/v1"
    model = "deepseek-r1"
    """)
    result = cli.run("ask", "-p", "r1", "--no-think", "hi")
    assert result.code == 0
    assert "deepseek-r1 always thinks; --no-think ignored" in result.stderr
    assert "enable_thinking" not in body(cli)


def test_deprecated_model_warns_with_replacement_and_still_sends(cli):
    result = cli.run("ask", "-p", "dsc", "-m", "deepseek-v3.2", "hi")
    assert result.code == 0
    assert "deepseek-v3.2 was retired on 2026-10-10 (" in result.stderr
    assert "; use deepseek-v4-flash or deepseek-v4-pro" in result.stderr
    assert body(cli)["model"] == "deepseek-v3.2"


def test_profile_request_defaults_and_flags_override_them(cli):
    cli.write_config(f"""
    [profiles.tuned]
    provider = "deepseek"
    base_url = "{cli.server.url}"
    thinking = false
    temperature = 1.3
    system = "You are terse."
    extra_body = {{ user_id = "u1" }}
    """)
    cli.run("ask", "-p", "tuned", "hi")
    sent = body(cli)
    assert sent["thinking"] == {"type": "disabled"} and sent["temperature"] == 1.3
    assert sent["messages"][0]["content"] == "You are terse." and sent["user_id"] == "u1"
    cli.run("ask", "-p", "tuned", "-t", "0", "--think", "hi")
    assert body(cli)["temperature"] == 0 and body(cli)["thinking"] == {"type": "enabled"}


def test_env_selects_profile_and_model(cli):
    cli.run(
        "ask", "hi", env={"DEEPSEEK_CLI_PROFILE": "dsc", "DEEPSEEK_CLI_MODEL": "deepseek-v4-flash"}
    )
    assert cli.server.requests[-1].path.startswith("/compatible-mode/")
    assert body(cli)["model"] == "deepseek-v4-flash"
    cli.run("ask", "-m", "deepseek-flash", "hi", env={"DEEPSEEK_CLI_MODEL": "deepseek-v4-flash"})
    assert body(cli)["model"] == "deepseek-flash"


def test_openai_environment_never_leaks_in(cli):
    elsewhere = "http://127.0.0.1:9/v1"
    result = cli.run(
        "ask",
        "hi",
        env={
            "OPENAI_BASE_URL": elsewhere,
            "OPENAI_API_KEY": "sk-wrong",
            "OPENAI_ORG_ID": "org-x",
            "OPENAI_CUSTOM_HEADERS": "X-Leak: 1",
        },
    )
    assert result.code == 0
    headers = cli.server.requests[-1].headers
    assert headers["authorization"] == f"Bearer {CANARY_DEEPSEEK}"
    assert "openai-organization" not in headers and "x-leak" not in headers


def test_no_stream_sends_a_plain_request(cli):
    result = cli.run("ask", "--no-stream", "hi")
    assert body(cli)["stream"] is False and result.stdout == "echo:hi\n"
    result = cli.run("ask", "-p", "dsn", "--no-stream", "hi")
    assert "x-dashscope-sse" not in cli.server.requests[-1].headers
    assert result.stdout == "echo:hi\n"


# --- files -----------------------------------------------------------------------------------


def test_file_contents_are_added(cli):
    (cli.home / "notes.md").write_text("# Notes\nbuy milk\n")
    result = cli.run("ask", "-f", "notes.md", "summarise")
    assert result.code == 0
    content = body(cli)["messages"][0]["content"]
    assert content.startswith("summarise\n\nnotes.md:\n```\n# Notes\nbuy milk\n```")


@pytest.mark.parametrize(
    "name,data",
    [
        ("blob.bin", b"\x00\x01\x02binary"),
        (".env", b"TOKEN=abc\n"),
        ("key.txt", b"-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"),
    ],
)
def test_binary_and_secret_files_are_refused_unless_forced(cli, name, data):
    (cli.home / name).write_bytes(data)
    refused = cli.run("ask", "-f", name, "look")
    assert refused.code == 2 and "--force" in refused.stderr
    assert cli.server.requests == []
    assert cli.run("ask", "-f", name, "--force", "look").code == 0


# --- retries and failures --------------------------------------------------------------------


def test_retry_before_output_then_success(cli):
    cli.server.enqueue(
        http_fixture("errors/deepseek_429_concurrency.http", headers={"retry-after-ms": "50"}),
        http_fixture("errors/deepseek_503_server_overloaded.http", headers={"retry-after": "0"}),
    )
    result = cli.run("ask", "hi")
    assert result.code == 0 and result.stdout == "echo:hi\n"
    assert len(cli.server.requests) == 3
    assert "retrying" in result.stderr
    assert cli.server.requests[2].started - cli.server.requests[0].started >= 0.05


def test_retries_are_bounded_then_exit_69(cli):
    for _ in range(3):
        cli.server.enqueue(
            http_fixture(
                "errors/dashscope_compat_500_internal_error.http", headers={"retry-after-ms": "10"}
            )
        )
    result = cli.run("ask", "-p", "dsc", "hi")
    assert result.code == 69
    assert len(cli.server.requests) == 3
    assert result.stderr.strip().splitlines()[-1].startswith("error: provider error: An internal")


def test_no_retry_after_output_was_shown(cli):
    cli.server.enqueue(
        openai_stream(answer=["partial ", "answer"], finish=None, done=False, reset=True)
    )
    result = cli.run("ask", "hi")
    assert result.code == 69
    assert result.stdout == "partial answer\n"
    assert len(cli.server.requests) == 1
    assert "answer cut off" in result.stderr and "mid-stream" in result.stderr
    assert "check the base URL" not in result.stderr


def test_retry_after_too_long_gives_up_with_a_hint(cli):
    cli.server.enqueue(
        http_fixture("errors/deepseek_429_concurrency.http", headers={"retry-after": "600"})
    )
    result = cli.run("ask", "hi")
    assert result.code == 69 and "wait 600 s" in result.stderr
    assert len(cli.server.requests) == 1


def test_first_token_deadline_with_keepalives(cli):
    cli.write_config(f"""
    [profiles.slow]
    provider = "deepseek"
    base_url = "{cli.server.url}"
    first_token_timeout = 2
    max_attempts = 1
    """)
    # The deadline runs from the start of the attempt, which includes the SDK's first-call
    # set-up; 2 s leaves room for that on a busy machine (at 0.5 s the request sometimes
    # never went out, and the test passed without a single keep-alive being sent).
    cli.server.enqueue(sse_reply([": keep-alive\n\n"] * 300, delay=0.1))  # 30 s of them
    result = cli.run("ask", "-p", "slow", "hi")
    assert result.code == 69 and "first-token deadline" in result.stderr, result.stderr
    assert len(cli.server.requests) == 1
    request = cli.server.requests[0]
    wait_for(lambda: request.ended is not None)
    # On the server's clock: the client hung up ~2 s into 30 s of keep-alives.
    assert request.gone is not None and request.gone - request.started < 8


def test_timeout_flag_sets_the_total_deadline(cli):
    # Tokens flow for 10 s; the first must arrive within the deadline (which includes the
    # SDK's first-call set-up), so the deadline is the total one, not the first-token one.
    cli.server.enqueue(openai_stream(answer=["x"] * 200, delay=0.05))
    result = cli.run("ask", "--timeout", "2", "hi")
    assert result.code == 69 and "total deadline" in result.stderr, result.stderr
    assert result.stdout.startswith("x")


# --- one test per exit code ------------------------------------------------------------------


def test_exit_0(cli):
    assert cli.run("ask", "hi").code == 0


def test_exit_2_unknown_flag(cli):
    result = cli.run("ask", "--no-such-flag", "hi")
    assert result.code == 2 and cli.server.requests == []


def test_exit_2_bad_effort_value(cli):
    result = cli.run("ask", "--effort", "extreme", "hi")
    assert result.code == 2 and "--effort must be one of" in result.stderr


def test_exit_65_request_rejected(cli):
    cli.server.enqueue(http_fixture("errors/dashscope_native_400_invalid_parameter.http"))
    result = cli.run("ask", "-p", "dsn", "hi")
    assert result.code == 65
    line = result.stderr.strip().splitlines()[-1]
    assert "Role must be user or assistant" in line
    assert "request a5898c04-d210-901b-965f-e4bd90478805" in line
    assert result.stdout == ""


@pytest.mark.parametrize("body", [b"", b"404 page not found"])
def test_wrong_native_base_url_names_the_url_and_the_expected_path(cli, body):
    # A native profile pointed at a host without /api/v1: the server knows no such path.
    cli.write_config(f"""
    [profiles.wrong]
    provider = "dashscope"
    api = "native"
    base_url = "{cli.server.url}/v1"
    """)
    cli.server.enqueue(Reply(404, {"content-type": "text/plain"}, body))
    result = cli.run("ask", "-p", "wrong", "hi")
    assert result.code == 65
    assert result.stderr.strip() == (
        "error: request rejected: no DashScope endpoint at "
        f"{cli.server.url}/v1/services/aigc/text-generation/generation (HTTP 404); "
        "a native profile's base_url ends in /api/v1, e.g. "
        "https://dashscope-intl.aliyuncs.com/api/v1 (compatible mode: .../compatible-mode/v1)"
    )
    assert len(cli.server.requests) == 1  # not retried


def test_exit_69_unreachable(cli):
    cli.write_config("""
    [profiles.dead]
    provider = "openai"
    base_url = "http://127.0.0.1:9/v1"
    max_attempts = 1
    """)
    result = cli.run("ask", "-p", "dead", "hi")
    assert result.code == 69 and "cannot reach 127.0.0.1:9" in result.stderr


def test_exit_77_dashscope_401_with_region_hint(cli):
    cli.server.enqueue(http_fixture("errors/dashscope_compat_401_invalid_api_key.http"))
    result = cli.run("ask", "-p", "dsc", "hi")
    assert result.code == 77
    assert "region" in result.stderr and "b02e047c-ca07-98df-ae99-d211d0990216" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(cli.server.requests) == 1


def test_exit_77_insufficient_balance(cli):
    cli.server.enqueue(http_fixture("errors/deepseek_402_insufficient_balance.http"))
    result = cli.run("ask", "hi")
    assert result.code == 77 and "top up" in result.stderr


def test_exit_78_bad_toml_leaves_file_untouched(cli):
    path = cli.write_config(f'[profiles.x]\nprovider = "deepseek"\napi_key = "{CANARY_DEEPSEEK}\n')
    before = (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_ino)
    result = cli.run("ask", "hi")
    assert result.code == 78
    assert f"{path}:3:" in result.stderr
    assert (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_ino) == before
    cli.outputs.append(result.stderr)


def test_exit_78_unknown_profile(cli):
    result = cli.run("ask", "-p", "nope", "hi")
    assert result.code == 78 and "unknown profile 'nope'" in result.stderr


def test_exit_78_missing_key_names_env_and_region(cli):
    env = {**cli.env}
    env.pop("DASHSCOPE_API_KEY")
    done = subprocess.run(
        cli.command("ask", "-p", "cn", "hi"),
        capture_output=True,
        env=env,
        cwd=cli.home,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 78
    assert b"DASHSCOPE_API_KEY" in done.stderr and b"Beijing" in done.stderr


def test_exit_78_key_in_world_readable_config(cli):
    cli.write_config(
        f"""
    [profiles.filekey]
    provider = "deepseek"
    base_url = "{cli.server.url}"
    api_key_env = "UNSET_VARIABLE"
    api_key = "sk-file-key-0000000000000000"
    """,
        mode=0o644,
    )
    result = cli.run("ask", "-p", "filekey", "hi")
    assert result.code == 78 and "chmod 600" in result.stderr
    assert cli.server.requests == []
    (cli.home / "config.toml").chmod(0o600)
    assert cli.run("ask", "-p", "filekey", "hi").code == 0
    assert cli.server.requests[-1].headers["authorization"] == "Bearer sk-file-key-0000000000000000"


def interrupt_mid_answer(cli, sig):
    """Send ``sig`` once the answer is streaming (its first words are on stdout); the stream
    has ~10 s left, so the signal lands mid-answer. Returns the result and the request."""
    cli.server.enqueue(openai_stream(answer=["tick "] * 200, delay=0.05))
    proc = cli.spawn("ask", "hi")
    cli.wait_output(proc, "tick")
    result = cli.finish(proc, sig)
    request = cli.server.requests[0]
    wait_for(lambda: request.ended is not None)
    return result, request


def test_exit_130_on_ctrl_c(cli):
    result, request = interrupt_mid_answer(cli, signal.SIGINT)
    assert result.code == 130, result.stderr
    assert "tick" in result.stdout and "Traceback" not in result.stderr
    assert request.gone is not None  # it hung up mid-stream, not after the answer was done


def test_exit_143_on_sigterm(cli):
    result, request = interrupt_mid_answer(cli, signal.SIGTERM)
    assert result.code == 143, result.stderr
    assert "Traceback" not in result.stderr
    assert request.gone is not None


def test_exit_1_internal_error_points_to_debug_and_redacts(cli):
    """G3: a bug while a key is loaded (the openai SDK raises an unexpected exception whose
    message holds the client's key): exit 1, a pointer to --debug, and no key anywhere."""
    fault = cli.sdk_fault("chat-create-raises")
    plain = cli.run("ask", "hi", env=fault)
    assert plain.code == 1, plain.stderr
    assert plain.stdout == ""
    line = plain.stderr.strip().splitlines()[-1]
    assert line.startswith("error: internal error: RuntimeError: bug while holding [REDACTED]")
    assert "--debug" in line and "Traceback" not in plain.stderr
    debug = cli.run("ask", "--debug", "hi", env=fault)
    assert debug.code == 1, debug.stderr
    assert "Traceback (most recent call last)" in debug.stderr
    assert "RuntimeError: bug while holding [REDACTED]" in debug.stderr
    for result in (plain, debug):
        assert CANARY_DEEPSEEK not in result.stderr and "CANARY" not in result.stderr
    assert cli.server.requests == []  # the fault fired inside the SDK, before sending


def test_key_echoed_by_the_server_is_redacted(cli):
    cli.server.enqueue(
        json_reply(
            {
                "error": {
                    "message": f"Incorrect API key provided: {CANARY_DEEPSEEK}",
                    "type": "x",
                    "code": "invalid_api_key",
                }
            },
            status=401,
        )
    )
    result = cli.run("ask", "--debug", "hi")
    assert result.code == 77 and "[REDACTED]" in result.stderr


# --- ledger ----------------------------------------------------------------------------------


def test_every_call_appends_a_ledger_row(cli):
    cli.server.enqueue(openai_stream(answer=["ok"], usage_placement="finish"))
    cli.run("ask", "hi")
    cli.server.enqueue(http_fixture("errors/deepseek_401_authentication_fails.http"))
    cli.run("ask", "hi")
    cli.run("ask", "-p", "dsn", "hi")
    rows = cli.ledger_rows()
    assert [r["outcome"] for r in rows] == ["ok", "auth", "ok"]
    first = rows[0]
    assert (first["command"], first["profile"], first["provider"], first["model"]) == (
        "ask",
        "ds",
        "deepseek",
        "deepseek-v4-pro",
    )
    assert (
        first["input_tokens"],
        first["cached_tokens"],
        first["output_tokens"],
        first["reasoning_tokens"],
    ) == (11, 3, 7, 2)
    assert first["currency"] == "USD" and first["cost"] > 0
    assert first["request_id"] and first["latency_ms"] >= 0 and first["attempts"] == 1
    assert first["prompt"] is None and first["answer"] is None
    native = rows[2]
    assert native["region"] == "intl" and native["currency"] == "USD"
    # Singapore's deepseek-v4-pro: 0.2 (cache hit) / 2.4 (input) / 4.8 (output) USD per 1M.
    uncached = native["input_tokens"] - native["cached_tokens"]
    hand = (native["cached_tokens"] * 0.2 + uncached * 2.4 + native["output_tokens"] * 4.8) / 1e6
    assert native["cost"] == pytest.approx(hand)
    db = cli.home / "usage.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_prompts_are_logged_only_when_configured(cli):
    text = (cli.home / "config.toml").read_text()
    cli.write_config("log_prompts = true\n" + text)
    cli.run("ask", "remember me")
    row = cli.ledger_rows()[-1]
    assert row["prompt"] == "remember me" and row["answer"] == "echo:remember me"


def test_ledger_failure_warns_but_keeps_the_answer(cli):
    (cli.home / "usage.db").mkdir()
    result = cli.run("ask", "hi")
    assert result.code == 0 and result.stdout == "echo:hi\n"
    assert "usage not recorded" in result.stderr


# --- start-up --------------------------------------------------------------------------------


def test_help_does_not_import_the_sdks(cli):
    code = (
        "import sys, runpy; sys.argv=['deepseek','--help'];\n"
        "try:\n    runpy.run_module('deepseek_cli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('openai','dashscope','httpx2','aiohttp') if m in sys.modules))"
    )
    for args in (["--help"], ["ask", "--help"]):
        done = subprocess.run(
            [sys.executable, "-c", code.replace("'--help'", repr(args)[1:-1])],
            capture_output=True,
            text=True,
            env=cli.env,
            check=False,
        )
        assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_native_stream_with_thinking_through_the_cli(cli):
    cli.server.enqueue(native_stream(answer=["Hi", "!"], thinking=["hmm"]))
    result = cli.run("ask", "-p", "dsn", "--show-thinking", "hi")
    assert result.stdout == "Hi!\n" and "hmm" in result.stderr


def test_truncated_stream_exits_69_after_retries_exhausted(cli):
    for _ in range(3):
        cli.server.enqueue(openai_stream(answer=[], finish=None, done=True))
    result = cli.run("ask", "hi")
    assert result.code == 69 and "without a finish reason" in result.stderr
    assert len(cli.server.requests) == 3


def test_keepalive_fixture_end_to_end(cli):
    cli.server.enqueue(sse_fixture("openai_compat/deepseek_thinking_stream_keepalive.sse"))
    result = cli.run("ask", "count")
    assert result.stdout == "1, 2, 3, …, 10\n"
    assert "keep-alive" not in result.stdout


def test_wrong_key_file_mode_not_needed_for_env_key(cli):
    os.chmod(cli.home / "config.toml", 0o644)
    assert cli.run("ask", "hi").code == 0


def test_a_server_silent_after_its_first_tokens_hits_the_idle_deadline(cli):
    cli.write_config(f"""
    [profiles.idle]
    provider = "deepseek"
    base_url = "{cli.server.url}"
    idle_timeout = 0.5
    max_attempts = 1
    """)
    cli.server.enqueue(openai_stream(answer=["Hel"], finish=None, done=False, keep_open=30))
    result = cli.run("ask", "-p", "idle", "hi")
    assert result.code == 69, result.stderr
    assert "idle deadline" in result.stderr
    request = cli.server.requests[0]
    wait_for(lambda: request.ended is not None)
    # On the server's clock: the client hung up ~0.5 s into 30 s of silence.
    assert request.gone is not None and request.gone - request.started < 3.5


def test_a_slow_first_token_is_not_an_idle_timeout(cli):
    # llama-server on 2 cores: headers at once, then 22 s of prompt processing. Scaled down:
    # 1.5 s of silence against an idle limit of 0.3 s, then the answer.
    cli.write_config(f"""
    [profiles.slow]
    provider = "openai"
    base_url = "{cli.server.url}/v1"
    model = "local"
    idle_timeout = 0.3
    max_attempts = 1
    """)
    reply = openai_stream(answer=["fine"])
    head, *rest = reply.chunks
    reply.chunks = [(1.5, head[1]), *rest]
    cli.server.enqueue(reply)
    result = cli.run("ask", "-p", "slow", "hi")
    assert result.code == 0, result.stderr
    assert result.stdout == "fine\n" and len(cli.server.requests) == 1


def test_oversized_stdin_exits_65_without_sending(cli):
    result = cli.run("ask", "summarise", input=b"a" * (8 * 1024 * 1024 + 1))
    assert result.code == 65 and "larger than 8 MiB" in result.stderr
    assert cli.server.requests == []


def test_non_utf8_stdin_exits_65(cli):
    result = cli.run("ask", "summarise", input=b"ok \xff\xfe bytes")
    assert result.code == 65 and "not UTF-8" in result.stderr
    assert cli.server.requests == []


def test_untrusted_certificate_fails_at_once_without_retries(cli, tmp_path):
    from fakeserver import FakeServer, self_signed_context

    tls = FakeServer(ssl_context=self_signed_context(tmp_path))
    try:
        cli.write_config(f"""
        [profiles.tls]
        provider = "deepseek"
        base_url = "{tls.url}"
        """)
        result = cli.run("ask", "-p", "tls", "hi")
    finally:
        tls.close()
    assert result.code == 69
    assert "TLS failed" in result.stderr and "SSL_CERT_FILE" in result.stderr
    assert "retrying" not in result.stderr
