"""``batch run`` given its own input as the output, input lines where results belong, streams
that never end and files that are not files: refused before anything is sent, or bounded."""

from __future__ import annotations

import json
import os

import pytest
from batch_helpers import make_input, requested_ids


@pytest.fixture
def batch_input(cli):
    path = cli.home / "in.jsonl"
    make_input(path, 3)
    return path


def test_input_piped_back_into_itself_sends_nothing_and_says_why(cli, batch_input):
    before = batch_input.read_bytes()
    result = cli.run_argv(
        ["sh", "-c", f"cat in.jsonl | {' '.join(cli.command())} batch run - -o in.jsonl"]
    )
    assert result.code == 2, result
    assert "in.jsonl holds batch input lines, not results: is it an input file?" in result.stderr
    assert cli.server.requests == []
    assert batch_input.read_bytes() == before
    assert not (cli.home / "in.errors.jsonl").exists()


def test_input_redirected_from_the_output_file_is_refused(cli, batch_input):
    result = cli.run_argv(
        ["sh", "-c", f"{' '.join(cli.command())} batch run - -o in.jsonl < in.jsonl"]
    )
    assert result.code == 2
    assert "the input file is also the output or errors file" in result.stderr
    assert cli.server.requests == []


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_output_that_is_the_input_by_another_name_is_refused(cli, batch_input, link):
    other = cli.home / "other.jsonl"
    (os.symlink if link == "symlink" else os.link)(batch_input, other)
    result = cli.run("batch", "run", "in.jsonl", "-o", "other.jsonl")
    assert result.code == 2
    assert "the input file is also the output or errors file" in result.stderr
    assert cli.server.requests == []


def test_errors_file_that_is_the_input_is_refused(cli, batch_input):
    result = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl", "--errors", "in.jsonl")
    assert result.code == 2
    assert "the input file is also the output or errors file" in result.stderr
    assert not (cli.home / "out.jsonl").exists()


def test_errors_file_that_is_the_output_is_refused_as_such(cli, batch_input):
    result = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl", "--errors", "out.jsonl")
    assert result.code == 2
    assert "the output and errors files are the same file" in result.stderr
    assert not (cli.home / "out.jsonl").exists()


def test_another_input_file_as_the_output_is_refused(cli, batch_input):
    make_input(cli.home / "second.jsonl", 2)
    result = cli.run("batch", "run", "in.jsonl", "-o", "second.jsonl")
    assert result.code == 2
    assert "second.jsonl holds batch input lines, not results" in result.stderr
    assert cli.server.requests == []


def test_a_line_with_an_id_but_no_record_shape_is_not_a_result(cli, batch_input):
    out = cli.home / "out.jsonl"
    out.write_text(json.dumps({"id": "q0", "note": "not a record"}) + "\n")
    result = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl")
    assert result.code == 0, result.stderr
    assert sorted(requested_ids(cli.server)) == ["q0", "q1", "q2"]
    assert "1 unreadable line(s) in the output files ignored" in result.stderr


def test_endless_stdin_is_refused_at_the_limit_without_filling_the_disk(cli):
    result = cli.run_argv(
        ["sh", "-c", f"{' '.join(cli.command())} batch run - -o out.jsonl < /dev/zero"]
    )
    assert result.code == 65
    assert "<stdin> is larger than 4 GiB" in result.stderr
    assert cli.server.requests == []


def test_a_device_as_the_input_path_is_bounded(cli):
    result = cli.run("batch", "run", "/dev/zero", "-o", "out.jsonl")
    assert result.code == 65
    assert "/dev/zero is larger than 4 GiB" in result.stderr


def test_a_pipe_as_the_input_path_is_read_twice_through_a_spool(cli, batch_input):
    result = cli.run_argv(
        ["bash", "-c", f"{' '.join(cli.command())} batch run <(cat in.jsonl) -o out.jsonl"]
    )
    assert result.code == 0, result.stderr
    assert sorted(requested_ids(cli.server)) == ["q0", "q1", "q2"]


def test_a_device_as_the_output_is_refused(cli, batch_input):
    result = cli.run("batch", "run", "in.jsonl", "-o", "/dev/full", timeout=30)
    assert result.code == 2
    assert "/dev/full is not a regular file" in result.stderr
    assert cli.server.requests == []
