"""Tool calls on the wire, for every backend: tools out, calls back in pieces, history rules.

The real SDKs parse bytes from the local server. DeepSeek refuses (400) a request whose
assistant tool-call turn comes back without its ``reasoning_content``; the fake server does
the same here (``reasoning_not_passed_back``), so a wrong history fails as it would there.
"""

from __future__ import annotations

import json

import pytest
from fakeserver import (
    http_fixture,
    native_stream,
    openai_completion,
    openai_stream,
    reasoning_not_passed_back,
)
from test_backends import collect

from deepseek_cli.events import (
    ChatRequest,
    Message,
    ThinkingDelta,
    ToolCall,
    ToolCalls,
    wire_messages,
)

ADD = {
    "type": "function",
    "function": {
        "name": "calc__add",
        "description": "Add two numbers",
        "parameters": {"type": "object", "properties": {"a": {}, "b": {}}},
    },
}
TWO_CALLS = [
    ("call_1", "calc__add", ['{"a"', ": 2, ", '"b": 3}']),
    ("call_2", "calc__echo", ['{"text": ', '"hi"}']),
]
EXPECTED = (
    ToolCall("call_1", "calc__add", '{"a": 2, "b": 3}'),
    ToolCall("call_2", "calc__echo", '{"text": "hi"}'),
)


def request(*messages: Message, stream: bool = True) -> ChatRequest:
    return ChatRequest(
        "deepseek-v4-pro",
        messages or (Message("user", "what is 2+3?"),),
        tools=(ADD,),
        tool_choice="auto",
        stream=stream,
    )


@pytest.mark.parametrize("kind", ["deepseek", "compat", "native"])
def test_streamed_calls_in_interleaved_pieces_come_back_whole(server, kind):
    reply = (
        native_stream((), ("let me add",), finish="tool_calls", tool_calls=TWO_CALLS)
        if kind == "native"
        else openai_stream((), ("let me add",), finish="tool_calls", tool_calls=TWO_CALLS)
    )
    server.enqueue(reply)
    events = collect(server, kind, request())
    kinds = [type(e).__name__ for e in events]
    assert kinds[-3:] == ["ToolCalls", "Usage", "Finished"]
    (calls,) = [e for e in events if isinstance(e, ToolCalls)]
    assert calls.calls == EXPECTED
    assert events[-1].finish_reason == "tool_calls"
    assert "".join(e.text for e in events if isinstance(e, ThinkingDelta)) == "let me add"
    body = server.requests[-1].json
    if kind == "native":
        assert body["parameters"]["tools"] == [ADD]
        assert body["parameters"]["tool_choice"] == "auto"
    else:
        assert body["tools"] == [ADD] and body["tool_choice"] == "auto"


@pytest.mark.parametrize("kind", ["deepseek", "compat"])
def test_a_whole_completion_with_tool_calls(server, kind):
    server.enqueue(openai_completion("", "thinking", finish="tool_calls", tool_calls=TWO_CALLS))
    events = collect(server, kind, request(stream=False))
    (calls,) = [e for e in events if isinstance(e, ToolCalls)]
    assert calls.calls == EXPECTED
    assert [type(e).__name__ for e in events][-2:] == ["Usage", "Finished"]


def test_a_request_without_tools_sends_no_tool_fields(server):
    server.enqueue(openai_stream())
    events = collect(server, "deepseek", ChatRequest("m", (Message("user", "hi"),)))
    assert not any(isinstance(e, ToolCalls) for e in events)
    body = server.requests[-1].json
    assert "tools" not in body and "tool_choice" not in body


def tool_exchange() -> tuple[Message, ...]:
    """A first question answered with a tool, then a plain second one, then a third."""
    call = ToolCall("call_1", "calc__add", '{"a": 2, "b": 3}')
    return (
        Message("system", "be brief"),
        Message("user", "what is 2+3?"),
        Message("assistant", "", reasoning="I should add", tool_calls=(call,)),
        Message("tool", "5", tool_call_id="call_1"),
        Message("assistant", "It is 5.", reasoning="the tool said 5"),
        Message("user", "thanks"),
        Message("assistant", "You are welcome.", reasoning="polite"),
        Message("user", "and 3+4?"),
    )


def test_thinking_goes_back_only_on_the_turns_of_an_exchange_that_called_tools():
    wire = wire_messages(tool_exchange())
    assert [m.get("reasoning_content") for m in wire] == [
        None,
        None,
        "I should add",
        None,
        "the tool said 5",
        None,
        None,  # a plain turn: thinking is never sent back
        None,
    ]
    assert wire[2]["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "calc__add", "arguments": '{"a": 2, "b": 3}'},
        }
    ]
    assert wire[3] == {"role": "tool", "content": "5", "tool_call_id": "call_1"}
    assert not reasoning_not_passed_back({"messages": wire})


def test_the_fake_deepseek_rule_refuses_what_deepseek_refuses():
    messages = tool_exchange()
    without = [m.to_wire() for m in messages]  # the bug opencode, qwen-code and pi shipped
    assert reasoning_not_passed_back({"messages": without})


@pytest.mark.parametrize("kind", ["deepseek", "compat", "native"])
def test_every_backend_sends_the_history_deepseek_accepts(server, kind):
    def deepseek_rule(recorded):
        if reasoning_not_passed_back(recorded.json.get("input", recorded.json)):
            return http_fixture("errors/deepseek_400_reasoning_content_not_passed_back.http")
        if kind == "native":
            return native_stream(("8",))
        return openai_stream(("8",))

    server.handler = deepseek_rule
    events = collect(server, kind, request(*tool_exchange()))
    assert events[-1].finish_reason == "stop"
    sent = server.requests[-1].json
    messages = sent["input"]["messages"] if kind == "native" else sent["messages"]
    assert json.dumps(messages).count("reasoning_content") == 2
