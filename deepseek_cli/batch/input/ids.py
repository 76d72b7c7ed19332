"""Compact id sets for batch jobs: what lets a ten-million-line input fit in memory.

Why not ``set[str]``: an id string in a set costs about 90 bytes, so a 4M-line input held
about 360 MiB of ids. Here an input id costs 8 bytes (a 64-bit digest in a sorted array) while
the input is validated, and an id already in the output files 16 (its digest and where its
record is, ``batch.recorded``); both are freed before the first request.

Digests can collide, and a collision must never skip an id that was not done. So a digest
only ever narrows the search: the validation pass finds the digests that several input lines
share and reads those lines again, telling a repeated id (a duplicate) from distinct ids that
collide; and whether an id is done is decided by comparing it with the id in the record its
digest points at.
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_left
from collections.abc import Callable

MASK = (1 << 64) - 1
BUCKET_BITS = 12  # 4,096 sorted arrays: each one's sort needs only a small temporary list

Digest = Callable[[str], int]


def digest_of(item_id: str) -> int:
    """A 64-bit digest of an id.

    Python's string hash is SipHash with a key drawn at random for each process: 64 bits,
    computed once per string object, about 50 ns, and no input can be made to collide on
    purpose. Exactness never depends on it (see the module docstring).
    """
    return hash(item_id) & MASK


class DigestIndex:
    """Sorted 64-bit digests in buckets by their top bits, with one value per digest.

    Filled with ``add`` in any order, then ``freeze`` sorts it; ``span`` finds a digest.
    Tests pass a poor ``digest`` (a constant, a length) to make every id collide.
    """

    def __init__(self, digest: Digest = digest_of, *, values: bool = False) -> None:
        self.digest = digest
        self.keys: list[array[int]] = [array("Q") for _ in range(1 << BUCKET_BITS)]
        self.values: list[array[int]] | None = (
            [array("Q") for _ in range(1 << BUCKET_BITS)] if values else None
        )
        self.size = 0

    def add_digest(self, key: int, value: int = 0) -> None:
        bucket = key >> (64 - BUCKET_BITS)
        self.keys[bucket].append(key)
        if self.values is not None:
            self.values[bucket].append(value)
        self.size += 1

    def freeze(self) -> None:
        """Sort every bucket (values move with their digests)."""
        for i, keys in enumerate(self.keys):
            if len(keys) < 2:
                continue
            if self.values is None:
                self.keys[i] = array("Q", sorted(keys))
                continue
            pairs = sorted(zip(keys, self.values[i], strict=True))
            self.keys[i] = array("Q", (k for k, _ in pairs))
            self.values[i] = array("Q", (v for _, v in pairs))

    def span(self, key: int) -> tuple[int, int, int]:
        """``(bucket, first, end)``: where ``key`` is, ``first == end`` when absent."""
        bucket = key >> (64 - BUCKET_BITS)
        keys = self.keys[bucket]
        first = end = bisect_left(keys, key)
        while end < len(keys) and keys[end] == key:
            end += 1
        return bucket, first, end

    def repeated(self) -> set[int]:
        """The digests held more than once."""
        found: set[int] = set()
        for keys in self.keys:
            if len(keys) > 1 and len(set(keys)) != len(keys):
                found.update(a for a, b in itertools.pairwise(keys) if a == b)
        return found


class InputIds(DigestIndex):
    """The digests of a batch input's valid ids: what finds its duplicates."""

    def add(self, item_id: str) -> None:
        key = self.digest(item_id)  # add_digest, inlined: once per input line
        self.keys[key >> (64 - BUCKET_BITS)].append(key)
        self.size += 1


def give_back_freed_memory() -> None:
    """Return the pages of freed indexes to the system, where the C library allows it.

    glibc keeps freed heap memory for reuse, but the objects created next (the SDK's, when
    the job starts) come from Python's own arenas, not from there: without this, a 4M-line
    input's 36 MiB of digests stay resident for the whole job after they were freed.
    """
    try:
        import ctypes  # here: only batch run pays for it, once

        trim = ctypes.CDLL(None).malloc_trim
    except (ImportError, OSError, AttributeError):  # not glibc: nothing to do
        return
    trim(0)
