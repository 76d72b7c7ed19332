"""The compact id sets of a batch job: small, and exact however the digests collide.

Every index takes its digest function as a parameter; these tests give it a poor one (a
constant, the id's length) so that ids collide as often as possible, and check that no
collision makes a duplicate of a distinct id, a done item of one not done, or the reverse.
"""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

from deepseek_cli.batch.input.ids import InputIds
from deepseek_cli.batch.input.scan import iter_lines, scan
from deepseek_cli.batch.input.source import InputSource
from deepseek_cli.batch.recorded import Recorded


def constant(_: str) -> int:
    return 7 << 52  # every id in one bucket, with one digest


def by_length(item_id: str) -> int:
    return len(item_id) << 40


def write_lines(path: Path, rows: list[dict[str, object]]) -> InputSource:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return InputSource(str(path), spool_dir=path.parent, max_line_bytes=1 << 20)


def test_distinct_ids_that_share_a_digest_are_not_duplicates(tmp_path):
    rows = [{"id": i, "prompt": "p"} for i in ("a", "b", "c", "d")]
    found = scan(write_lines(tmp_path / "in.jsonl", rows), digest=constant)
    assert (found.valid, found.bad_lines, found.duplicates) == (4, 0, {})


def test_a_repeated_id_among_colliding_ones_is_a_duplicate_with_its_lines(tmp_path):
    rows = [
        {"id": "aa", "prompt": "p", "model": "m1"},
        {"id": "bb", "prompt": "p", "model": "m2", "max_tokens": 5},
        {"id": "aa", "prompt": "p", "model": "only-on-the-duplicate"},
        {"id": "c", "prompt": "p"},
        {"id": "aa", "prompt": "p"},
    ]
    found = scan(write_lines(tmp_path / "in.jsonl", rows), digest=by_length)
    assert (found.valid, found.bad_lines) == (3, 2)
    assert found.duplicates == {"aa": 1}
    assert found.problems == [(1, f"{found.name}:1: duplicate id 'aa' on lines 1, 3, 5")]
    # The models --max-cost checks are those of the lines that will be sent.
    assert found.models == {"m1": True, "m2": False, None: True}


def record(item_id: str) -> bytes:
    return json.dumps({"id": item_id, "answer": "x", "error": None}).encode() + b"\n"


def recorded_file(path: Path, ids: list[str], digest) -> tuple[Recorded, int]:
    path.write_bytes(b"".join(record(i) for i in ids))
    fd = os.open(path, os.O_RDONLY)
    recorded = Recorded([fd], 1 << 20, digest)
    offset = 0
    for item_id in ids:
        recorded.add(item_id, 0, offset, record(item_id))
        offset += len(record(item_id))
    recorded.freeze()
    return recorded, fd


def test_an_id_is_done_only_when_its_own_record_is_there(tmp_path):
    recorded, fd = recorded_file(tmp_path / "out.jsonl", ["a", "b", "done-long"], constant)
    try:
        assert recorded.find("b") == 0 and recorded.find("done-long") == 0
        assert recorded.find("c") is None  # the same digest as all three
        assert len(recorded) == 3
    finally:
        os.close(fd)


def test_a_record_longer_than_one_read_is_read_whole(tmp_path):
    long_id = "x" * 10_000
    recorded, fd = recorded_file(tmp_path / "out.jsonl", ["a", long_id], constant)
    try:
        assert recorded.find(long_id) == 0
        assert recorded.find(long_id + "y") is None
    finally:
        os.close(fd)


def test_a_record_that_does_not_lead_with_its_id_is_keyed_whole(tmp_path):
    # A provider Batch line leads with its own "id" and is keyed by custom_id.
    line = json.dumps(
        {"id": "batch_req_1", "custom_id": "mine", "response": {}, "error": None}
    ).encode()
    path = tmp_path / "out.jsonl"
    path.write_bytes(line + b"\n")
    fd = os.open(path, os.O_RDONLY)
    try:
        recorded = Recorded([fd], 1 << 20, constant)
        recorded.add("mine", 0, 0, line + b"\n")
        recorded.freeze()
        assert recorded.find("mine") == 0
        assert recorded.find("batch_req_1") is None
    finally:
        os.close(fd)


def test_a_line_is_done_only_when_its_own_id_has_a_record(tmp_path):
    # "other" (from an earlier input) shares the digest of "todo": "todo" is still to send.
    rows = [{"id": i, "prompt": "p"} for i in ("done", "todo", "failed")]
    source = write_lines(tmp_path / "in.jsonl", rows)
    out, fd = recorded_file(tmp_path / "out.jsonl", ["other", "done"], constant)
    errors, fd2 = recorded_file(tmp_path / "errors.jsonl", ["failed", "done"], constant)

    def where(item_id: str) -> int | None:
        if out.find(item_id) is not None:
            return 0
        return 1 if errors.find(item_id) is not None else None

    try:
        found = scan(source, done=where, digest=constant)
    finally:
        os.close(fd)
        os.close(fd2)
    assert (1 in found.done_lines, 2 in found.done_lines, 3 in found.done_lines) == (
        True,
        False,
        True,
    )
    assert (found.done_lines.count, found.failed_before) == (2, 1)
    assert [line.id for line in iter_lines(source, found)] == ["todo"]


def test_a_duplicate_of_a_done_id_is_reported_not_skipped(tmp_path):
    rows = [{"id": i, "prompt": "p"} for i in ("a", "b", "a")]
    source = write_lines(tmp_path / "in.jsonl", rows)
    found = scan(source, done=lambda i: 0 if i == "a" else None, digest=constant)
    assert (found.valid, found.bad_lines, found.done_lines.count) == (2, 1, 1)
    sent = list(iter_lines(source, found))
    assert [(type(x).__name__, x.line) for x in sent] == [("RequestLine", 2), ("BadLine", 3)]


def test_an_input_id_costs_under_ten_bytes():
    # A set of the same strings costs about 90 bytes an id (the measurement).
    ids = [f"item-{i:08d}" for i in range(1_000_000)]
    tracemalloc.start()
    try:
        index = InputIds()
        for item_id in ids:
            index.add(item_id)
        index.freeze()
        size, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print("bytes per id", size / len(ids))
    assert size / len(ids) < 10


AWKWARD = ["plain", "é-ünïcode", 'with "quotes"', "back\\slash", "tab\there", "", "x" * 5000]


def test_a_resume_with_awkward_ids_sends_exactly_the_ones_without_a_record(cli):
    ids = [i or "space " for i in AWKWARD]
    lines = [json.dumps({"id": i, "prompt": f"p{n}"}) for n, i in enumerate(ids)]
    (cli.home / "in.jsonl").write_text("".join(line + "\n" for line in lines[::2]))
    first = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl")
    assert first.code == 0, first.stderr
    # A record for an id the input no longer has, in the openai format, keyed by custom_id.
    with (cli.home / "out.jsonl").open("a") as out:
        out.write(
            json.dumps({"id": "batch_req_x", "custom_id": ids[1] + "-gone", "response": {},
                        "error": None}) + "\n"
        )  # fmt: skip
    (cli.home / "in.jsonl").write_text("".join(line + "\n" for line in lines))
    cli.server.requests.clear()
    again = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl", "--json")
    assert again.code == 0, again.stderr
    sent = sorted(r.json["messages"][-1]["content"] for r in cli.server.requests)
    assert sent == ["p1", "p3", "p5"]
    summary = json.loads(again.stdout.strip().splitlines()[-1])
    assert (summary["done_before"], summary["total"]) == (4, 7)
