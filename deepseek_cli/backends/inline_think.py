"""Thinking a server left inline: a leading ``<think>...</think>`` block inside ``content``.

Servers without a reasoning parser (llama.cpp ``--reasoning-format none``, vLLM or SGLang
started without one, older Ollama) send an R1-style model's thinking as answer text. Left
alone it would land on stdout, which must hold exactly the answer, so for generic
OpenAI-compatible profiles a block that opens the content is turned back into thinking. Only
a block at the very start counts (after whitespace): a ``<think>`` later in an answer is the
answer's own text. Tags may be split across chunks, so text that could still be the start of
a tag is held back until the next chunk decides.
"""

from __future__ import annotations

from typing import Literal

from deepseek_cli.events import AnswerDelta, ThinkingDelta

OPEN = "<think>"
CLOSE = "</think>"

# "opened" and "after" skip the layout whitespace after "<think>" and after "</think>".
State = Literal["start", "opened", "thinking", "after", "answer"]


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that is a proper start of ``tag``."""
    for size in range(min(len(text), len(tag) - 1), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class InlineThinkSplitter:
    """Feed content deltas in order; get thinking and answer deltas back."""

    def __init__(self) -> None:
        self.state: State = "start"
        self._held = ""

    def feed(self, text: str) -> list[ThinkingDelta | AnswerDelta]:
        out: list[ThinkingDelta | AnswerDelta] = []
        self._held += text
        while self._held:
            if self.state == "answer":
                out.append(AnswerDelta(self._held))
                self._held = ""
            elif self.state == "start":
                lead = self._held.lstrip()
                if lead.startswith(OPEN):
                    self._held = lead[len(OPEN) :]
                    self.state = "opened"
                elif lead and not OPEN.startswith(lead):
                    self.state = "answer"
                else:
                    break  # only whitespace, or the start of "<think>" so far
            elif self.state == "thinking":
                end = self._held.find(CLOSE)
                if end >= 0:
                    if end:
                        out.append(ThinkingDelta(self._held[:end]))
                    self._held = self._held[end + len(CLOSE) :]
                    self.state = "after"
                    continue
                keep = _partial_suffix(self._held, CLOSE)
                if len(self._held) > keep:
                    out.append(ThinkingDelta(self._held[: len(self._held) - keep]))
                self._held = self._held[len(self._held) - keep :]
                break
            else:  # "opened" or "after"
                self._held = self._held.lstrip()
                if self._held:
                    self.state = "thinking" if self.state == "opened" else "answer"
        return out

    def flush(self) -> list[ThinkingDelta | AnswerDelta]:
        """What is still held when the content ends: a block never closed (cut by max_tokens)
        stays thinking; anything else is answer."""
        held, self._held = self._held, ""
        if not held:
            return []
        if self.state == "thinking":
            return [ThinkingDelta(held)]
        if self.state in ("opened", "after"):
            return []
        return [AnswerDelta(held)]


def split_whole(content: str) -> tuple[str | None, str]:
    """A whole (non-streamed) content as ``(thinking, answer)``."""
    splitter = InlineThinkSplitter()
    events = [*splitter.feed(content), *splitter.flush()]
    thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
    answer = "".join(e.text for e in events if isinstance(e, AnswerDelta))
    return (thinking or None), answer
