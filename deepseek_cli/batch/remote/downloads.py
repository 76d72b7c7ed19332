"""The provider's result files of a job, downloaded once into the job's directory.

Why a cache: a finished batch's output and error files never change, and a fetch may be
repeated (another ``--format``, another ``-o``, after a crash); kept beside the part files
they make every repeat work offline and give byte-identical records. A file is named after
its part, its kind and the provider's file id. A download lands whole or not at all
(``BatchApi.download``), and one shorter than the provider says the file is is thrown away,
so what is in the cache is always a complete file.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from deepseek_cli.batch.remote.jobs import JobStore, Part, RemoteJob
from deepseek_cli.errors import InvalidRequestError, NetworkError

if TYPE_CHECKING:
    from deepseek_cli.backends.batch_api import BatchApi

ResultKind = Literal["output", "errors"]
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
_FILE_ID_KEYS: tuple[tuple[ResultKind, str], ...] = (
    ("output", "output_file_id"),
    ("errors", "error_file_id"),
)


def cache_name(part: Part, kind: ResultKind, file_id: str) -> str:
    return f"{part.file.removesuffix('.jsonl')}.{kind}.{_SAFE.sub('_', file_id)}.jsonl"


def result_files(
    store: JobStore, job: RemoteJob, part: Part
) -> Iterator[tuple[ResultKind, str, Path]]:
    """(kind, provider file id, cache path) of each result file the part has."""
    for kind, key in _FILE_ID_KEYS:
        file_id = part.remote.get(key)
        if file_id:
            yield kind, str(file_id), store.job_dir(job.id) / cache_name(part, kind, str(file_id))


def needs_download(store: JobStore, job: RemoteJob, part: Part) -> bool:
    return any(not path.is_file() for _, _, path in result_files(store, job, part))


def download(
    store: JobStore, api: BatchApi | None, job: RemoteJob, part: Part
) -> dict[ResultKind, Path]:
    """The part's result files, downloaded into the cache if not there yet (``api`` may be
    None when :func:`needs_download` said no)."""
    found: dict[ResultKind, Path] = {}
    for kind, file_id, path in result_files(store, job, part):
        if not path.is_file():
            if api is None:
                raise AssertionError(f"{path} is missing and there is no client to get it")
            expected = None
            with contextlib.suppress(InvalidRequestError):
                expected = api.file_info(file_id).get("bytes")
            size = api.download(file_id, path)
            if isinstance(expected, int) and expected > 0 and size != expected:
                path.unlink(missing_ok=True)
                raise NetworkError(
                    f"the download of {file_id} stopped at {size:,} of {expected:,} bytes",
                    hint="fetch again",
                )
        found[kind] = path
    return found
