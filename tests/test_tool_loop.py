"""The tool loop end to end: the real CLI, a real MCP server (tests/mcp_servers/calc_server.py,
built with the SDK) and the fake provider playing a model that calls tools.

The fake model (``ToolModel``) answers a user message with tool calls, streamed in pieces,
and a tool result with an answer that quotes it; for every kind of profile it refuses, as
DeepSeek does, a request whose tool-call turn comes back without its ``reasoning_content``.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import profiles_toml
from fakeserver import (
    http_fixture,
    native_stream,
    openai_stream,
    reasoning_not_passed_back,
)

CALC = Path(__file__).parent / "mcp_servers" / "calc_server.py"
KINDS = ["ds", "dsc", "dsn", "oai"]


def tools_config(url: str, extra: str = "") -> str:
    return (
        profiles_toml(url)
        + f"""
    [mcp.calc]
    command = {json.dumps(sys.executable)}
    args = [{json.dumps(str(CALC))}]
    timeout = 5
    """
        + extra
    )


def messages_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["input"]["messages"] if "input" in body else body["messages"]


def tools_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body.get("parameters", body).get("tools") or []


def wire_name(body: dict[str, Any], tool: str) -> str:
    """The function name the CLI gave the MCP tool ``tool`` (e.g. add) in this request;
    ``tool`` itself when it was not offered (a model may call anything)."""
    names = [t["function"]["name"] for t in tools_of(body)]
    found = [n for n in names if n.endswith(f"__{tool}")]
    return found[0] if found else tool


@dataclass
class ToolModel:
    """A model that calls ``calls`` (tool, arguments) at once for a new user message, then
    answers ``answer.format(results)`` once the results are in; ``again``: it asks for the
    same calls after every result too (never answers)."""

    calls: list[tuple[str, dict[str, Any]]] = field(
        default_factory=lambda: [("add", {"a": 2, "b": 3})]
    )
    answer: str = "The sum is {0}."
    preface: str = ""  # text of the tool-call turn (not the answer)
    again: bool = False
    seen: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, recorded: Any) -> Any:
        body = recorded.json
        self.seen.append(body)
        native = "input" in body
        if reasoning_not_passed_back(body.get("input", body)):
            return http_fixture("errors/deepseek_400_reasoning_content_not_passed_back.http")
        messages = messages_of(body)
        last = messages[-1]
        if last["role"] == "user" or self.again:
            pieces = []
            for i, (tool, arguments) in enumerate(self.calls):
                text = json.dumps(arguments)
                half = len(text) // 2
                name = wire_name(body, tool)
                pieces.append((f"call_{len(self.seen)}_{i}", name, [text[:half], text[half:]]))
            stream = native_stream if native else openai_stream
            return stream(
                (self.preface,) if self.preface else (),
                ("I will use the tool.",),
                finish="tool_calls",
                tool_calls=pieces,
            )
        results = [m["content"] for m in messages if m["role"] == "tool"][-len(self.calls) :]
        stream = native_stream if native else openai_stream
        return stream((self.answer.format(*results),), ("Now I know.",))


@pytest.fixture
def model(cli):
    cli.write_config(tools_config(cli.server.url))
    tool_model = ToolModel()
    cli.server.handler = tool_model
    return tool_model


@pytest.mark.parametrize("kind", KINDS)
def test_ask_runs_the_tool_and_prints_the_final_answer_on_every_profile_kind(cli, model, kind):
    r = cli.run("ask", "-p", kind, "--tool", "calc", "--yes", "what is 2+3? use the tool")
    assert r.code == 0, r.stderr
    assert r.stdout == "The sum is 5.\n"
    first, second = model.seen
    assert {t["function"]["name"] for t in tools_of(first)} >= {wire_name(first, "add")}
    call, result = messages_of(second)[-2:]
    assert call["role"] == "assistant" and call["tool_calls"][0]["function"]["arguments"] == (
        '{"a": 2, "b": 3}'
    )
    assert call["reasoning_content"] == "I will use the tool."
    assert result == {"role": "tool", "content": "5", "tool_call_id": call["tool_calls"][0]["id"]}
    assert len(cli.ledger_rows()) == 2  # one row per model call


def test_without_a_terminal_or_approval_the_call_is_refused_and_the_model_told(cli, model):
    model.answer = "I could not: {0}"
    r = cli.run("ask", "--tool", "calc", "what is 2+3?")
    assert r.code == 0, r.stderr
    assert "not run" in r.stdout and "--yes" in r.stdout
    assert "calc.add not run: no terminal" in r.stderr
    result = messages_of(model.seen[-1])[-1]
    assert result["role"] == "tool" and result["content"].startswith("Error: not run")


def test_a_profile_approve_tools_pattern_runs_the_calls_it_matches(cli, model):
    cli.write_config(
        tools_config(cli.server.url).replace(
            '[profiles.ds]\n    provider = "deepseek"',
            '[profiles.ds]\n    provider = "deepseek"\n    tools = ["calc"]\n'
            '    approve_tools = ["calc.a*"]',
        )
    )
    r = cli.run("ask", "what is 2+3?")  # the profile's tools, no --tool
    assert r.code == 0, r.stderr
    assert r.stdout == "The sum is 5.\n"


def test_json_reports_the_calls_the_steps_and_the_whole_usage(cli, model):
    r = cli.run("ask", "--tool", "calc.add", "--yes", "--json", "2+3?")
    assert r.code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["answer"] == "The sum is 5."
    assert data["steps"] == 2
    assert data["tool_calls"] == [
        {"name": "calc.add", "arguments": {"a": 2, "b": 3}, "result": "5", "is_error": False}
    ]
    rows = cli.ledger_rows()
    assert data["usage"]["input_tokens"] == sum(row["input_tokens"] for row in rows)
    assert data["usage"]["output_tokens"] == sum(row["output_tokens"] for row in rows)


def test_a_tool_call_turn_s_text_never_reaches_piped_stdout(cli, model):
    model.preface = "Let me call the calculator. "
    r = cli.run("ask", "--tool", "calc", "--yes", "2+3?")
    assert r.code == 0, r.stderr
    assert r.stdout == "The sum is 5.\n"


def test_several_calls_in_one_turn_each_get_their_result_in_order(cli, model):
    model.calls = [("add", {"a": 2, "b": 3}), ("multiply", {"a": 4, "b": 5})]
    model.answer = "{0} and {1}"
    r = cli.run("ask", "--tool", "calc", "--yes", "--show-tools", "2+3 and 4*5?")
    assert r.code == 0, r.stderr
    assert r.stdout == "5 and 20\n"
    messages = messages_of(model.seen[-1])
    call_turn = messages[-3]
    ids = [c["id"] for c in call_turn["tool_calls"]]
    assert [(m["tool_call_id"], m["content"]) for m in messages[-2:]] == list(
        zip(ids, ["5", "20"], strict=True)
    )
    lines = [line for line in r.stderr.splitlines() if line.startswith("⚙")]
    assert len(lines) == 2 and "calc.add" in lines[0] and "→ 5" in lines[0]
    assert "calc.multiply" in lines[1] and "→ 20" in lines[1]


def test_max_steps_bounds_the_model_calls(cli, model):
    model.again = True
    r = cli.run("ask", "--tool", "calc", "--yes", "--max-steps", "3", "loop forever")
    assert r.code == 65, r.stderr
    assert len(model.seen) == 3
    assert (
        "stopped after 3 model calls (--max-steps 3); the model still asked for calc.add"
        in r.stderr
    )
    assert "no answer within --max-steps 3" in r.stderr
    assert r.stdout == ""


def test_a_failing_tool_or_a_made_up_one_is_an_error_result_the_model_reads(cli, model):
    model.calls = [("fail", {}), ("nonexistent", {"x": 1})]
    model.answer = "{0} | {1}"
    r = cli.run("ask", "--tool", "calc", "--yes", "--show-tools", "try")
    assert r.code == 0, r.stderr
    failed, made_up = [m["content"] for m in messages_of(model.seen[-1])[-2:]]
    assert failed.startswith("Error: ")
    assert made_up == "Error: there is no tool named 'nonexistent'"
    assert sum("✗" in line for line in r.stderr.splitlines()) == 2


def test_a_tool_that_is_not_selected_is_unknown_to_the_model(cli, model):
    model.calls = [("multiply", {"a": 1, "b": 2})]
    r = cli.run("ask", "--tool", "calc.add", "--yes", "x")
    assert r.code == 0, r.stderr
    assert [t["function"]["name"].endswith("add") for t in tools_of(model.seen[0])] == [True]
    assert messages_of(model.seen[-1])[-1]["content"].startswith("Error: there is no tool")


def test_an_unknown_tool_or_server_is_a_config_error(cli, model):
    r = cli.run("ask", "--tool", "nosuch", "--yes", "x")
    assert r.code == 78
    assert "nosuch" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert model.seen == []


def test_chat_keeps_tool_turns_sends_them_back_with_thinking_and_resumes_them(cli, model):
    lines = "what is 2+3?\nand again?\n/tools\n/tool -calc\nno tools now\n"
    r = cli.run("chat", "--session", "t1", "--tool", "calc", "--yes", input=lines)
    assert r.code == 0, r.stderr
    assert r.stdout.count("The sum is 5.") == 2
    # Turn 2 carried turn 1's exchange with its thinking (DeepSeek's rule); turn 3 no tools.
    second_turn = model.seen[2]
    assert [m["role"] for m in messages_of(second_turn)] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    assert tools_of(model.seen[-1]) == []
    assert "calc.add" in r.stderr  # /tools listed it
    session = json.loads((cli.home / "sessions" / "t1.json").read_text())
    assert [len(t["steps"]) for t in session["turns"]] == [2, 2, 0]

    sent_before = messages_of(model.seen[-1])
    r = cli.run("chat", "--session", "t1", input="one more\n")
    assert r.code == 0, r.stderr
    # The new process sends the same history, thinking of the tool turns included.
    assert messages_of(model.seen[-1])[: len(sent_before)] == sent_before


def test_mcp_is_not_imported_without_tools(cli, model):
    cli.server.enqueue(openai_stream(("hi",)))
    loaded = cli.probe("'mcp' in sys.modules", "ask", "hello")
    assert loaded is False
    assert cli.probe("'mcp' in sys.modules", "--help") is False


def spawn_ask(cli, *args: str):
    import pexpect

    env = {**cli.env, "TERM": "xterm-256color"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "deepseek_cli", "ask", *args],
        env=env,
        cwd=str(cli.home),
        dimensions=(24, 120),
        encoding="utf-8",
        timeout=30,
    )
    child.logfile_read = io.StringIO()  # everything the terminal showed
    return child


def finish(cli, child) -> str:
    import pexpect

    child.expect(pexpect.EOF)
    child.close()
    shown = child.logfile_read.getvalue()
    cli.outputs.append(shown)
    assert child.exitstatus == 0, shown
    return shown


PROMPT = "? [y]es [n]o [a]lways"


@pytest.mark.parametrize(("answer", "expected"), [("y", "The sum is 5."), ("n", "declined")])
def test_on_a_terminal_each_call_asks_first(cli, model, answer, expected):
    model.answer = "Result: {0}"
    child = spawn_ask(cli, "--tool", "calc", "what is 2+3?")
    child.expect_exact('run calc.add {"a": 2, "b": 3}' + PROMPT)
    child.sendline(answer)
    child.expect_exact(expected if answer == "n" else "Result: 5")
    finish(cli, child)
    result = messages_of(model.seen[-1])[-1]["content"]
    assert (result == "5") is (answer == "y")


def test_always_approves_that_tool_for_the_rest_of_the_command(cli, model):
    model.calls = [
        ("add", {"a": 2, "b": 3}),
        ("add", {"a": 1, "b": 1}),
        ("multiply", {"a": 2, "b": 2}),
    ]
    model.answer = "{0} {1} {2}"
    child = spawn_ask(cli, "--tool", "calc", "sums")
    child.expect_exact("run calc.add")
    child.sendline("a")
    child.expect_exact("run calc.multiply")
    child.sendline("y")
    child.expect_exact("5 2 4")
    assert finish(cli, child).count("run calc.") == 2  # the second add did not ask


def test_chat_without_tools_gains_them_with_slash_tool(cli, model):
    r = cli.run("chat", "--yes", input="/tools\n/tool calc.add\n/tool nosuch\n2+3?\n")
    assert r.code == 0, r.stderr
    assert "no tools in use" in r.stderr
    assert "added calc.add" in r.stderr
    assert "nosuch" in r.stderr  # a warning; the chat goes on
    assert r.stdout == "The sum is 5.\n"
    assert [t["function"]["name"] for t in tools_of(model.seen[0])] == [
        wire_name(model.seen[0], "add")
    ]


def test_a_server_that_dies_again_after_its_restart_is_reported_and_the_model_told(cli, model):
    model.calls = [("die", {})]
    model.answer = "{0}"
    r = cli.run("ask", "--tool", "calc", "--yes", "die")
    assert r.code == 0, r.stderr
    result = messages_of(model.seen[-1])[-1]["content"]
    assert result.startswith("Error: MCP server 'calc' stopped")
    assert sum("MCP server 'calc' stopped" in line for line in r.stderr.splitlines()) == 1


def test_with_stdin_piped_the_approval_is_read_from_the_terminal(cli, model):
    import pexpect

    model.answer = "Result: {0}"
    command = " ".join([sys.executable, "-m", "deepseek_cli", "ask", "--tool", "calc"])
    child = pexpect.spawn(
        "sh",
        ["-c", f"echo 'what is 2+3?' | {command}"],
        env={**cli.env, "TERM": "xterm-256color"},
        cwd=str(cli.home),
        dimensions=(24, 120),
        encoding="utf-8",
        timeout=30,
    )
    child.logfile_read = io.StringIO()
    child.expect_exact("run calc.add")
    child.sendline("y")
    child.expect_exact("Result: 5")
    finish(cli, child)
    assert messages_of(model.seen[0])[-1]["content"] == "what is 2+3?"


def test_chat_at_max_steps_keeps_nothing_and_fails_the_turn(cli, model):
    model.again = True
    r = cli.run(
        "chat", "--session", "m", "--tool", "calc", "--yes", "--max-steps", "2", input="x\n"
    )
    assert r.code == 65, r.stderr
    assert "no answer within --max-steps 2 model calls" in r.stderr
    assert len(model.seen) == 2
    session = cli.home / "sessions" / "m.json"
    assert not session.exists() or json.loads(session.read_text())["turns"] == []
