"""A leading ``<think>`` block in ``content`` (a server without a reasoning parser)."""

from __future__ import annotations

import json

import pytest
from fakeserver import openai_completion, openai_stream

from deepseek_cli.backends.inline_think import InlineThinkSplitter, split_whole
from deepseek_cli.events import AnswerDelta, ThinkingDelta


def split(chunks: list[str]) -> tuple[str, str]:
    splitter = InlineThinkSplitter()
    events = [e for c in chunks for e in splitter.feed(c)] + splitter.flush()
    thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
    answer = "".join(e.text for e in events if isinstance(e, AnswerDelta))
    return thinking, answer


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        (["<think>\nHmm.\n</think>\n\nFour."], ("Hmm.\n", "Four.")),
        # Tags split at every possible place.
        (["<", "thi", "nk>", "Hm", "m.</", "think", ">", "\n", "Four."], ("Hmm.", "Four.")),
        (["\n <think>a</think>b"], ("a", "b")),
        (["<think></think>\n\nJust this."], ("", "Just this.")),
        # Not at the start: the answer's own text.
        (
            ["Use <think> tags like ", "<think>x</think>"],
            ("", "Use <think> tags like <think>x</think>"),
        ),
        (["<b>bold</b>"], ("", "<b>bold</b>")),
        (["<thin"], ("", "<thin")),
        # Never closed (max_tokens): it was all thinking.
        (["<think>I was still thin", "king"], ("I was still thinking", "")),
        (["   "], ("", "   ")),
    ],
)
def test_a_leading_block_becomes_thinking(chunks, expected):
    assert split(chunks) == expected
    assert split_whole("".join(chunks)) == (expected[0] or None, expected[1])


def test_streamed_inline_thinking_is_not_on_stdout(cli):
    cli.server.enqueue(
        openai_stream(answer=["<thi", "nk>\nLet me", " see.</thi", "nk>\n\n", "It is 4."])
    )
    result = cli.run("ask", "-p", "oai", "--json", "2+2?")
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["answer"] == "It is 4."
    assert out["reasoning"] == "Let me see."
    cli.server.enqueue(openai_stream(answer=["<think>Let me see.</think>", "It is 4."]))
    piped = cli.run("ask", "-p", "oai", "2+2?")
    assert piped.stdout == "It is 4.\n"


def test_whole_inline_thinking_is_split_too(cli):
    cli.server.enqueue(openai_completion(answer="<think>hmm</think>\nIt is 4."))
    result = cli.run("ask", "-p", "oai", "--no-stream", "--json", "2+2?")
    out = json.loads(result.stdout)
    assert (out["reasoning"], out["answer"]) == ("hmm", "It is 4.")


def test_a_providers_own_api_keeps_its_content_as_it_is(cli):
    cli.server.enqueue(openai_stream(answer=["<think>literal</think> tags"]))
    result = cli.run("ask", "-p", "ds", "show me the tags")
    assert result.stdout == "<think>literal</think> tags\n"
