"""The block-commit live renderer: equivalence with a one-shot render, bounded live region,
heartbeat, and real terminal behaviour (pty + terminal emulator)."""

from __future__ import annotations

import io
import itertools
import re
import signal
import sys
import time

import pytest
from fakeserver import openai_stream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ptyterm import ANSI, Terminal, pump, spawn
from rich.console import Console

from deepseek_cli.conversation import Reply
from deepseek_cli.events import AnswerDelta, ThinkingDelta, Usage
from deepseek_cli.render.blocks import BlockSplitter
from deepseek_cli.render.live import LiveRenderer, _Tail, render_complete, thought_summary
from deepseek_cli.render.usage_line import usage_line

BLOCKS = [
    "# Heading one",
    "## Second *level* heading",
    "Setext heading\n--------------",
    "A paragraph with **bold**, *italic*, `inline code` and a [link](https://example.com).\n"
    "It continues on a second line that is long enough to wrap at eighty columns for sure.",
    "Short paragraph.",
    "```python\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n```",
    "```\nplain fence\n\n  with a blank line inside\n```",
    "~~~bash\necho 'tilde fence'\n~~~",
    "- item one\n- item two\n  - nested **item**\n  - nested two\n- item three",
    "1. first\n2. second\n3. third with `code`",
    "* loose item\n\n* second loose item",
    "| name | value | note |\n|------|------:|:----:|\n| a | 1 | x |\n| bb | 22 | yy |",
    "> a quote\n> that spans\n>\n> two paragraphs",
    "---",
    "    indented code block\n    second line",
    "Text with ~~strike~~ and a trailing hard break  \nnext line",
    "10. ten\n11. eleven",
]
THINKING_LINES = [
    "Let me think about this.",
    "",
    "The user asks [1] about [/path/to] something; brackets must not be markup.",
    "   An indented line of reasoning that is long enough to wrap around an eighty column "
    "terminal without trouble.",
    "",
    "",
    "Conclusion: answer clearly.",
]


def console(width: int = 80, terminal: bool = False) -> Console:
    return Console(
        file=io.StringIO(),
        width=width,
        height=40,
        force_terminal=terminal,
        color_system="truecolor",
    )


def normalized(text: str) -> str:
    return re.sub(r"id=\d+;", "id=;", text)  # Rich numbers hyperlinks randomly per render


def one_shot(thinking: str, answer: str, *, show: bool = True, width: int = 80) -> str:
    out = console(width)
    render_complete(out, thinking, answer, show_thinking=show)
    return normalized(out.file.getvalue())


def chunked(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(points) if b > a]


def stream(
    thinking_chunks: list[str],
    answer_chunks: list[str],
    *,
    show: bool = True,
    width: int = 80,
    hz: float = 1e9,
    clock=None,
) -> str:
    out = console(width)
    renderer = LiveRenderer(
        out, show_thinking=show, refresh_hz=hz, **({"clock": clock} if clock else {})
    )
    for text in thinking_chunks:
        renderer.on_event(ThinkingDelta(text))
    for text in answer_chunks:
        renderer.on_event(AnswerDelta(text))
    renderer.close(None, complete=True)
    return normalized(out.file.getvalue())


documents = st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=8).map("\n\n".join)
thinkings = st.lists(st.sampled_from(THINKING_LINES), min_size=0, max_size=7).map("\n".join)
cut_lists = st.lists(st.integers(min_value=0, max_value=10_000), max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    thinking=thinkings,
    answer=documents,
    tcuts=cut_lists,
    acuts=cut_lists,
    width=st.sampled_from([40, 80, 120]),
    hz=st.sampled_from([1e9, 0.001]),
    lead=st.sampled_from(["", "\n", "\n\n"]),
)
def test_streaming_leaves_exactly_the_one_shot_render(
    thinking, answer, tcuts, acuts, width, hz, lead
):
    answer = lead + answer
    expected = one_shot(thinking, answer, width=width)
    got = stream(chunked(thinking, tcuts), chunked(answer, acuts), width=width, hz=hz)
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(answer=documents)
def test_one_character_at_a_time(answer):
    assert stream([], list(answer)) == one_shot("", answer)


def test_thinking_only_and_answer_only_streams():
    thinking = "\n".join(THINKING_LINES)
    assert stream(list(thinking), []) == one_shot(thinking, "")
    assert stream([], [BLOCKS[3]]) == one_shot("", BLOCKS[3])
    assert stream([], []) == ""


def test_hidden_thinking_shows_one_summary_line():
    # Created at 0.0, first thinking at 1.0, the answer at 3.5: thought for 2.5 s.
    ticks = iter([0.0, 1.0] + [3.5] * 1000)
    got = stream(["a\n", "b\n", "c"], ["Answer."], show=False, clock=lambda: next(ticks))
    out = console()
    out.print(thought_summary(3, 2.5))
    render_complete(out, "", "Answer.", show_thinking=False)
    assert got == normalized(out.file.getvalue())
    assert "thought for 3 tokens, 2.5 s" in ANSI.sub("", got)


def test_giant_blocks_commit_whole():
    rows = "\n".join(f"| {i} | {'x' * (i % 30)} |" for i in range(300))
    answer = "| n | text |\n|---|---|\n" + rows + "\n\nAfter the table."
    code = "```\n" + "\n".join(f"line {i}" for i in range(500)) + "\n```"
    for doc in (answer, code):
        assert stream([], [doc[i : i + 17] for i in range(0, len(doc), 17)]) == one_shot("", doc)


def test_splitter_commits_only_finished_blocks():
    splitter = BlockSplitter()
    assert splitter.feed("First para") == []
    assert splitter.feed("graph.\n") == []  # the last block may still grow
    done = splitter.feed("\nSecond.\n")
    assert [b.source for b in done] == ["First paragraph.\n"]
    assert [b.kind for b in splitter.feed("```py\nx = 1\n```\n")] == ["paragraph_open", "fence"]
    assert splitter.feed("- a\n") == []
    assert splitter.feed("3") == []  # a partial line never decides a boundary
    assert [b.kind for b in splitter.flush()] == ["bullet_list_open"]


def test_live_region_stays_bounded_for_a_huge_unfinished_block():
    out = console(terminal=True)
    renderer = LiveRenderer(out, max_live_rows=12, refresh_hz=1e9)
    renderer.on_event(AnswerDelta("```\n" + "\n".join(f"code {i}" for i in range(2000)) + "\n"))
    lines = out.render_lines(_Tail(renderer), out.options, pad=False)
    assert len(lines) <= 12
    shown = "".join(seg.text for line in lines for seg in line)
    assert "code 1999" in shown and "code 1980" not in shown  # the newest rows only
    renderer.close(None, complete=True)


def test_heartbeat_shows_elapsed_time_and_tokens_while_waiting_and_thinking():
    now = [100.0]
    out = console(terminal=True)
    renderer = LiveRenderer(out, refresh_hz=10, clock=lambda: now[0], label="deepseek-v4-pro")
    now[0] = 103.2
    assert "waiting for deepseek-v4-pro · 3.2 s" in renderer.status_line().plain
    before = len(out.file.getvalue())
    renderer.tick()
    assert len(out.file.getvalue()) > before  # the region was redrawn during the stall
    renderer.on_event(ThinkingDelta("hmm"))
    renderer.on_event(ThinkingDelta(" ok"))
    now[0] = 110.0
    assert "thinking · 2 tokens · 10.0 s" in renderer.status_line().plain
    renderer.on_event(AnswerDelta("Done."))
    assert renderer.status_line() is None
    renderer.close(None, complete=True)


def test_refresh_is_throttled():
    now = [0.0]
    out = console(terminal=True)
    renderer = LiveRenderer(out, refresh_hz=10, clock=lambda: now[0])
    renderer.on_event(AnswerDelta("start "))
    size = len(out.file.getvalue())
    for _ in range(50):  # fifty deltas inside one refresh interval: no redraw
        renderer.on_event(AnswerDelta("word "))
    assert len(out.file.getvalue()) == size
    now[0] = 0.2
    renderer.tick()
    assert len(out.file.getvalue()) > size
    renderer.close(None, complete=True)


def test_markup_in_model_text_is_not_interpreted():
    text = "see [/etc/passwd] and [bold]not bold[/bold]"
    got = ANSI.sub("", stream([text + "\n"], [text]))
    assert got.count("[bold]not bold[/bold]") == 2


# --- in a real pseudo-terminal --------------------------------------------------------------

ANSWER = "\n\n".join(BLOCKS * 4)  # about three screens tall at 80x24 (and then some)
THINKING = "\n".join(THINKING_LINES * 3)


def tokens(text: str, size: int = 5) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def plain_lines(thinking: str, answer: str, show: bool = True) -> list[str]:
    out = Console(file=io.StringIO(), width=80, force_terminal=False, color_system=None)
    render_complete(out, thinking, answer, show_thinking=show)
    return [line.rstrip() for line in out.file.getvalue().splitlines()]


def run_in_pty(cli, args, *, stop_after: str | None = None, sig=None, env=None):
    term = Terminal()
    child = spawn(
        [sys.executable, "-m", "deepseek_cli", *args],
        {**cli.env, **(env or {})},
        str(cli.home),
        term,
    )
    if stop_after is not None:
        pump(child, term, until=time.monotonic() + 30, stop=stop_after)
        child.kill(sig)
    pump(child, term, until=time.monotonic() + 60)
    child.close()
    return child, term


def test_pty_answer_taller_than_the_screen_is_in_scrollback_exactly_once(cli):
    cli.server.enqueue(openai_stream(answer=tokens(ANSWER), thinking=tokens(THINKING), delay=0.001))
    child, term = run_in_pty(cli, ["ask", "hi"])
    assert child.exitstatus == 0
    expected = plain_lines(THINKING, ANSWER)
    assert len(expected) > 3 * 24
    got = term.lines()
    assert got[: len(expected)] == expected
    footer = got[len(expected) :]
    assert footer and "in" in footer[0] and "out" in footer[0] and "first token" in "".join(footer)
    assert term.cursor_visible()
    cli.outputs.append(term.raw.decode("utf-8", "replace"))


def test_pty_ctrl_c_leaves_a_sane_terminal_and_exits_130(cli):
    cli.server.enqueue(
        openai_stream(answer=tokens(ANSWER, 3), thinking=tokens(THINKING), delay=0.01)
    )
    child, term = run_in_pty(cli, ["ask", "hi"], stop_after="Setext heading", sig=signal.SIGINT)
    assert child.exitstatus == 130
    got = term.lines()
    assert any("⏹ interrupted" in line for line in got)
    expected = plain_lines(THINKING, ANSWER)
    shown = got[: got.index(next(line for line in got if "⏹ interrupted" in line))]
    # What was shown is a prefix of the full rendering, each line once (the last committed
    # block may be cut short by the interruption).
    assert shown[:-3] == expected[: len(shown) - 3]
    assert term.cursor_visible()
    assert "Traceback" not in "\n".join(got)


def test_pty_hide_thinking_shows_a_one_line_summary(cli):
    cli.server.enqueue(openai_stream(answer=["Answer."], thinking=tokens(THINKING)))
    _, term = run_in_pty(cli, ["ask", "--hide-thinking", "hi"])
    got = term.lines()
    assert re.match(r"✻ thought for \d+ tokens, \d+\.\d s", got[0])
    assert got[1] == "Answer."
    assert not any("Thinking" in line for line in got)


def test_pty_thinking_time_fits_in_the_request_time(cli):
    # The summary once counted from before the SDK was imported, which can be longer than
    # the whole request the usage line times: "thought for 12 tokens, 1.9 s" then "1.56 s".
    cli.server.enqueue(
        openai_stream(answer=["Answer."], thinking=[f"step {i} " for i in range(12)], delay=0.02)
    )
    _, term = run_in_pty(cli, ["ask", "--hide-thinking", "hi"])
    screen = "\n".join(term.lines())
    thought = re.search(r"thought for 12 tokens, (\d+\.\d) s", screen)
    total = re.search(r"(?:^|· )(\d+\.\d\d) s ·", screen, re.MULTILINE)
    assert thought and total, screen
    # Both are rounded for display (to 0.1 s and 0.01 s): allow that much, no more.
    assert float(thought.group(1)) <= float(total.group(1)) + 0.05, screen


SEGMENT = re.compile(
    r"\d+ (in|out|reasoning)|\d+ cached \(<?\d+%\)|cost unknown"
    r"|[$¥][\d.,]+( \(cache saved [$¥][\d.,]+\))?|\d+\.\d\d s"
    r"|first token \d+\.\d\d s|[\d.]+ tok/s"
)


def test_pty_usage_line_wraps_between_segments_at_80_columns(cli):
    usage = {
        "prompt_tokens": 123456,
        "completion_tokens": 54321,
        "total_tokens": 177777,
        "prompt_tokens_details": {"cached_tokens": 20480},
        "completion_tokens_details": {"reasoning_tokens": 39000},
    }
    cli.server.enqueue(openai_stream(answer=["Answer."], usage=usage))
    _, term = run_in_pty(cli, ["ask", "hi"])
    got = term.lines()
    footer = got[got.index("Answer.") + 1 :]
    # About 145 columns of segments at 80 columns; the tok/s figure's width varies by run.
    assert len(footer) in (2, 3), got
    for line in footer:
        assert len(line) <= 80 and all(SEGMENT.fullmatch(p) for p in line.split(" · ")), line


def test_pty_non_thinking_model_renders_markdown_without_a_panel(cli):
    cli.server.enqueue(openai_stream(answer=tokens("# Title\n\nSome **bold** text.")))
    _, term = run_in_pty(cli, ["ask", "hi"])
    got = term.lines()
    assert got[: len(plain_lines("", "# Title\n\nSome **bold** text."))] == plain_lines(
        "", "# Title\n\nSome **bold** text."
    )
    assert "╭" not in got[0]


def test_pty_dumb_terminal_gets_plain_output(cli):
    cli.server.enqueue(openai_stream(answer=["**raw** markdown"]))
    term = Terminal()
    # spawn() sets TERM=xterm-256color; env(1) overrides it for the program itself.
    child = spawn(
        ["/usr/bin/env", "TERM=dumb", sys.executable, "-m", "deepseek_cli", "ask", "hi"],
        cli.env,
        str(cli.home),
        term,
    )
    pump(child, term)
    child.close()
    assert "**raw** markdown" in term.lines()
    assert b"\x1b[" not in bytes(term.raw)


def test_pty_no_color_has_no_colour_codes(cli):
    cli.server.enqueue(openai_stream(answer=tokens("# Title\n\n```python\nx = 1\n```")))
    child, term = run_in_pty(cli, ["ask", "hi"], env={"NO_COLOR": "1"})
    assert child.exitstatus == 0
    assert not re.search(rb"\x1b\[[0-9;]*(3[0-9]|38;|4[0-9]|48;)[0-9;]*m", bytes(term.raw))


def test_piped_output_has_no_escape_codes_even_when_colour_is_forced(cli):
    cli.server.enqueue(openai_stream(answer=["# Title\n\n", "**bold**"], thinking=["hmm"]))
    result = cli.run(
        "ask", "--show-thinking", "hi", env={"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"}
    )
    assert result.stdout == "# Title\n\n**bold**\n"
    assert "\x1b" not in result.stdout


# --- the usage line ------------------------------------------------------------------------

LONG_USAGE = Reply(
    started=0.0,
    first_token_at=0.52,
    ended=12.34,
    usage=Usage(
        input_tokens=12345,
        cached_tokens=2048,
        output_tokens=4321,
        reasoning_tokens=3900,
        total_tokens=16666,
    ),
)


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (
            100,
            "12345 in · 2048 cached (17%) · 4321 out · 3900 reasoning · cost unknown · 12.34 s\n"
            "first token 0.52 s · 365.6 tok/s",
        ),
        (
            80,
            "12345 in · 2048 cached (17%) · 4321 out · 3900 reasoning · cost unknown\n"
            "12.34 s · first token 0.52 s · 365.6 tok/s",
        ),
        (
            60,
            "12345 in · 2048 cached (17%) · 4321 out · 3900 reasoning\n"
            "cost unknown · 12.34 s · first token 0.52 s · 365.6 tok/s",
        ),
        (
            40,
            "12345 in · 2048 cached (17%) · 4321 out\n3900 reasoning · cost unknown · 12.34 s\n"
            "first token 0.52 s · 365.6 tok/s",
        ),
    ],
)
def test_usage_line_wraps_between_segments(width, expected):
    assert usage_line(LONG_USAGE, None, width) == expected


def test_usage_line_is_one_line_when_it_fits_or_nobody_wraps_it():
    one = (
        "12345 in · 2048 cached (17%) · 4321 out · 3900 reasoning · cost unknown · 12.34 s · "
        "first token 0.52 s · 365.6 tok/s"
    )
    assert usage_line(LONG_USAGE, None) == one
    assert usage_line(LONG_USAGE, None, 200) == one
