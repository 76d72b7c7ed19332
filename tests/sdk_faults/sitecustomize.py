"""Makes a third-party SDK misbehave inside a CLI child process, for tests of the error paths.

Python imports ``sitecustomize`` at start-up from the first ``sys.path`` entry that has one,
so a test puts this directory on the child's ``PYTHONPATH`` (``Cli.sdk_fault``) and names the
fault in ``TEST_SDK_FAULT``. Only the SDK is touched, never ``deepseek_cli``: the CLI meets the
fault exactly as it would meet the same bug in the SDK.

Faults:

``chat-create-raises``
    ``AsyncCompletions.create`` (the openai SDK's chat call, streaming or not) raises
    ``RuntimeError("bug while holding <the API key the client holds>")`` before sending
    anything: an unexpected exception whose message carries the key.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from typing import Any

FAULT = os.environ.get("TEST_SDK_FAULT", "")
CHAT_MODULE = "openai.resources.chat.completions.completions"


def _break_chat_create(module: Any) -> None:
    async def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"bug while holding {self._client.api_key}")

    module.AsyncCompletions.create = create


PATCHES = {"chat-create-raises": (CHAT_MODULE, _break_chat_create)}


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Lets ``name`` load normally, then applies ``patch`` to it (the SDK imports lazily)."""

    def __init__(self, name: str, patch: Any) -> None:
        self.name = name
        self.patch = patch

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        load = spec.loader.exec_module
        patch = self.patch

        def exec_module(module: Any) -> None:
            load(module)
            patch(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if FAULT:
    if FAULT not in PATCHES:
        raise SystemExit(f"sdk_faults: unknown TEST_SDK_FAULT {FAULT!r}")
    sys.meta_path.insert(0, _PatchOnImport(*PATCHES[FAULT]))
