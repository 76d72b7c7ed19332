"""Tool calls as they come off the wire: streamed in pieces, whole in a completion.

Why its own module: both adapters (OpenAI-compatible and DashScope native) receive the same
shape, a list of ``{index, id, type, function: {name, arguments}}`` per chunk, where the id
and name come with a call's first piece and its arguments are split over many chunks, with
several calls interleaved by ``index``. This joins them, and reads a whole message's calls
(an SDK object or a plain dict from a Batch result line) the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from deepseek_cli.events import ToolCall


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


class ToolCallPieces:
    """Joins streamed tool-call deltas by their index."""

    def __init__(self) -> None:
        self._calls: dict[int, list[str]] = {}  # index -> [id, name, arguments]

    def feed(self, deltas: Iterable[Any] | None) -> None:
        for position, delta in enumerate(deltas or ()):
            index = _get(delta, "index")
            if not isinstance(index, int) or isinstance(index, bool):
                index = position  # a server that leaves it out sends each call whole, in order
            call = self._calls.setdefault(index, ["", "", ""])
            function = _get(delta, "function")
            call_id, name = _str(_get(delta, "id")), _str(_get(function, "name"))
            if call_id and not call[0]:
                call[0] = call_id
            if name and not call[1]:
                call[1] = name  # sent once, with the first piece; a repeat is not a suffix
            call[2] += _str(_get(function, "arguments"))

    def calls(self) -> tuple[ToolCall, ...]:
        return tuple(
            ToolCall(call_id or f"call_{index}", name, arguments or "{}")
            for index, (call_id, name, arguments) in sorted(self._calls.items())
        )


def whole_calls(message: Any) -> tuple[ToolCall, ...]:
    """The tool calls of a complete message (``message.tool_calls``), or none."""
    raw = _get(message, "tool_calls")
    if not isinstance(raw, list | tuple):
        return ()
    pieces = ToolCallPieces()
    pieces.feed(raw)
    return pieces.calls()
