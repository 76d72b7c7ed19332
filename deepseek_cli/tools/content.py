"""A tool call's result as the text the model reads back: what the MCP content blocks say.

Why: a result goes into the conversation as a ``role: tool`` message, which is text. Images,
audio and binary resources become a short placeholder (the model cannot read base64 usefully,
and it would cost tokens), and the whole text is bounded so one chatty tool cannot fill the
context window.
"""

from __future__ import annotations

import json
from typing import Any

# A tool's answer beyond this is cut, with a note saying how much was left out.
MAX_RESULT_CHARS = 64 * 1024


def _placeholder(mime: str | None, data: str) -> str:
    size = len(data) * 3 // 4 - data[-2:].count("=")  # base64 without decoding it
    return f"[{mime or 'binary'}, {size} bytes]"


def block_text(block: Any) -> str:
    """One content block as text (``TextContent``, ``ImageContent``, resources...)."""
    kind = getattr(block, "type", None)
    if kind == "text":
        return str(block.text)
    if kind in ("image", "audio"):
        return _placeholder(block.mime_type, block.data)
    if kind == "resource":
        resource = block.resource
        text = getattr(resource, "text", None)
        if text is not None:
            return str(text)
        return _placeholder(getattr(resource, "mime_type", None), getattr(resource, "blob", ""))
    if kind == "resource_link":
        return f"[resource {block.uri}]"
    return f"[{kind or 'unknown'} content]"


def bounded(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[cut: {len(text) - limit} more characters]"


def result_text(content: list[Any], structured: Any = None) -> str:
    """The joined text of a result's content; its structured content when it has no blocks."""
    parts = [block_text(block) for block in content]
    if not parts and structured is not None:
        parts = [json.dumps(structured, ensure_ascii=False)]
    return bounded("\n".join(parts))
