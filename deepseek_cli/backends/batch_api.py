"""The provider's Batch service (``/files`` and ``/batches``) through the openai SDK.

Why the SDK and not hand-written HTTP: DashScope's Batch API is the OpenAI one on the
compatible-mode host, and the SDK already speaks it: multipart upload (``client.files.create``
with ``purpose="batch"``), cursor pages (and their trap: an empty DashScope list is
``"data": null``, which the SDK's pages read as no items), streamed downloads
(``with_streaming_response``), and its error classes, which ``sdk_errors.map_sdk_error``
maps to ours like every other call. Like the chat adapter, the key and base URL are passed
explicitly with every ``OPENAI_*`` variable hidden while the client is built.

Retries: reads (retrieve, list, file info, download) and the upload keep the SDK's two
retries (re-reading is harmless; a repeated upload leaves at most an unused file). Creating
a batch never goes out twice from here (``max_retries=0``): a second create is a second
billed job. The caller decides, after listing the batches, whether the first one got through.

Everything returned is a plain ``dict`` (``model_dump``), so nothing outside this package
sees an SDK type. The openai SDK is imported when a ``BatchApi`` is built, never before.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

from deepseek_cli.backends.openai_compat import _without_openai_env
from deepseek_cli.backends.sdk_errors import map_sdk_error
from deepseek_cli.config.profiles import Timeouts
from deepseek_cli.errors import ApiError, NetworkError
from deepseek_cli.safefile import AtomicWriter

T = TypeVar("T")
LIST_PAGE = 100


class BatchApi:
    def __init__(
        self, base_url: str, api_key: str | None, provider: str, timeouts: Timeouts
    ) -> None:
        with _without_openai_env():
            import httpx2
            import openai
        logging.getLogger("openai").setLevel(logging.WARNING)
        self._openai = openai
        self._transport_error = httpx2.HTTPError
        self._provider = provider
        self._base_url = base_url
        with _without_openai_env():
            self._client = openai.OpenAI(
                api_key=api_key or "no-key",
                base_url=base_url,
                max_retries=2,
                timeout=openai.Timeout(
                    timeouts.total,
                    connect=timeouts.connect,
                    read=timeouts.idle,
                    write=timeouts.idle,
                ),
            )
        self._no_retry = self._client.with_options(max_retries=0)

    def close(self) -> None:
        self._client.close()

    def _call(self, func: Callable[[], T]) -> T:
        try:
            return func()
        except self._openai.OpenAIError as exc:
            raise map_sdk_error(self._openai, exc, self._provider, self._base_url) from None
        except self._transport_error as exc:
            raise NetworkError(
                f"connection to the Batch service failed ({type(exc).__name__}: {exc})",
                hint="try again",
            ) from None

    # -- files
    def upload(self, path: Path, filename: str) -> dict[str, Any]:
        """``POST /files`` (multipart, ``purpose=batch``) with the file's exact bytes."""

        def send() -> Any:
            with path.open("rb") as fh:
                return self._client.files.create(
                    file=(filename, fh, "application/jsonl"), purpose="batch"
                )

        return _plain(self._call(send))

    def file_info(self, file_id: str) -> dict[str, Any]:
        return _plain(self._call(lambda: self._client.files.retrieve(file_id)))

    def download(self, file_id: str, dest: Path) -> int:
        """Stream ``GET /files/{id}/content`` into ``dest`` (atomically: a download cut off
        half way leaves no file). Returns the number of bytes."""
        with AtomicWriter(dest, suffix=".part") as out:

            def fetch() -> None:
                out.restart()  # run again (a retry): the file starts over, empty
                with self._client.files.with_streaming_response.content(file_id) as response:
                    for chunk in response.iter_bytes(1 << 20):
                        out.write(chunk)

            self._call(fetch)
        return out.size

    def delete_file(self, file_id: str) -> None:
        self._call(lambda: self._client.files.delete(file_id))

    # -- batches
    def create(
        self, file_id: str, endpoint: str, window: str, metadata: dict[str, str]
    ) -> dict[str, Any]:
        """``POST /batches``; never retried here (see the module docstring)."""
        return _plain(
            self._call(
                lambda: self._no_retry.batches.create(
                    input_file_id=file_id,
                    # The SDK types OpenAI's own values; DashScope takes more (its test
                    # endpoint, windows up to 336h), and the SDK sends whatever it is given.
                    endpoint=cast(Any, endpoint),
                    completion_window=cast(Any, window),
                    metadata=metadata,
                )
            )
        )

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        return _plain(self._call(lambda: self._client.batches.retrieve(batch_id)))

    def cancel(self, batch_id: str) -> dict[str, Any]:
        return _plain(self._call(lambda: self._client.batches.cancel(batch_id)))

    def batches(self, max_pages: int = 50) -> Iterator[dict[str, Any]]:
        """Every batch, newest first as the service lists them, page by page."""
        after: str | None = None
        for _ in range(max_pages):
            kwargs: dict[str, Any] = {"limit": LIST_PAGE}
            if after is not None:
                kwargs["after"] = after
            page = self._call(functools.partial(self._client.batches.list, **kwargs))
            items = [_plain(b) for b in page.data or ()]
            yield from items
            if not items or not getattr(page, "has_more", False):
                return
            after = items[-1]["id"]


def _plain(obj: Any) -> dict[str, Any]:
    with contextlib.suppress(AttributeError):
        dumped: dict[str, Any] = obj.model_dump(mode="json")
        return dumped
    if isinstance(obj, dict):
        return obj
    raise ApiError(f"unexpected answer from the Batch service: {type(obj).__name__}")
