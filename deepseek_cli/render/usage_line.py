"""The usage line shown after an answer: tokens, cost, time, speed."""

from __future__ import annotations

from deepseek_cli.catalog.pricing import Cost
from deepseek_cli.conversation import Reply
from deepseek_cli.render.numbers import cost_text


def usage_line(reply: Reply, cost: Cost | None) -> str:
    parts = []
    usage = reply.usage
    if usage is not None:
        parts.append(f"{usage.input_tokens} in")
        if usage.cached_tokens:
            parts.append(f"{usage.cached_tokens} cached")
        parts.append(f"{usage.output_tokens} out")
        if usage.reasoning_tokens:
            parts.append(f"{usage.reasoning_tokens} reasoning")
    else:
        parts.append("usage not reported")
    parts.append(cost_text(cost))
    parts.append(f"{reply.latency_ms / 1000:.2f} s")
    if reply.ttft_ms is not None:
        parts.append(f"first token {reply.ttft_ms / 1000:.2f} s")
    if usage is not None and reply.first_token_at is not None and reply.ended is not None:
        span = reply.ended - reply.first_token_at
        if span > 0 and usage.output_tokens:
            parts.append(f"{usage.output_tokens / span:.1f} tok/s")
    return " · ".join(parts)
