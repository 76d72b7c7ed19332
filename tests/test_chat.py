"""``deepseek chat``: piped (scriptable) mode and the interactive REPL in a pseudo-terminal."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from datetime import datetime

import pexpect
from fakeserver import http_fixture, openai_stream


def messages(cli, index):
    return cli.server.requests[index].json["messages"]


def session_file(cli, name):
    return cli.home / "sessions" / f"{name}.json"


# --- piped mode --------------------------------------------------------------------------------


def test_piped_turns_carry_history_without_thinking(cli):
    cli.server.enqueue(openai_stream(answer=["echo:q1"], thinking=["secret reasoning"]))
    result = cli.run("chat", input="q1\nq2\n/exit\n")
    assert result.code == 0
    assert result.stdout == "echo:q1\necho:q2\n"
    assert "secret reasoning" not in result.stdout
    assert messages(cli, 1) == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "echo:q1"},
        {"role": "user", "content": "q2"},
    ]


def test_no_think_changes_the_next_request(cli):
    result = cli.run("chat", input="q1\n/no_think\nq2\n/think\nq3\n")
    assert result.code == 0
    first, second, third = (cli.server.requests[i].json for i in range(3))
    assert "thinking" not in first
    assert second["thinking"] == {"type": "disabled"}
    assert third["thinking"] == {"type": "enabled"}
    assert "thinking off for the next turns" in result.stderr


def test_think_switch_refused_on_models_that_cannot_switch(cli):
    result = cli.run("chat", "-p", "dsc", "-m", "deepseek-r1", input="/no_think\nq\n")
    assert "deepseek-r1 always thinks; it cannot switch thinking off" in result.stderr
    assert "enable_thinking" not in cli.server.requests[-1].json


def test_errors_keep_the_loop_alive_and_set_the_exit_code(cli):
    cli.server.enqueue(http_fixture("errors/deepseek_401_authentication_fails.http"))
    result = cli.run("chat", input="q1\nq2\n")
    assert "not permitted" in result.stderr
    assert result.stdout == "echo:q2\n"
    assert result.code == 77  # piped chat reports the last failure
    assert messages(cli, 1) == [{"role": "user", "content": "q2"}]


def test_slash_commands_model_system_budget_temperature(cli):
    result = cli.run(
        "chat",
        input="/model deepseek-flash\n/system be brief\n/temperature 0.2\n"
        "/effort max\n/budget 100\nq\n/system off\n/temperature off\nq2\n",
    )
    first = cli.server.requests[0].json
    assert first["model"] == "deepseek-flash"
    assert first["messages"][0] == {"role": "system", "content": "be brief"}
    assert first["temperature"] == 0.2 and first["reasoning_effort"] == "max"
    assert "no thinking budget" in result.stderr  # DeepSeek has no budget: notice, not sent
    second = cli.server.requests[1].json
    assert second["messages"][0]["role"] == "user" and "temperature" not in second


def test_help_lists_every_command(cli):
    result = cli.run("chat", input="/help\n")
    for name in (
        "help",
        "exit",
        "clear",
        "model",
        "profile",
        "think",
        "no_think",
        "budget",
        "effort",
        "system",
        "temperature",
        "retry",
        "undo",
        "edit",
        "file",
        "save",
        "load",
        "sessions",
        "usage",
    ):
        assert f"/{name}" in result.stderr
    assert cli.server.requests == []


def test_unknown_command_and_escaped_slash(cli):
    result = cli.run("chat", input="/nope\n//etc/hosts please\n")
    assert "unknown command /nope" in result.stderr
    assert messages(cli, 0) == [{"role": "user", "content": "/etc/hosts please"}]


def test_undo_and_retry(cli):
    cli.run("chat", "--session", "s", input="q1\nq2\n/undo\nq3\n/retry\n")
    assert messages(cli, 2)[-1] == {"role": "user", "content": "q3"}
    assert [m["content"] for m in messages(cli, 2)] == ["q1", "echo:q1", "q3"]
    assert [m["content"] for m in messages(cli, 3)] == ["q1", "echo:q1", "q3"]  # retried
    data = json.loads(session_file(cli, "s").read_text())
    assert [t["prompt"] for t in data["turns"]] == ["q1", "q3"]


def test_file_attaches_to_the_next_message(cli):
    (cli.home / "notes.txt").write_text("milk\n")
    cli.run("chat", input="/file notes.txt\nsummarise\n")
    assert messages(cli, 0)[0]["content"] == "summarise\n\nnotes.txt:\n```\nmilk\n```"


def test_session_saved_every_turn_and_resumed_by_a_new_process(cli):
    cli.server.enqueue(
        openai_stream(answer=["first answer"], thinking=["think 1"], usage_placement="finish")
    )
    cli.run("chat", "--session", "proj", input="first question\n")
    path = session_file(cli, "proj")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    turn = json.loads(path.read_text())["turns"][0]
    assert (turn["prompt"], turn["answer"], turn["thinking"]) == (
        "first question",
        "first answer",
        "think 1",
    )
    assert turn["profile"] == "ds" and turn["model"] == "deepseek-v4-pro"
    utc_second = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    assert utc_second.match(turn["ts"])
    assert utc_second.match(json.loads(path.read_text())["created"])
    assert turn["usage"]["output_tokens"] == 7 and turn["cost"]["currency"] == "USD"
    cli.run("chat", "--session", "proj", input="second question\n")
    assert messages(cli, 1) == [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "second question"},
    ]


def test_continue_resumes_the_most_recent_session(cli):
    cli.run("chat", "--session", "old", input="a\n")
    cli.run("chat", "--session", "new", input="b\n")
    cli.run("chat", "-c", input="c\n")
    assert [m["content"] for m in messages(cli, 2)] == ["b", "echo:b", "c"]


def write_session(cli, name, *, created=None, ts=None, mtime):
    """A session file as some version of deepseek wrote it, with the given file time."""
    folder = cli.home / "sessions"
    folder.mkdir(mode=0o700, exist_ok=True)
    turn = {"prompt": f"{name} question", "answer": f"{name} answer", "model": "deepseek-v4-pro"}
    if ts is not None:
        turn["ts"] = ts
    data = {"name": name, "turns": [turn]}
    if created is not None:
        data["created"] = created
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data))
    path.chmod(0o600)
    stamp = datetime.fromisoformat(mtime).timestamp()
    os.utime(path, (stamp, stamp))


def test_sessions_are_ordered_by_their_recorded_time_not_the_file_time(cli):
    # "older" was touched (a copy, a restore) after "newer" was written; "legacy" is from
    # before sessions recorded times, so its file time is all there is; "newer" has the
    # +00:00 form of earlier versions.
    write_session(
        cli,
        "older",
        created="2024-05-01T09:00:00Z",
        ts="2024-05-01T09:00:05Z",
        mtime="2024-06-01T00:00:00+00:00",
    )
    write_session(cli, "newer", ts="2024-05-02T10:00:00+00:00", mtime="2024-05-01T09:00:00+00:00")
    write_session(cli, "legacy", mtime="2024-05-01T12:00:00+00:00")
    listed = cli.run("chat", input="/sessions\n")
    names = [line.split()[0] for line in listed.stderr.splitlines() if "1 turns" in line]
    assert names == ["newer", "legacy", "older"]
    cli.run("chat", "-c", input="next\n")
    assert [m["content"] for m in messages(cli, 0)] == ["newer question", "newer answer", "next"]


def test_sessions_and_usage_commands(cli):
    cli.run("chat", "--session", "one", input="hello there\n")
    result = cli.run("chat", "--session", "two", input="x\ny\n/sessions\n/usage\n")
    assert "one" in result.stderr and "hello there" in result.stderr
    assert "session two: 2 turns · 22 in · 6 cached (27%) · 14 out" in result.stderr


def test_usage_command_says_which_turns_have_no_price(cli):
    # A DashScope snapshot id whose sources disagree has no price.
    result = cli.run(
        "chat", "-p", "dsc", "-m", "deepseek-v4-pro-0813", "--session", "u", input="x\ny\n/usage\n"
    )
    assert result.stderr.splitlines()[-1] == (
        "session u: 2 turns · 22 in · 6 cached (27%) · 14 out · 4 reasoning · "
        "cost unknown for 2 turns"
    )
    result = cli.run(
        "chat",
        "-p",
        "ds",
        "--session",
        "v",
        input="x\n/profile dsc\n/model deepseek-v4-pro-0813\ny\n/usage\n",
    )
    last = result.stderr.splitlines()[-1]
    assert re.fullmatch(
        r"session v: 2 turns · 22 in · 6 cached \(27%\) · 14 out · 4 reasoning · "
        r"\$0\.\d+ \+ cost unknown for 1 turn \(cache saved \$0\.\d+\)",
        last,
    ), last


def test_slash_commands_with_a_bad_argument_say_so_in_one_line(cli):
    lines = [
        "/budget abc",
        "/budget -5",
        "/temperature x",
        "/temperature nan",
        "/effort bogus",
        "/model ''",
        "/model a b",
        "/profile ''",
        "/load missing",
        "/file missing",
        '/file "unclosed',
        "/think now",
        "/clear please",
    ]
    result = cli.run("chat", input="\n".join(lines) + "\n")
    assert result.code == 0 and cli.server.requests == []
    assert result.stderr.splitlines() == [
        "warning: /budget: expected a whole number of tokens (e.g. 4096) or off, not 'abc'",
        "warning: /budget: expected a whole number of tokens (e.g. 4096) or off, not '-5'",
        "warning: /temperature: expected a number from 0 to 2 (e.g. 0.7) or off, not 'x'",
        "warning: /temperature: expected a number from 0 to 2 (e.g. 0.7) or off, not 'nan'",
        "warning: /effort: expected one of minimal, low, medium, high, xhigh, max, ultra or off, "
        "not 'bogus'",
        "warning: usage: /model NAME (`deepseek models` lists them)",
        "warning: usage: /model NAME (`deepseek models` lists them)",
        "warning: usage: /profile NAME (`deepseek config profiles` lists them)",
        "warning: no session named missing; /sessions lists them",
        "warning: /file: cannot read missing: No such file or directory",
        "warning: /file: no closing quotation in '\"unclosed'; quote a PATH with spaces",
        "warning: /think takes no argument; nothing done",
        "warning: /clear takes no argument; nothing done",
    ]


def test_every_turn_goes_to_the_ledger(cli):
    import sqlite3

    cli.run("chat", input="a\nb\n")
    rows = (
        sqlite3.connect(cli.home / "usage.db")
        .execute("SELECT command, outcome FROM calls")
        .fetchall()
    )
    assert rows == [("chat", "ok"), ("chat", "ok")]


# --- interactive, in a pseudo-terminal ------------------------------------------------------

PROMPT = "deepseek-v4-pro ›"


def repl(cli, *args, env=None):
    env = {**cli.env, "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1", **(env or {})}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "deepseek_cli", "chat", *args],
        env=env,
        cwd=str(cli.home),
        dimensions=(24, 100),
        encoding="utf-8",
        timeout=20,
    )
    child.expect_exact(PROMPT)
    return child


def test_pty_two_turns_then_ctrl_d(cli):
    cli.server.enqueue(openai_stream(answer=["**first** answer"], thinking=["pondering"]))
    child = repl(cli)
    child.sendline("hello")
    child.expect("first")
    child.expect_exact(PROMPT)
    child.sendline("again")
    child.expect("echo:again")
    child.expect_exact(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert messages(cli, 1) == [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "**first** answer"},
        {"role": "user", "content": "again"},
    ]


def test_pty_ctrl_c_mid_answer_returns_to_the_prompt(cli):
    cli.server.enqueue(openai_stream(answer=["tick "] * 400, delay=0.02))
    child = repl(cli, "--session", "cc")
    child.sendline("long one")
    child.expect_exact("tick tick")  # part of the answer is on screen
    child.sendintr()
    child.expect("interrupted")
    child.expect_exact(PROMPT)
    child.sendline("next")
    child.expect("echo:next")
    child.expect_exact(PROMPT)
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    history = messages(cli, 1)
    assert history[0] == {"role": "user", "content": "long one"}
    assert history[1]["role"] == "assistant" and history[1]["content"].startswith("tick tick")
    assert len(history[1]["content"]) < len("tick ") * 400  # only the part that arrived
    turns = json.loads(session_file(cli, "cc").read_text())["turns"]
    assert [t["status"] for t in turns] == ["interrupted", "ok"]


def test_pty_ctrl_c_at_the_prompt_clears_the_line(cli):
    child = repl(cli)
    child.send("half typed")
    child.sendintr()
    child.expect_exact(PROMPT)
    child.sendline("fresh")
    child.expect("echo:fresh")
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    assert messages(cli, 0) == [{"role": "user", "content": "fresh"}]


def test_pty_multiline_input_and_persistent_history(cli):
    child = repl(cli)
    child.send("line one")
    child.send("\x1b\r")  # Esc Enter: a new line, not a send
    child.send("line two\r")
    child.expect("echo:line one")
    child.expect_exact(PROMPT)
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    assert messages(cli, 0) == [{"role": "user", "content": "line one\nline two"}]
    history = cli.home / "history"
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
    assert "line one" in history.read_text()
    # A new process finds it: Up recalls the newest entry (/exit, which then runs)...
    child = repl(cli)
    child.send("\x1b[A")
    child.expect_exact("/exit")
    child.send("\r")
    child.expect(pexpect.EOF)
    assert len(cli.server.requests) == 1
    # ...and Ctrl-R searches back for an older one; Enter accepts it, Enter sends it.
    child = repl(cli)
    child.send("\x12")
    child.expect_exact("reverse-i-search")
    child.send("two")
    child.expect_exact("line ")
    child.send("\r")
    child.expect_exact("line one")
    child.send("\r")
    child.expect("echo:line one")
    child.expect_exact(PROMPT)
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    assert messages(cli, 1) == [{"role": "user", "content": "line one\nline two"}]


def test_pty_resumed_session_shows_the_transcript(cli):
    cli.server.enqueue(openai_stream(answer=["old answer"], thinking=["old thought"]))
    cli.run("chat", "--session", "t", input="old question\n")
    child = repl(cli, "--session", "t")
    assert "old question" in child.before and "old answer" in child.before
    assert "old thought" in child.before
    child.sendline("/exit")
    child.expect(pexpect.EOF)


def test_pty_slash_command_completion(cli):
    child = repl(cli)
    child.send("/ses\t")
    child.expect("sessions")
    child.send("\r")
    child.expect_exact(PROMPT)
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    assert cli.server.requests == []


def test_pty_edit_composes_in_the_editor(cli):
    editor = cli.home / "fake-editor"
    editor.write_text('#!/bin/sh\nprintf "composed in\\nthe editor\\n" > "$1"\n')
    editor.chmod(0o755)
    child = repl(cli, env={"EDITOR": str(editor)})
    child.sendline("/edit")
    child.expect("echo:composed in")
    child.expect_exact(PROMPT)
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    assert messages(cli, 0) == [{"role": "user", "content": "composed in\nthe editor"}]


def test_clear_save_and_load(cli):
    result = cli.run("chat", "--session", "a", input="q1\n/save b\nq2\n/clear\nq3\n/load b\nq4\n")
    assert result.code == 0
    assert [m["content"] for m in messages(cli, 2)] == ["q3"]  # /clear: a fresh conversation
    assert [m["content"] for m in messages(cli, 3)] == ["q1", "echo:q1", "q2", "echo:q2", "q4"]
    saved = json.loads(session_file(cli, "b").read_text())
    assert [t["prompt"] for t in saved["turns"]] == ["q1", "q2", "q4"]
    assert [t["prompt"] for t in json.loads(session_file(cli, "a").read_text())["turns"]] == ["q1"]
