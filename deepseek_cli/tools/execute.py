"""Running the tool calls of one model turn: approval, arguments, the call, the result message.

Whatever goes wrong on the way (a tool the model made up, arguments that are not JSON, a
call the user declined or nobody could approve, a tool that failed or timed out) becomes an
error result the model reads and may recover from, never an exception: the conversation
goes on. Each call leaves a :class:`CallRecord` for the compact line on stderr and for
``--json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deepseek_cli.events import Message, ToolCall
from deepseek_cli.tools.approval import Approval, short

if TYPE_CHECKING:
    from deepseek_cli.tools.toolbox import Tool, Toolbox


NO_TERMINAL = (
    "not run: tool calls need the user's approval and there is no terminal to ask on "
    "(the user can pass --yes or set approve_tools in the profile)"
)
DECLINED = "not run: the user declined this call"


@dataclass(frozen=True)
class CallRecord:
    """One call as it went: the tool (qualified name), the arguments the model wrote, the
    result text the model got back, whether that is an error, and how long it took."""

    name: str
    arguments: str
    result: str
    is_error: bool
    seconds: float

    def to_json(self) -> dict[str, Any]:
        try:
            arguments: Any = json.loads(self.arguments or "{}")
        except ValueError:
            arguments = self.arguments
        return {
            "name": self.name,
            "arguments": arguments,
            "result": self.result,
            "is_error": self.is_error,
        }

    def line(self) -> str:
        """The compact line: tool, short arguments, short result, time."""
        mark = "✗" if self.is_error else "→"
        args = short(self.arguments or "{}", 60)
        return f"⚙ {self.name} {args} {mark} {short(self.result, 80)} ({self.seconds:.1f} s)"


def run_calls(
    calls: Sequence[ToolCall],
    tools: Mapping[str, Tool],
    runner: Toolbox,
    approval: Approval,
    notice: Callable[[str], None],
) -> list[tuple[Message, CallRecord]]:
    """Each call's result as a ``tool`` message answering it, in the order of the calls
    (the API wants one message per call id), with its record. ``tools``: the tools the
    model may call, by wire name; any other name is an unknown tool to it."""
    done = []
    for call in calls:
        started = time.monotonic()
        name, text, is_error = _run_one(call, tools, runner, approval, notice)
        record = CallRecord(name, call.arguments, text, is_error, time.monotonic() - started)
        content = f"Error: {text}" if is_error else text
        done.append((Message("tool", content, tool_call_id=call.id), record))
    return done


def _run_one(
    call: ToolCall,
    tools: Mapping[str, Tool],
    runner: Toolbox,
    approval: Approval,
    notice: Callable[[str], None],
) -> tuple[str, str, bool]:
    tool = tools.get(call.name)
    if tool is None:
        return call.name, f"there is no tool named {call.name!r}", True
    qualified = tool.qualified
    try:
        arguments = json.loads(call.arguments or "{}")
    except ValueError as exc:
        return qualified, f"the arguments are not valid JSON ({exc})", True
    if not isinstance(arguments, dict):
        return qualified, "the arguments must be a JSON object", True
    decision = approval.decide(qualified, call.arguments or "{}")
    if decision == "no_terminal":
        notice(f"{qualified} not run: no terminal to approve it on; use --yes or approve_tools")
        return qualified, NO_TERMINAL, True
    if decision == "refused":
        return qualified, DECLINED, True
    result = runner.call(tool, arguments)
    return qualified, result.text, result.is_error
