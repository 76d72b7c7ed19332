"""The one seam between the tool and the providers' SDKs.

A backend takes a :class:`~deepseek_cli.events.ChatRequest` plus the provider options planned
for it (``backends.params``) and yields events: deltas in arrival order, then at most one
``Usage``, then exactly one ``Finished``. Failures are raised as our ``ApiError`` classes, never
as SDK exceptions. Adapters are imported only when used: each SDK costs about half a second
to import, and ``--help``, ``models`` and ``usage`` never need one.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncGenerator
from typing import Any, Protocol

from deepseek_cli.config.profiles import Profile
from deepseek_cli.events import ChatRequest, Event

ADAPTERS: dict[str, str] = {
    "openai_compat": "deepseek_cli.backends.openai_compat:OpenAICompatBackend",
    "dashscope_native": "deepseek_cli.backends.dashscope_native:DashScopeNativeBackend",
}


class Backend(Protocol):
    def stream(self, request: ChatRequest, params: dict[str, Any]) -> AsyncGenerator[Event, None]:
        """Events for one attempt of ``request``; raises ``ApiError`` on failure."""
        ...

    async def list_models(self) -> list[str]: ...

    async def aclose(self) -> None: ...


def make_backend(profile: Profile, api_key: str | None, **kwargs: Any) -> Backend:
    module_name, _, class_name = ADAPTERS[profile.backend_name].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    backend: Backend = cls(profile, api_key, **kwargs)
    return backend
