"""The usage line shown after an answer: tokens, what the cache did, cost, time, speed.

On a narrow terminal it wraps between its segments, never inside one ("first token 0.52 s"
stays whole), because the terminal's own wrapping would cut words at the last column.
"""

from __future__ import annotations

import textwrap

from deepseek_cli.catalog.pricing import Cost
from deepseek_cli.conversation import Reply
from deepseek_cli.events import Usage
from deepseek_cli.render.numbers import cache_share, cost_text, with_savings


def usage_line(reply: Reply, cost: Cost | None, width: int | None = None) -> str:
    """The line (lines, when ``width`` columns are too few for it)."""
    return wrap_segments(usage_segments(reply, cost), width)


def usage_segments(reply: Reply, cost: Cost | None) -> list[str]:
    usage = reply.usage
    parts = token_segments(usage, cost)
    parts.append(f"{reply.latency_ms / 1000:.2f} s")
    if reply.ttft_ms is not None:
        parts.append(f"first token {reply.ttft_ms / 1000:.2f} s")
    if usage is not None and reply.first_token_at is not None and reply.ended is not None:
        span = reply.ended - reply.first_token_at
        if span > 0 and usage.output_tokens:
            parts.append(f"{usage.output_tokens / span:.1f} tok/s")
    return parts


def token_segments(usage: Usage | None, cost: Cost | None) -> list[str]:
    """Tokens and cost alone: all a saved turn records (its timing is not kept)."""
    parts = []
    if usage is not None:
        parts.append(f"{usage.input_tokens} in")
        if usage.cached_tokens:
            share = cache_share(usage.input_tokens, usage.cached_tokens)
            parts.append(f"{usage.cached_tokens} cached ({share})")
        parts.append(f"{usage.output_tokens} out")
        if usage.reasoning_tokens:
            parts.append(f"{usage.reasoning_tokens} reasoning")
    else:
        parts.append("usage not reported")
    parts.append(with_savings(cost_text(cost), {cost.currency: cost.saved} if cost else {}))
    return parts


SEPARATOR = " · "


def wrap_segments(parts: list[str], width: int | None) -> str:
    """``parts`` joined by `` · ``, broken into lines of at most ``width`` columns between
    segments; a segment longer than a whole line is broken between its words."""
    if width is None:
        return SEPARATOR.join(parts)
    width = max(width, 10)
    lines: list[str] = []
    line = ""
    for part in parts:
        candidate = f"{line}{SEPARATOR}{part}" if line else part
        if len(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        if len(part) <= width:
            line = part
        else:
            *full, line = textwrap.wrap(part, width, break_long_words=True) or [""]
            lines += full
    if line:
        lines.append(line)
    return "\n".join(lines)
