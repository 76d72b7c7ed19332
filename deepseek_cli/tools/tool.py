"""A tool as the model sees it (a function with a JSON-schema), and a call's result.

Why apart: the Toolbox, the call path and the callers (the tool loop, listings) all speak of
these two, which depend on nothing else.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

# OpenAI-style function names: ^[a-zA-Z0-9_-]{1,64}$.
_WIRE_MAX = 64
_NOT_WIRE = re.compile(r"[^a-zA-Z0-9_-]")


@dataclass(frozen=True)
class Tool:
    server: str
    name: str
    description: str
    input_schema: dict[str, Any] = field(compare=False)

    @property
    def qualified(self) -> str:
        return f"{self.server}.{self.name}"

    @property
    def wire_name(self) -> str:
        """The function name the API sees: ``calc__add``. Names that would not be
        ``[a-zA-Z0-9_-]{1,64}`` as they are, or could be read two ways (a server name with
        ``__`` in it, or ending in ``_``), are cut and end in a hash of the qualified name,
        which keeps them unique."""
        plain = f"{self.server}__{self.name}"
        unambiguous = "__" not in self.server and not self.server.endswith("_")
        if unambiguous and len(plain) <= _WIRE_MAX and not _NOT_WIRE.search(plain):
            return plain
        digest = hashlib.sha256(self.qualified.encode()).hexdigest()[:10]
        return f"{_NOT_WIRE.sub('_', plain)[: _WIRE_MAX - 12]}_h{digest}"

    def spec(self) -> dict[str, Any]:
        """The tool as an OpenAI-style function tool."""
        return {
            "type": "function",
            "function": {
                "name": self.wire_name,
                "description": self.description,
                "parameters": self.input_schema,
            },
        }

    @property
    def summary(self) -> str:
        """The description's first line, for listings."""
        lines = self.description.strip().splitlines()
        return lines[0].strip() if lines else ""


@dataclass(frozen=True)
class ToolResult:
    text: str
    is_error: bool
