"""Input as a hostile (or unlucky) user gives it: endless devices, files that are not what
their name says, garbage where our own files should be, two processes on one session.

Each case must end with one clear line on stderr and the documented exit code: never a
traceback, never an "internal error" (exit 1), never a read without bound.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys

import pytest


def no_internal_error(result):
    assert result.code != 1, result
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result


def shell(cli, script, *, input=None, env=None):
    """``script`` under sh, with ``ds`` the CLI (for redirections like ``< /dev/zero``)."""
    command = " ".join(cli.command())
    return cli.run_argv(["sh", "-c", f'ds() {{ {command} "$@"; }}; {script}'], input=input, env=env)


# --- reads without end ------------------------------------------------------------------------


def test_file_flag_on_dev_zero_is_refused_with_the_limit(cli):
    result = cli.run("ask", "-f", "/dev/zero", "hi", timeout=30)
    no_internal_error(result)
    assert result.code == 2
    assert "/dev/zero is larger than 8 MiB" in result.stderr
    assert cli.server.requests == []


def test_chat_reading_dev_zero_ends_with_the_limit(cli):
    result = shell(cli, "ds chat < /dev/zero")
    no_internal_error(result)
    assert result.code == 65
    assert "stdin line 1 is longer than 8 MiB" in result.stderr
    assert cli.server.requests == []


def test_slash_file_on_dev_zero_warns_and_the_chat_goes_on(cli):
    result = cli.run("chat", input="/file /dev/zero\nhello\n", timeout=30)
    no_internal_error(result)
    assert result.code == 0
    assert "/dev/zero is larger than 8 MiB" in result.stderr
    assert result.stdout == "echo:hello\n"


def test_config_on_dev_zero_is_refused(cli):
    result = cli.run("ask", "hi", env={"DEEPSEEK_CLI_CONFIG": "/dev/zero"}, timeout=30)
    no_internal_error(result)
    assert result.code == 78
    assert "config file /dev/zero is larger than 1 MiB" in result.stderr


def test_api_key_cmd_that_never_ends_is_refused(cli):
    cli.write_config(
        f"""
        [profiles.ds]
        provider = "deepseek"
        base_url = "{cli.server.url}"
        api_key_cmd = "cat /dev/zero"
        """
    )
    result = cli.run("ask", "-p", "ds", "hi", timeout=60)
    no_internal_error(result)
    assert result.code == 78
    assert "api_key_cmd printed more than 64 KiB" in result.stderr
    assert cli.server.requests == []


# --- text that is not text --------------------------------------------------------------------


def test_piped_chat_line_that_is_not_utf8_fails_that_turn_only(cli):
    result = cli.run("chat", input=b"caf\xe9 au lait\nnext\n")
    no_internal_error(result)
    assert result.code == 65
    assert "stdin line 1 is not UTF-8 text (invalid byte at offset 3)" in result.stderr
    assert result.stdout == "echo:next\n"


# --- our own files holding garbage ------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"garbage{",
        b"[1, 2]",
        b'{"name": "g", "turns": "abc"}',
        b'{"name": "g", "turns": [1]}',
        b"\xff\xfe",
    ],
    ids=["not-json", "a-list", "turns-a-string", "turn-a-number", "not-utf8"],
)
def test_session_file_that_is_not_a_session_is_refused(cli, content):
    folder = cli.home / "sessions"
    folder.mkdir(mode=0o700)
    (folder / "g.json").write_bytes(content)
    result = cli.run("chat", "--session", "g", input="hi\n")
    no_internal_error(result)
    assert result.code == 2
    assert f"session file {folder / 'g.json'} is not a session" in result.stderr
    assert cli.server.requests == []
    listing = cli.run("chat", input="/sessions\n")
    no_internal_error(listing)
    assert listing.code == 0 and " g " not in listing.stderr


def test_session_path_that_is_a_directory_is_refused(cli):
    (cli.home / "sessions" / "g.json").mkdir(parents=True)
    result = cli.run("chat", "--session", "g", input="hi\n")
    no_internal_error(result)
    assert result.code == 2 and "cannot read session file" in result.stderr


# --- one session, two processes ---------------------------------------------------------------


def open_chat(cli, *args):
    """A piped chat that stays open (its stdin is ours) once its first turn is answered and
    saved (``/usage`` answers after the save)."""
    proc = subprocess.Popen(
        cli.command("chat", *args),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
        cwd=cli.home,
    )
    proc.stdin.write(b"first\n/usage\n")
    proc.stdin.flush()
    cli.wait_output(proc, ": 1 turn ", "stderr")
    return proc


def end_chat(cli, proc, more=b""):
    """Send ``more`` lines, end the chat's input, and wait for it."""
    proc.stdin.write(more)
    proc.stdin.close()
    proc.stdin = None  # communicate() must not flush it again
    return cli.finish(proc)


def test_second_chat_on_an_open_session_is_refused_and_loses_nothing(cli):
    holder = open_chat(cli, "--session", "work")
    second = cli.run("chat", "--session", "work", input="second\n")
    assert second.code == 75
    assert "session work is open in another deepseek chat" in second.stderr
    assert second.stdout == ""
    done = end_chat(cli, holder, b"third\n")
    assert done.code == 0 and done.stdout == "echo:first\necho:third\n"
    saved = json.loads((cli.home / "sessions" / "work.json").read_text())
    assert [t["prompt"] for t in saved["turns"]] == ["first", "third"]


def test_a_killed_chat_does_not_keep_its_session_locked(cli):
    holder = open_chat(cli, "--session", "work")
    holder.send_signal(signal.SIGKILL)
    end_chat(cli, holder)
    again = cli.run("chat", "--session", "work", input="again\n")
    assert again.code == 0 and again.stdout == "echo:again\n"
    saved = json.loads((cli.home / "sessions" / "work.json").read_text())
    assert [t["prompt"] for t in saved["turns"]] == ["first", "again"]


def test_continue_and_load_respect_the_lock(cli):
    holder = open_chat(cli, "--session", "work")
    assert cli.run("chat", "-c", input="x\n").code == 75
    other = cli.run("chat", "--session", "other", input="/load work\n/save work\n")
    assert other.code == 0
    assert other.stderr.count("session work is open in another deepseek chat") == 2
    end_chat(cli, holder)


def test_new_sessions_started_together_get_their_own_files(cli):
    first = open_chat(cli)
    second = open_chat(cli)
    for proc in (first, second):
        end_chat(cli, proc)
    assert len(list((cli.home / "sessions").glob("*.json"))) == 2


# --- config init/set where the config cannot be ----------------------------------------------


def test_config_init_force_on_a_directory_is_a_config_error(cli):
    folder = cli.home / "confdir"
    folder.mkdir()
    result = cli.run("config", "init", "--force", "--config", str(folder))
    no_internal_error(result)
    assert result.code == 78
    assert f"cannot read config file {folder}: Is a directory" in result.stderr


def test_config_init_under_a_file_is_an_io_error(cli):
    (cli.home / "plain").write_text("x")
    result = cli.run("config", "init", "--config", str(cli.home / "plain" / "config.toml"))
    no_internal_error(result)
    assert result.code == 74
    assert f"cannot write {cli.home / 'plain' / 'config.toml'}" in result.stderr


if sys.platform != "linux":  # /dev/zero and flock semantics as on Linux
    pytestmark = pytest.mark.skip("Linux only")


# --- keys that are not one line of ASCII ------------------------------------------------------

SECRET_TAIL = "tail-of-the-entry-9f8e7d6c"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (f"sk-first-line-0123456789\nlogin: me\n{SECRET_TAIL}", "has 3 lines; a key is one line"),
        ("sk-caf\u00e9-0123456789abcdef", "contains a non-ASCII character"),
        ("sk-0123456789\x01abcdef", "contains a space or a control character"),
        ("sk-0123456789 abcdef", "contains a space or a control character"),
        ("   ", "is empty"),
    ],
    ids=["lines", "non-ascii", "control", "space", "blank"],
)
def test_env_key_of_the_wrong_form_exits_78_before_any_request(cli, key, problem):
    result = cli.run("ask", "hi", env={"DEEPSEEK_API_KEY": key})
    no_internal_error(result)
    assert result.code == 78
    assert f"the API key from env DEEPSEEK_API_KEY {problem}" in result.stderr
    assert cli.server.requests == []
    for piece in ("first-line", "login", SECRET_TAIL, "caf", "0123456789"):
        assert piece not in result.stderr


def test_key_command_printing_a_pass_entry_exits_78_with_a_hint(cli):
    (cli.home / "entry").write_text(f"sk-first-line-0123456789\nurl: x\n{SECRET_TAIL}\n")
    cli.write_config(
        f"""
        [profiles.ds]
        provider = "deepseek"
        base_url = "{cli.server.url}"
        api_key_cmd = "cat entry"
        """
    )
    result = cli.run("ask", "-p", "ds", "hi")
    assert result.code == 78
    assert "the API key from api_key_cmd of profile 'ds' has 3 lines" in result.stderr
    assert "| head -n 1" in result.stderr
    assert SECRET_TAIL not in result.stderr and "first-line" not in result.stderr
    assert cli.server.requests == []


def test_config_set_api_key_refuses_a_key_with_a_control_character(cli):
    result = cli.run("config", "set", "ds.api_key", "-", input="sk-0123456789\x1b[2Jabcdef\n")
    assert result.code == 78
    assert "the API key from stdin contains a space or a control character" in result.stderr
    assert "api_key" not in (cli.home / "config.toml").read_text()


# --- disk full, read-only directories: exit 74, saying what failed ---------------------------


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True, check=False).returncode == 0


@pytest.fixture
def read_only_dir(tmp_path):
    """An empty directory nobody (root included) can write in."""
    path = tmp_path / "ro"
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        yield path
        path.chmod(0o755)
        return
    if not (_mount("--bind", str(path), str(path)) and _mount("-o", "remount,ro,bind", str(path))):
        pytest.skip("cannot mount a read-only directory here")
    yield path
    subprocess.run(["umount", str(path)], check=False)


@pytest.fixture
def full_disk(tmp_path):
    """A directory on a 64 KiB file system that is full."""
    path = tmp_path / "full"
    path.mkdir()
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)):
        pytest.skip("needs root to mount a small tmpfs")
    with (path / "filler").open("wb") as fh, contextlib.suppress(OSError):
        fh.write(b"x" * (1 << 20))
    yield path
    subprocess.run(["umount", str(path)], check=False)


def test_chat_whose_session_cannot_be_saved_says_so_and_exits_74(cli, full_disk):
    env = {
        "DEEPSEEK_CLI_HOME": str(full_disk),
        "DEEPSEEK_CLI_CONFIG": str(cli.home / "config.toml"),
    }
    result = cli.run("chat", "--session", "s", input="hi\nagain\n", env=env)
    no_internal_error(result)
    assert result.code == 74
    assert result.stdout == "echo:hi\necho:again\n"  # the answers were still shown
    assert "session s not saved: No space left on device" in result.stderr
    assert "provider" not in result.stderr


def test_chat_in_a_read_only_home_exits_74_before_sending(cli, read_only_dir):
    env = {
        "DEEPSEEK_CLI_HOME": str(read_only_dir),
        "DEEPSEEK_CLI_CONFIG": str(cli.home / "config.toml"),
    }
    result = cli.run("chat", "--session", "s", input="hi\n", env=env)
    no_internal_error(result)
    assert result.code == 74
    assert "cannot lock session s" in result.stderr
    assert cli.server.requests == []


def test_batch_output_on_a_full_disk_exits_74_not_unavailable(cli, full_disk):
    (cli.home / "in.jsonl").write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": "x" * 2000}) + "\n" for i in range(40))
    )
    result = cli.run("batch", "run", "in.jsonl", "-o", str(full_disk / "out.jsonl"))
    no_internal_error(result)
    assert result.code == 74
    assert f"cannot write {full_disk / 'out.jsonl'}" in result.stderr
    assert "No space left on device" in result.stderr


def test_batch_output_in_a_read_only_directory_exits_74(cli, read_only_dir):
    (cli.home / "in.jsonl").write_text(json.dumps({"id": "q", "prompt": "x"}) + "\n")
    result = cli.run("batch", "run", "in.jsonl", "-o", str(read_only_dir / "out.jsonl"))
    no_internal_error(result)
    assert result.code == 74
    assert f"cannot open {read_only_dir / 'out.jsonl'}" in result.stderr
    assert cli.server.requests == []


@pytest.mark.parametrize("command", [["init", "--force"], ["set", "ds.model", "m"]], ids=" ".join)
def test_config_writes_in_a_read_only_directory_exit_74(cli, read_only_dir, command):
    target = read_only_dir / "config.toml"
    result = cli.run("config", *command, "--config", str(target))
    no_internal_error(result)
    assert result.code == 74
    assert f"cannot write {target}" in result.stderr


def test_ask_with_a_ledger_on_a_full_disk_answers_and_warns(cli, full_disk):
    env = {
        "DEEPSEEK_CLI_HOME": str(full_disk),
        "DEEPSEEK_CLI_CONFIG": str(cli.home / "config.toml"),
    }
    result = cli.run("ask", "hi", env=env)
    assert result.code == 0 and result.stdout == "echo:hi\n"
    assert f"usage not recorded in {full_disk / 'usage.db'}" in result.stderr


# --- closed standard streams ------------------------------------------------------------------


def test_closed_stderr_still_saves_the_session_and_the_ledger_row(cli):
    result = shell(cli, "ds chat --session s 2>&-", input="/usage\nhi\n")
    assert result.code == 0 and result.stdout == "echo:hi\n"
    saved = json.loads((cli.home / "sessions" / "s.json").read_text())
    assert [t["answer"] for t in saved["turns"]] == ["echo:hi"]
    rows = sqlite3.connect(cli.home / "usage.db").execute("SELECT command FROM calls").fetchall()
    assert rows == [("chat",)]


def test_closed_stderr_still_writes_every_batch_record(cli):
    (cli.home / "in.jsonl").write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": "x"}) + "\n" for i in range(3))
    )
    result = shell(cli, "ds batch run in.jsonl -o out.jsonl 2>&-")
    assert result.code == 0, result
    assert len((cli.home / "out.jsonl").read_text().splitlines()) == 3


def test_closed_stdout_ends_a_piped_chat_after_saving_its_turn(cli):
    result = shell(cli, "ds chat --session s >&-", input="first\nsecond\n")
    assert result.code == 0, result
    assert "Traceback" not in result.stderr and "error" not in result.stderr
    assert len(cli.server.requests) == 1  # nobody reads: the second line is not sent
    saved = json.loads((cli.home / "sessions" / "s.json").read_text())
    assert [t["prompt"] for t in saved["turns"]] == ["first"]


@pytest.mark.parametrize("args", [["ask", "hi"], ["ask", "--json", "hi"], ["usage"]], ids=" ".join)
def test_closed_stdout_ends_quietly(cli, args):
    result = shell(cli, f"ds {' '.join(args)} >&-")
    assert result.code == 0, result
    assert "Traceback" not in result.stderr and "error" not in result.stderr


# --- numbers that are not numbers ------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["-t", "nan"],
        ["--top-p", "nan"],
        ["--timeout", "nan"],
        ["--timeout", "inf"],
        ["-x", "temperature=NaN"],
        ["-x", "logit_bias=[1, Infinity]"],
        ["-x", "top_k=1e999"],
    ],
    ids=" ".join,
)
def test_flags_that_are_not_finite_numbers_exit_2(cli, args):
    result = cli.run("ask", *args, "hi")
    no_internal_error(result)
    assert result.code == 2, result
    assert "not a finite number" in result.stderr or "not JSON numbers" in result.stderr
    assert cli.server.requests == []


@pytest.mark.parametrize(
    "flag", ["--backoff", "--grace", "--outage-budget", "--max-wait", "--ramp"]
)
def test_batch_float_flags_refuse_nan(cli, flag):
    (cli.home / "in.jsonl").write_text(json.dumps({"id": "q", "prompt": "x"}) + "\n")
    result = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl", flag, "nan")
    assert result.code == 2 and "nan is not a finite number" in result.stderr
    assert cli.server.requests == []


def test_a_float_option_with_a_range_refuses_nan_and_inf():
    import typer

    from deepseek_cli.cli.options import FiniteFloat, option

    declared = option("--seconds SECONDS", "A duration.", min=0.0)
    assert isinstance(declared.click_type, FiniteFloat)
    kind = FiniteFloat(0.0, 2.0)
    assert kind.convert("1.5", None, None) == 1.5
    for text in ("nan", "inf", "-inf", "3"):
        with pytest.raises(typer.BadParameter):
            kind.convert(text, None, None)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("temperature = nan", "'temperature' must be a number from 0 to 2, not nan"),
        ("top_p = inf", "'top_p' must be a number from 0 to 1, not inf"),
        ("timeout = -5", "'timeout' must be a number at least 0.1, not -5"),
        ("idle_timeout = nan", "'idle_timeout' must be a number at least 0.1, not nan"),
        ("max_tokens = 0", "'max_tokens' must be a number at least 1, not 0"),
        ("concurrency = 0", "'concurrency' must be a number at least 1, not 0"),
        ('model = ""', "'model' is empty"),
        ('api_key_env = " "', "'api_key_env' is empty"),
        ('reasoning_effort = "loud"', "'reasoning_effort' must be one of minimal, low"),
        ('currency = "dollars"', "'currency' must be a three-letter code"),
        ("extra_body = { a = [1, nan] }", "'extra_body' holds nan or inf"),
    ],
    ids=lambda v: v.split(" ")[0] if " = " in v else "",
)
def test_config_values_out_of_range_exit_78(cli, line, message):
    cli.write_config(
        f"""
        [profiles.ds]
        provider = "deepseek"
        base_url = "{cli.server.url}"
        {line}
        """
    )
    result = cli.run("ask", "-p", "ds", "hi")
    no_internal_error(result)
    assert result.code == 78, result
    assert f"[profiles.ds]: {message}" in result.stderr
    assert cli.server.requests == []


def test_config_set_refuses_nan(cli):
    before = (cli.home / "config.toml").read_text()
    result = cli.run("config", "set", "ds.temperature", "nan")
    assert result.code == 2
    assert "profiles.ds.temperature must be a finite number, not 'nan'" in result.stderr
    assert (cli.home / "config.toml").read_text() == before


def test_batch_lines_with_nan_or_huge_numbers_are_invalid_input(cli):
    (cli.home / "in.jsonl").write_text(
        '{"id": "a", "prompt": "x", "temperature": NaN}\n'
        '{"id": "b", "prompt": "x", "extra": {"k": -Infinity}}\n'
        '{"id": "c", "prompt": "x", "top_p": 1e400}\n'
    )
    result = cli.run("batch", "run", "in.jsonl", "-o", "out.jsonl")
    no_internal_error(result)
    assert result.code == 65
    assert "in.jsonl:1: invalid JSON (NaN is not a JSON number)" in result.stderr
    assert "in.jsonl:2: invalid JSON (-Infinity is not a JSON number)" in result.stderr
    assert "in.jsonl:3: invalid JSON (1e400 is too large a number)" in result.stderr
    assert cli.server.requests == []
