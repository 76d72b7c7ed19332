"""Token estimates without a tokenizer, for the TPM limit, ``batch estimate`` and the ledger row
of a reply whose usage the server never reported.

Why an estimate and not a tokenizer: the models' tokenizers are not shipped with the SDKs, and
``cl100k`` (the cookbook's choice) is the wrong vocabulary for Qwen and DeepSeek. DeepSeek
documents about 0.3 token per English character and 0.6 per Chinese character; we use that,
rounded up, plus a few tokens of chat framing per message, which errs on the high side (the
safe side for a rate limit).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from deepseek_cli.conversation import Reply
from deepseek_cli.events import Message, Usage

ASCII_RATE = 0.3
CJK_RATE = 0.6
PER_MESSAGE = 4  # role markers and separators
PER_REQUEST = 3  # the assistant turn's opening

# CJK ideographs, kana, hangul, CJK punctuation and full-width forms.
_CJK = re.compile(
    r"[\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    r"\U00020000-\U0003134f]"
)


def text_tokens(text: str) -> float:
    """Estimated tokens in ``text`` (a float: round once, at the end)."""
    if text.isascii():
        return len(text) * ASCII_RATE
    cjk = len(_CJK.findall(text))
    return (len(text) - cjk) * ASCII_RATE + cjk * CJK_RATE


def prompt_tokens(messages: Iterable[Message], tools: Sequence[dict[str, Any]] = ()) -> int:
    """Estimated input tokens of a chat request. Function tools count as their JSON text:
    the provider puts their schemas in the prompt, and bills them as input."""
    total = float(PER_REQUEST)
    for message in messages:
        total += text_tokens(message.content) + PER_MESSAGE
    if tools:
        total += text_tokens(json.dumps(list(tools), ensure_ascii=False))
    return math.ceil(total)


def with_estimated_usage(reply: Reply, messages: Iterable[Message]) -> Reply:
    """``reply``, or for one whose usage the server never reported (a cut stream, an
    interrupted answer) although text arrived, a copy with an estimate marked as one: those
    tokens were generated and billed, and zero would be a lie."""
    calls = "".join(call.name + call.arguments for call in reply.tool_calls)
    if reply.usage is not None or not (reply.answer or reply.thinking or calls):
        return reply
    reasoning = math.ceil(text_tokens(reply.thinking))
    output = reasoning + math.ceil(text_tokens(reply.answer + calls))
    prompt = prompt_tokens(messages)
    usage = Usage(prompt, 0, output, reasoning, prompt + output)
    return dataclasses.replace(reply, usage=usage, usage_estimated=True)
