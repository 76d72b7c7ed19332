"""A batch line's ``tools`` and ``tool_choice``: checked before anything is sent.

Why a module of its own: both line formats (ours and the provider Batch body) carry the same
two fields, and a bad tool list found by the provider would cost a request per line (or fail a
whole remote batch's validation) where a check here reports every bad line at once, with its
line number. Only the OpenAI function-tool shape is taken, with exactly its documented keys,
so a misspelt ``paramters`` is an error here rather than a tool the model cannot use.
"""

from __future__ import annotations

import re
from typing import Any

# OpenAI's rule for a function name (DashScope and DeepSeek take the same).
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TOOL_KEYS = frozenset({"type", "function"})
_FUNCTION_KEYS = frozenset({"name", "description", "parameters", "strict"})
_CHOICES = ("auto", "none", "required")
MAX_TOOLS = 128  # OpenAI's limit: a longer list is refused by the API


class ToolFieldError(ValueError):
    """Why a line's tools or tool choice cannot be sent (no line content: it may be secret)."""


def check_tools(value: Any) -> tuple[dict[str, Any], ...]:
    """The line's function tools, as given; ``ToolFieldError`` when the shape is wrong."""
    if not isinstance(value, list) or not value:
        raise ToolFieldError("tools must be a non-empty list of function tools")
    if len(value) > MAX_TOOLS:
        raise ToolFieldError(f"tools has {len(value)} entries (at most {MAX_TOOLS})")
    names: set[str] = set()
    for index, tool in enumerate(value):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise ToolFieldError(f"{where} must be an object")
        if tool.get("type") != "function":
            raise ToolFieldError(f'{where}.type must be "function"')
        if unknown := sorted(set(tool) - _TOOL_KEYS):
            raise ToolFieldError(f"{where} has an unknown field {unknown[0]!r}")
        name = _check_function(tool.get("function"), f"{where}.function")
        if name in names:
            raise ToolFieldError(f"{where}.function.name repeats an earlier tool's name")
        names.add(name)
    return tuple(value)


def _check_function(function: Any, where: str) -> str:
    if not isinstance(function, dict):
        raise ToolFieldError(f"{where} must be an object")
    if unknown := sorted(set(function) - _FUNCTION_KEYS):
        raise ToolFieldError(f"{where} has an unknown field {unknown[0]!r}")
    name = function.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ToolFieldError(f"{where}.name must be 1 to 64 letters, digits, _ or -")
    if "description" in function and not isinstance(function["description"], str):
        raise ToolFieldError(f"{where}.description must be a string")
    if "parameters" in function:
        parameters = function["parameters"]
        if not isinstance(parameters, dict):
            raise ToolFieldError(f"{where}.parameters must be a JSON Schema object")
        if parameters.get("type", "object") != "object":
            raise ToolFieldError(f'{where}.parameters.type must be "object"')
    if "strict" in function and not isinstance(function["strict"], bool):
        raise ToolFieldError(f"{where}.strict must be true or false")
    return name


def check_tool_choice(value: Any, tools: tuple[dict[str, Any], ...]) -> str | dict[str, Any]:
    """The line's tool choice; a named function must be one of the line's tools."""
    if not tools:
        raise ToolFieldError("tool_choice without tools")
    if isinstance(value, str):
        if value not in _CHOICES:
            raise ToolFieldError('tool_choice must be "auto", "none", "required" or a function')
        return value
    function = value.get("function") if isinstance(value, dict) else None
    if (
        not isinstance(value, dict)
        or value.get("type") != "function"
        or set(value) != {"type", "function"}
        or not isinstance(function, dict)
        or set(function) != {"name"}
    ):
        raise ToolFieldError(
            'tool_choice must be "auto", "none", "required" or '
            '{"type": "function", "function": {"name": ...}}'
        )
    if function["name"] not in {tool["function"]["name"] for tool in tools}:
        raise ToolFieldError("tool_choice names a function that is not one of the tools")
    return value


def read_tools(obj: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Copy a line's (or a Batch body's) ``tools`` and ``tool_choice`` into its overrides."""
    tools: tuple[dict[str, Any], ...] = ()
    if obj.get("tools") is not None:
        tools = check_tools(obj["tools"])
        overrides["tools"] = tools
    if obj.get("tool_choice") is not None:
        overrides["tool_choice"] = check_tool_choice(obj["tool_choice"], tools)
