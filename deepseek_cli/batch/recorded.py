"""The ids the output and errors files already hold: whether an input id is done.

Why its own module: resuming against a million records must not hold a million id strings,
and must still never take one id for another. Each record is kept as its id's 64-bit digest
and where the record starts in its file (16 bytes). An id is done only when a record its
digest points at, read again from the file, carries that very id: a digest that collides
costs one more read, never a skipped item. Records that lead with their id, as ours do,
are confirmed by reading just that leading field (0.5 us); others are read and keyed whole.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from deepseek_cli.batch.input.ids import Digest, DigestIndex, digest_of
from deepseek_cli.batch.records import record_key
from deepseek_cli.batch.writer import MAX_RECORD_BYTES, OutputFiles
from deepseek_cli.errors import UsageError

_FIRST_READ = 4096  # most records are shorter: one read
_PLAIN = re.compile(r'[^"\\\x00-\x1f]*')  # an id its JSON string spells byte for byte
_LEADS, _WHOLE = 2, 0  # how a record is confirmed: by its leading id field, or read whole


def _prefix(item_id: str) -> bytes:
    return b'{"id":"' + item_id.encode() + b'"'


class Recorded:
    """The recorded ids of a job's files (``fds``: output, errors), looked up by id."""

    def __init__(self, fds: Sequence[int], limit: int, digest: Digest = digest_of) -> None:
        self._fds = list(fds)
        self._limit = limit
        self._index = DigestIndex(digest, values=True)

    def __len__(self) -> int:
        return self._index.size

    def add(self, item_id: str, file_no: int, offset: int, line: bytes) -> None:
        """The record ``line``, keyed ``item_id``, starts at ``offset`` of file ``file_no``."""
        leads = _PLAIN.fullmatch(item_id) is not None and line.startswith(_prefix(item_id))
        how = _LEADS if leads else _WHOLE
        self._index.add_digest(self._index.digest(item_id), offset << 2 | how | file_no)

    def freeze(self) -> None:
        self._index.freeze()

    def find(self, item_id: str) -> int | None:
        """The file holding ``item_id``'s record (the output's number before the errors'),
        or ``None`` when neither does."""
        index = self._index
        bucket, first, end = index.span(index.digest(item_id))
        if first == end:
            return None
        assert index.values is not None
        places = index.values[bucket]
        plain = _PLAIN.fullmatch(item_id) is not None
        found: int | None = None
        for i in range(first, end):
            place = places[i]
            file_no, offset = place & 1, place >> 2
            if found is not None and file_no >= found:
                continue
            fd = self._fds[file_no]
            if place & _LEADS:
                # That record's line starts with its id, which spells its JSON string byte
                # for byte: the same bytes for this id mean the same id (and neither can hold
                # a quote, so one cannot be the other's beginning).
                if plain:
                    prefix = _prefix(item_id)
                    if os.pread(fd, len(prefix), offset) == prefix:
                        found = file_no
            elif self._id_at(fd, offset) == item_id:
                found = file_no
        return found

    def _id_at(self, fd: int, offset: int) -> str | None:
        """The id of the record at ``offset``: the very line read when the job started."""
        data = os.pread(fd, _FIRST_READ, offset)
        end = data.find(b"\n")
        while end < 0 and 0 < len(data) <= self._limit:
            more = os.pread(fd, len(data), offset + len(data))
            if not more:
                break
            searched = len(data)
            data += more
            end = data.find(b"\n", searched)
        key = record_key(data if end < 0 else data[: end + 1])
        return key[0] if isinstance(key, tuple) else None


@dataclass
class Done:
    """What the output files say was done before this run."""

    recorded: Recorded
    lines: set[int] = field(default_factory=set)  # input lines recorded as unusable, by number
    unreadable: int = 0


def read_done(files: OutputFiles, *, skip_errors: bool) -> Done:
    """Read back every record of the job's files (``skip_errors``: ``--retry-errors`` is about
    to clear that file); raises ``UsageError`` when the output is a batch input file."""
    done = Done(Recorded((files.output.fd, files.errors.fd), MAX_RECORD_BYTES))
    for file_no, which in enumerate((files.output, files.errors)):
        if skip_errors and which is files.errors:
            continue
        for offset, raw, key in files.keys(which):
            if key is None:
                done.unreadable += 1
                continue
            if isinstance(key, str):  # records.INPUT_LINE: never a result
                raise UsageError(
                    f"{which.path} holds batch input lines, not results: is it an input file? "
                    "nothing was sent",
                    "write to another -o file",
                )
            item_id, line = key
            if item_id is not None:
                done.recorded.add(item_id, file_no, offset, raw)
            elif line is not None:
                done.lines.add(line)
    done.recorded.freeze()
    return done
