"""Batch lines with ``tools`` and ``tool_choice`` (issue 14, point 7): records gain
``tool_calls``, and batch never runs a tool.

The real CLI against the local server: the OpenAI-compatible wire (calls streamed in
interleaved pieces, and whole in a non-streamed body), the DashScope native profile, bad tool
fields refused before anything is sent, the provider Batch line, the estimate, and a remote
batch (``fake_batch``, which answers a line with tools by calling its first tool).
"""

from __future__ import annotations

import json

import pytest
from batch_helpers import OUTPUT_FIELDS, RECORD_KEYS, make_input, read_records
from conftest import profiles_toml
from fake_batch import install
from fakeserver import native_stream, openai_completion, openai_stream

ADD = {
    "type": "function",
    "function": {
        "name": "calc__add",
        "description": "Add two numbers",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
            "required": ["a", "b"],
        },
    },
}
ECHO = {"type": "function", "function": {"name": "calc__echo"}}
TWO_CALLS = [
    ("call_1", "calc__add", ['{"a"', ": 2, ", '"b": 3}']),
    ("call_2", "calc__echo", ['{"text": ', '"hi"}']),
]
RECORDED_CALLS = [
    {"id": "call_1", "name": "calc__add", "arguments": '{"a": 2, "b": 3}'},
    {"id": "call_2", "name": "calc__echo", "arguments": '{"text": "hi"}'},
]


def write_lines(cli, *lines: dict, name: str = "in.jsonl") -> None:
    (cli.home / name).write_text("".join(json.dumps(x) + "\n" for x in lines))


def by_id(path) -> dict[str, dict]:
    return {r.get("id") or r.get("custom_id"): r for r in read_records(path)}


def calls_when_tools(stream_reply, plain_reply=None):
    """A handler: a request with tools is answered with ``stream_reply()``, others echo."""

    def handler(request):
        body = request.json or {}
        has_tools = "tools" in body or "tools" in (body.get("parameters") or {})
        if has_tools:
            return stream_reply()
        return plain_reply() if plain_reply else None

    return handler


def test_streamed_calls_become_the_record_and_plain_lines_are_unchanged(cli):
    write_lines(
        cli,
        {"id": "t", "prompt": "what is 2+3?", "tools": [ADD, ECHO], "tool_choice": "auto"},
        {"id": "p", "prompt": "just talk"},
    )
    cli.server.handler = calls_when_tools(
        lambda: openai_stream((), ("let me add",), finish="tool_calls", tool_calls=TWO_CALLS)
    )
    result = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl", "--stream")
    assert result.code == 0, result.stderr
    assert not (cli.home / "out.errors.jsonl").exists()
    records = by_id(cli.home / "out.jsonl")

    tool = records["t"]
    assert tool["tool_calls"] == RECORDED_CALLS
    assert tool["finish_reason"] == "tool_calls"
    assert tool["answer"] == "" and tool["reasoning"] == "let me add"  # a success, not an error
    assert list(tool) == [*RECORD_KEYS[:6], "tool_calls", *RECORD_KEYS[6:]]

    plain = records["p"]
    assert list(plain) == RECORD_KEYS and set(plain) == OUTPUT_FIELDS
    assert plain["answer"] == "echo:just talk"

    sent = {r.json["messages"][-1]["content"]: r.json for r in cli.server.requests}
    assert sent["what is 2+3?"]["tools"] == [ADD, ECHO]
    assert sent["what is 2+3?"]["tool_choice"] == "auto"
    assert "tools" not in sent["just talk"] and "tool_choice" not in sent["just talk"]
    # The tools are request fields, never raw extra fields twice over.
    assert list(sent["what is 2+3?"]).count("tools") == 1

    # Resume: both ids are done, tool-call record included; nothing is sent again.
    count = len(cli.server.requests)
    again = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl", "--stream")
    assert again.code == 0, again.stderr
    assert len(cli.server.requests) == count
    rows = cli.ledger_rows()
    assert len(rows) == 2 and {r["outcome"] for r in rows} == {"ok"}


def test_a_whole_body_with_calls_and_a_named_tool_choice_in_openai_format(cli):
    choice = {"type": "function", "function": {"name": "calc__echo"}}
    write_lines(cli, {"id": "t", "prompt": "echo hi", "tools": [ADD, ECHO], "tool_choice": choice})
    cli.server.enqueue(openai_completion("", finish="tool_calls", tool_calls=TWO_CALLS[1:]))
    result = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl", "-p", "dsc", "-m", "qwen-plus")
    assert result.code == 0, result.stderr
    [request] = cli.server.requests
    assert request.json["stream"] is False
    assert request.json["tools"] == [ADD, ECHO] and request.json["tool_choice"] == choice
    [record] = read_records(cli.home / "out.jsonl")
    assert record["tool_calls"] == RECORDED_CALLS[1:]

    # The provider-Batch style: the message as the API writes a tool-call turn.
    cli.server.enqueue(openai_completion("", finish="tool_calls", tool_calls=TWO_CALLS))
    openai = cli.run(
        "batch", "run", "in.jsonl", "-o", "o.jsonl", "-p", "dsc", "-m", "qwen-plus",
        "--format", "openai",
    )  # fmt: skip
    assert openai.code == 0, openai.stderr
    [line] = read_records(cli.home / "o.jsonl")
    choice_out = line["response"]["body"]["choices"][0]
    assert choice_out["finish_reason"] == "tool_calls"
    assert choice_out["message"]["content"] is None
    assert choice_out["message"]["tool_calls"] == [
        {"id": "call_1", "type": "function",
         "function": {"name": "calc__add", "arguments": '{"a": 2, "b": 3}'}},
        {"id": "call_2", "type": "function",
         "function": {"name": "calc__echo", "arguments": '{"text": "hi"}'}},
    ]  # fmt: skip


def test_the_dashscope_native_profile_sends_tools_in_parameters(cli):
    prompts = make_input(cli.home / "plain.jsonl", 2)
    write_lines(
        cli,
        {"id": "t", "prompt": "what is 2+3?", "tools": [ADD], "tool_choice": "required"},
        *({"id": k, "prompt": v} for k, v in prompts.items()),
    )
    cli.server.handler = calls_when_tools(
        lambda: native_stream(("",), finish="tool_calls", tool_calls=TWO_CALLS)
    )
    result = cli.run(
        "batch", "run", "in.jsonl", "-o", "out.jsonl", "-p", "dsn", "-m", "deepseek-v3", "--stream"
    )
    assert result.code == 0, result.stderr
    assert all(r.path.endswith("/text-generation/generation") for r in cli.server.requests)
    [with_tools] = [r.json for r in cli.server.requests if "tools" in r.json["parameters"]]
    assert with_tools["parameters"]["tools"] == [ADD]
    assert with_tools["parameters"]["tool_choice"] == "required"
    records = by_id(cli.home / "out.jsonl")
    assert records["t"]["tool_calls"] == RECORDED_CALLS
    assert records["t"]["finish_reason"] == "tool_calls"
    for item_id in prompts:
        assert list(records[item_id]) == RECORD_KEYS


BAD_LINES = [
    ({"tools": {"type": "function"}}, "tools must be a non-empty list"),
    ({"tools": []}, "tools must be a non-empty list"),
    ({"tools": [{"type": "code", "function": {"name": "x"}}]}, 'tools[0].type must be "function"'),
    ({"tools": [{"type": "function", "function": {"name": "a b"}}]}, "tools[0].function.name"),
    (
        {"tools": [{"type": "function", "function": {"name": "f", "paramters": {}}}]},
        "tools[0].function has an unknown field 'paramters'",
    ),
    (
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]},
        "tools[0].function.parameters must be a JSON Schema object",
    ),
    ({"tools": [ADD, ADD]}, "tools[1].function.name repeats an earlier tool's name"),
    ({"tool_choice": "auto"}, "tool_choice without tools"),
    ({"tools": [ADD], "tool_choice": "sometimes"}, "tool_choice must be"),
    (
        {"tools": [ADD], "tool_choice": {"type": "function", "function": {"name": "secret_fn"}}},
        "tool_choice names a function that is not one of the tools",
    ),
]


def test_bad_tool_fields_exit_65_with_their_line_numbers_and_send_nothing(cli):
    lines = [{"id": "ok", "prompt": "fine", "tools": [ADD]}]
    lines += [{"id": f"b{i}", "prompt": "p", **fields} for i, (fields, _) in enumerate(BAD_LINES)]
    # The provider Batch line's body is checked the same way.
    body = {"model": "deepseek-v4-pro", "messages": [{"role": "user", "content": "x"}]}
    lines.append({"custom_id": "bb", "body": {**body, "tools": "calc"}})
    write_lines(cli, *lines)
    result = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl")
    assert result.code == 65, result.stderr
    for offset, (_, message) in enumerate(BAD_LINES):
        line = offset + 2
        assert f"in.jsonl:{line}: {message}" in result.stderr, (line, result.stderr)
    assert "and 1 more" in result.stderr  # the Batch line, seen in the errors file below
    assert "secret_fn" not in result.stderr  # a line's content is never echoed
    assert cli.server.requests == []
    assert not (cli.home / "out.jsonl").exists()
    assert cli.run("batch", "estimate", "in.jsonl").code == 65

    lenient = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl", "--lenient")
    assert lenient.code == 4, lenient.stderr
    errors = read_records(cli.home / "out.errors.jsonl")
    assert sorted(e["line"] for e in errors) == list(range(2, len(lines) + 1))
    assert {e["error"]["code"] for e in errors} == {"invalid_line"}
    last = next(e for e in errors if e["line"] == len(lines))
    assert last["error"]["message"].startswith("tools must be a non-empty list")
    [sent] = cli.server.requests  # only the good line, with its tools
    assert sent.json["tools"] == [ADD]


def test_a_provider_batch_line_carries_its_tools_as_tools(cli):
    body = {
        "model": "deepseek-v4-pro",
        "messages": [{"role": "user", "content": "what is 2+3?"}],
        "tools": [ADD],
        "tool_choice": "none",
        "parallel_tool_calls": False,  # not ours to check: sent as a raw field
    }
    write_lines(cli, {"custom_id": "c1", "method": "POST", "url": "/v1/chat/completions",
                      "body": body})  # fmt: skip
    cli.server.enqueue(openai_completion("no tool needed: 5"))
    result = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl")
    assert result.code == 0, result.stderr
    [request] = cli.server.requests
    assert request.json["tools"] == [ADD] and request.json["tool_choice"] == "none"
    assert request.json["parallel_tool_calls"] is False
    [record] = read_records(cli.home / "out.jsonl")
    assert list(record) == RECORD_KEYS  # no calls: no tool_calls key
    assert record["answer"] == "no tool needed: 5"


def test_tools_count_toward_the_prompt_estimate(cli):
    write_lines(cli, {"id": "a", "prompt": "a" * 100}, name="plain.jsonl")
    write_lines(cli, {"id": "a", "prompt": "a" * 100, "tools": [ADD]}, name="tools.jsonl")
    plain = cli.run("batch", "estimate", "plain.jsonl", "--json")
    tools = cli.run("batch", "estimate", "tools.jsonl", "--json")
    assert plain.code == tools.code == 0, plain.stderr + tools.stderr
    assert json.loads(plain.stdout)["input_tokens"] == 37  # 30 + 4 + 3
    # The tools' JSON text at 0.3 token per character, rounded up with the rest.
    schema = len(json.dumps([ADD], ensure_ascii=False))
    expected = -(-(100 * 0.3 + 4 + 3 + schema * 0.3) // 1)
    assert json.loads(tools.stdout)["input_tokens"] == expected
    assert cli.server.requests == []


@pytest.fixture
def service(cli):
    cli.write_config(
        profiles_toml(cli.server.url)
        + f"""
    [profiles.cnp]
    provider = "dashscope"
    region = "cn"
    base_url = "{cli.server.url}/compatible-mode/v1"
    """
    )
    return install(cli.server)


def test_a_remote_batch_carries_tools_and_fetches_tool_calls(cli, service):
    choice = {"type": "function", "function": {"name": "calc__add"}}
    write_lines(
        cli,
        {"id": "t", "prompt": "what is 2+3?", "tools": [ADD], "tool_choice": choice},
        {"id": "p", "prompt": "prompt for p"},
    )
    done = cli.run("batch", "submit", "in.jsonl", "-p", "cnp")
    assert done.code == 0, done.stderr
    job = done.stdout.strip()
    part = cli.home / "batches" / job / "part-001.jsonl"
    bodies = {x["custom_id"]: x["body"] for x in map(json.loads, part.read_text().splitlines())}
    assert bodies["t"]["tools"] == [ADD] and bodies["t"]["tool_choice"] == choice
    assert "tools" not in bodies["p"] and "tool_choice" not in bodies["p"]

    waited = cli.run("batch", "status", job, "--wait", "--poll", "0")
    assert waited.code == 0, waited.stderr
    fetched = cli.run("batch", "fetch", job)
    assert fetched.code == 0, fetched.stderr
    records = by_id(cli.home / "in.out.jsonl")
    assert records["t"]["tool_calls"] == [
        {"id": "call_t", "name": "calc__add", "arguments": '{"id": "t"}'}
    ]
    assert records["t"]["finish_reason"] == "tool_calls" and records["t"]["answer"] == ""
    assert list(records["p"]) == RECORD_KEYS and records["p"]["answer"] == "echo:prompt for p"
