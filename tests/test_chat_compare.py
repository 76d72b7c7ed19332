"""``/compare MODEL...`` in chat: the last prompt again on other models, answers side by side."""

from __future__ import annotations

import json
import time

from fakeserver import http_fixture, openai_stream
from ptyterm import Terminal, pump, python, spawn

HISTORY = [
    {"role": "user", "content": "q1"},
    {"role": "assistant", "content": "echo:q1"},
    {"role": "user", "content": "q2"},
]


def session_file(cli, name):
    return cli.home / "sessions" / f"{name}.json"


def test_compare_sends_the_last_prompt_with_its_history_to_each_model(cli):
    result = cli.run("chat", "--session", "s", input="q1\nq2\n/compare m2 ds:m3\nq3\n")
    assert result.code == 0, result.stderr
    bodies = cli.server.bodies()
    assert [b["model"] for b in bodies] == ["deepseek-v4-pro"] * 2 + ["m2", "m3", "deepseek-v4-pro"]
    assert bodies[2]["messages"] == HISTORY
    assert bodies[3]["messages"] == HISTORY
    assert bodies[2]["stream"] is True
    # The conversation goes on with the model in use; the compared answers are not in it.
    assert bodies[4]["messages"] == [
        *HISTORY,
        {"role": "assistant", "content": "echo:q2"},
        {"role": "user", "content": "q3"},
    ]
    sections = result.stdout.split("echo:q2\n", 1)[1].rsplit("echo:q3\n", 1)[0]
    blocks = sections.strip("\n").split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [
        "== ds:deepseek-v4-pro (this chat) ==",
        "== ds:m2 ==",
        "== ds:m3 ==",
    ]
    assert all(b.splitlines()[1] == "echo:q2" for b in blocks)
    # Each section ends with its usage line: tokens and cost; the new calls also their time.
    assert all(" out · " in b.splitlines()[2] for b in blocks)
    assert blocks[1].splitlines()[2].endswith(" s") or " s · " in blocks[1].splitlines()[2]
    turns = json.loads(session_file(cli, "s").read_text())["turns"]
    assert [(t["prompt"], t["model"]) for t in turns] == [
        ("q1", "deepseek-v4-pro"),
        ("q2", "deepseek-v4-pro"),
        ("q3", "deepseek-v4-pro"),
    ]


def test_compare_leaves_the_session_file_as_it_was_and_records_one_row_per_model(cli):
    cli.run("chat", "--session", "s", input="q1\nq2\n")
    before = session_file(cli, "s").read_bytes()
    result = cli.run("chat", "--session", "s", input="/compare m2 ds:m3\n")
    assert result.code == 0, result.stderr
    assert session_file(cli, "s").read_bytes() == before
    assert cli.server.bodies()[2]["messages"] == HISTORY
    rows = cli.ledger_rows()
    assert [(r["command"], r["model"], r["outcome"]) for r in rows] == [
        ("chat", "deepseek-v4-pro", "ok"),
        ("chat", "deepseek-v4-pro", "ok"),
        ("chat", "m2", "ok"),
        ("chat", "m3", "ok"),
    ]


def test_one_failing_model_is_one_line_and_the_others_are_shown(cli):
    def handler(request):
        if request.json.get("model") == "bad":
            return http_fixture("errors/deepseek_400_model_not_exist.http")
        return None

    cli.server.handler = handler
    result = cli.run("chat", input="q1\n/compare bad m2 m4@turbo\n")
    blocks = result.stdout.split("echo:q1\n", 1)[1].strip("\n").split("\n\n")
    titles = [b.splitlines()[0] for b in blocks]
    assert titles == [
        "== ds:deepseek-v4-pro (this chat) ==",
        "== ds:bad ==",
        "== ds:m2 ==",
        "== m4@turbo ==",
    ]
    bad, good, unknown = blocks[1:]
    assert len(bad.splitlines()) == 2 and bad.splitlines()[1].startswith("error: ")
    assert "Model Not Exist" in bad and "HTTP 400" in bad
    assert good.splitlines()[1] == "echo:q1"
    assert len(unknown.splitlines()) == 2 and "@turbo" in unknown.splitlines()[1]
    assert [b["model"] for b in cli.server.bodies()] == ["deepseek-v4-pro", "bad", "m2"]
    outcomes = [(r["model"], r["outcome"]) for r in cli.ledger_rows()]
    assert outcomes[1][0] == "bad" and outcomes[1][1] != "ok"
    assert outcomes[2] == ("m2", "ok")
    assert result.code != 0  # a script learns that part of the comparison failed


def test_nothing_to_compare_and_usage(cli):
    result = cli.run("chat", input="/compare m2\n/compare\n")
    assert "notice: nothing to compare yet" in result.stderr
    assert "warning: usage: /compare MODEL..." in result.stderr
    assert cli.server.requests == []
    assert "/compare MODEL..." in cli.run("chat", input="/help\n").stderr


# --- on a terminal ------------------------------------------------------------------------------

PROMPT = "deepseek-v4-pro ›"


def chat_in(cli, term):
    """``deepseek chat`` in a pseudo-terminal, at its first prompt; the child and a deadline."""
    env = {**cli.env, "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = spawn([python(), "-m", "deepseek_cli", "chat"], env, str(cli.home), term)
    deadline = time.monotonic() + 30
    pump(child, term, until=deadline, stop=PROMPT)
    return child, deadline


def leave(child, term, deadline) -> None:
    child.sendline("/exit")
    pump(child, term, until=deadline)
    child.close()


def test_pty_compare_shows_the_answers_side_by_side(cli):
    cli.server.enqueue(openai_stream(answer=["alpha from pro"]))

    def handler(request):
        if request.json.get("model") == "m2":
            return openai_stream(answer=["**beta** from m2"], usage_placement="finish")
        return None

    cli.server.handler = handler
    term = Terminal(rows=40, cols=100)
    child, deadline = chat_in(cli, term)
    child.sendline("hello")
    pump(child, term, until=deadline, stop="alpha from pro")
    child.sendline("/compare m2")
    pump(child, term, until=deadline, stop="beta from m2")
    leave(child, term, deadline)
    assert child.exitstatus == 0
    screen = term.lines()
    # One row holds both headers, and one row both answers: columns, not sections.
    header = next(line for line in screen if "ds:m2" in line and "asking" not in line)
    assert "ds:deepseek-v4-pro (this chat)" in header
    assert header.index("this chat") < header.index("ds:m2")
    row = next(line for line in screen if "beta from m2" in line)
    assert "alpha from pro" in row and row.index("alpha") < row.index("beta")
    assert "**" not in row  # Markdown, rendered
    usage = screen[screen.index(header) + 2]  # under the titles' rule
    assert usage.count(" out") == 2  # each model's usage under its name


def test_pty_ctrl_c_stops_the_comparison_and_returns_to_the_prompt(cli):
    def handler(request):
        if request.json.get("model") == "slow":
            return openai_stream(answer=["tick "] * 2000, delay=0.02)
        return None

    cli.server.handler = handler
    term = Terminal(rows=40, cols=100)
    child, deadline = chat_in(cli, term)
    child.sendline("hello")
    pump(child, term, until=deadline, stop="echo:hello")
    child.sendline("/compare slow m3")
    pump(child, term, until=deadline, stop="asking ds:slow")
    while len(cli.server.requests) < 2:  # the slow model's answer is on its way
        assert time.monotonic() < deadline, "the slow model was never asked"
        pump(child, term, until=time.monotonic() + 0.05)
    child.sendintr()
    pump(child, term, until=deadline, stop="comparison stopped")
    child.sendline("next")
    pump(child, term, until=deadline, stop="echo:next")
    leave(child, term, deadline)
    assert child.exitstatus == 0
    assert [b["model"] for b in cli.server.bodies()] == [
        "deepseek-v4-pro",
        "slow",
        "deepseek-v4-pro",
    ]  # m3 was never asked
    assert cli.server.bodies()[2]["messages"][1] == {"role": "assistant", "content": "echo:hello"}
    outcomes = [(r["model"], r["outcome"]) for r in cli.ledger_rows()]
    assert outcomes[1] == ("slow", "interrupted")


def test_pty_narrow_terminal_stacks_the_answers_under_their_names(cli):
    term = Terminal(rows=40, cols=80)
    child, deadline = chat_in(cli, term)
    child.sendline("hello")
    pump(child, term, until=deadline, stop="echo:hello")
    child.sendline("/compare m2 m3")
    pump(child, term, until=deadline, stop="ds:m3 ─")
    leave(child, term, deadline)
    screen = term.lines()
    start = next(i for i, line in enumerate(screen) if line.startswith("ds:deepseek-v4-pro"))
    rules = [line.split(" ─")[0] for line in screen[start:] if " ───" in line]
    assert rules == ["ds:deepseek-v4-pro (this chat)", "ds:m2", "ds:m3"]
    # Three columns of 80 would be too narrow to read: each answer has the whole width.
    assert all(line.count("echo:hello") <= 1 for line in screen)
    assert sum(line == "echo:hello" for line in screen[start:]) == 3


def test_a_model_name_with_a_colon_stays_a_model_as_in_deepseek_compare(cli):
    result = cli.run("chat", input="q1\n/compare llama3:8b ds:m5@no-think\n")
    assert result.code == 0, result.stderr
    assert [b["model"] for b in cli.server.bodies()] == ["deepseek-v4-pro", "llama3:8b", "m5"]
    assert "== ds:llama3:8b ==" in result.stdout
