"""Live terminal rendering of streamed thinking and a Markdown answer, in linear time.

The obvious design (``Live`` around a ``Markdown`` of the whole answer, re-rendered per token)
costs O(n²) and, once the answer is taller than the screen, either hides new text or floods
scrollback with partial copies. This renderer instead prints every *finished* unit once to
scrollback and keeps only the unfinished one in a small live region:

- thinking: each finished line is printed as body rows of a dim panel (Rich wraps each line of
  a ``Text`` on its own, so the rows equal those of one big panel); the top border is printed
  when thinking starts and the bottom one when the answer starts;
- answer: each finished top-level Markdown block (``blocks.BlockSplitter``) is printed with the
  spacing Rich would have put around it, so scrollback is byte-identical to a one-shot render.

The live region holds only the block in progress (bounded source, at most 30 rows) plus a
status line with elapsed time and tokens, refreshed at most ``refresh_hz`` times a second and
by ``tick()`` during server stalls. It is transient: when it stops, scrollback holds exactly
the committed output. Committed pieces are batched and printed at the refresh rate.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterable
from typing import Literal

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel
from rich.segment import Segment
from rich.text import Text

from deepseek_cli.conversation import Reply
from deepseek_cli.events import AnswerDelta, Event, ThinkingDelta
from deepseek_cli.render.blocks import Block, BlockSplitter, needs_separator

THINKING_TITLE = "Thinking"
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_FLUSH_CHARS = 2048
Part = Literal["top", "body", "bottom"]


def thinking_panel(text: str) -> Panel:
    return Panel(
        Text(text),
        title=THINKING_TITLE,
        title_align="left",
        style="dim",
        border_style="dim",
    )


def normalize_thinking(text: str) -> str:
    """Thinking as the panel shows it: no leading or trailing whitespace-only lines."""
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def thought_summary(tokens: int, seconds: float) -> Text:
    return Text(f"✻ thought for {tokens:,} tokens, {seconds:.1f} s", style="dim")


def render_complete(console: Console, thinking: str, answer: str, *, show_thinking: bool) -> None:
    """The one-shot rendering that streaming must leave behind (also used for --no-stream)."""
    shown = normalize_thinking(thinking)
    if show_thinking and shown:
        console.print(thinking_panel(shown))
    answer = answer.lstrip("\n")
    if answer.strip():
        console.print(Markdown(answer))


class _PanelRows:
    """Some rows of a one-line thinking panel: the top border, the body or the bottom."""

    def __init__(self, text: str, part: Part) -> None:
        self.text = text
        self.part = part

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(thinking_panel(self.text), options, pad=False)
        picked = {"top": lines[:1], "body": lines[1:-1], "bottom": lines[-1:]}[self.part]
        for line in picked:
            yield from line
            yield Segment.line()


class _Tail:
    """The live region: whatever is unfinished, cropped to the last rows, plus a status line."""

    def __init__(self, renderer: LiveRenderer) -> None:
        self.renderer = renderer

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        parts = list(self.renderer.tail_parts())
        rows = max(1, min(self.renderer.max_live_rows, console.height - 4))
        status = self.renderer.status_line()
        if status is not None:
            rows -= 1
        if parts and rows > 0:
            lines = console.render_lines(Group(*parts), options.update(height=None), pad=False)
            for line in lines[-rows:]:
                yield from line
                yield Segment.line()
        if status is not None:
            yield status


class LiveRenderer:
    """Block-commit renderer for a terminal; see the module docstring."""

    def __init__(
        self,
        console: Console,
        *,
        show_thinking: bool = True,
        max_live_rows: int = 30,
        refresh_hz: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        label: str = "",
    ) -> None:
        self.console = console
        self.show_thinking = show_thinking
        self.max_live_rows = max_live_rows
        self.refresh_interval = 1.0 / refresh_hz
        self.clock = clock
        self.label = label
        self.phase: Literal["waiting", "thinking", "answer", "done"] = "waiting"
        self.started = clock()
        self.thinking_tokens = 0
        self.answer_tokens = 0
        self.thinking_seconds = 0.0
        self._thinking_since = 0.0  # when the first thinking arrived
        self._partial = ""  # thinking text after the last finished line
        self._held_blanks: list[str] = []  # whitespace-only lines, printed only if more follows
        self._thinking_rows = False  # whether any thinking body row was committed
        self._splitter = BlockSplitter()
        self._previous: Block | None = None
        self._pending: list[RenderableType] = []
        self._pending_chars = 0
        self._dirty = False
        self._last_refresh = float("-inf")
        self._live = Live(
            _Tail(self),
            console=console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()

    # -- events
    def on_event(self, event: Event) -> None:
        if isinstance(event, ThinkingDelta):
            self.thinking(event.text)
        elif isinstance(event, AnswerDelta):
            self.answer(event.text)

    def on_notice(self, text: str) -> None:
        self._pending.append(Text(f"notice: {text}", style="dim"))
        self._refresh()

    def tick(self) -> None:
        """Called a few times a second: keeps the status line moving while the server stalls."""
        if self.phase == "done" or self.clock() - self._last_refresh < self.refresh_interval:
            return
        if self._dirty or self.phase in ("waiting", "thinking"):
            self._refresh()

    def thinking(self, text: str) -> None:
        if self.phase == "answer":
            return  # late reasoning after the answer started has nowhere sensible to go
        if self.phase == "waiting":
            self.phase = "thinking"
            self._thinking_since = self.clock()
        self.thinking_tokens += 1
        if self.show_thinking:
            self._partial += text
            if "\n" in text:
                *finished, self._partial = self._partial.split("\n")
                for line in finished:
                    self._thinking_line(line)
        self._maybe_refresh()

    def answer(self, text: str) -> None:
        if self.phase != "answer":
            text = text.lstrip("\n")
            if not text:
                return
            self._end_thinking()
            self.phase = "answer"
        self.answer_tokens += 1
        self._commit_blocks(self._splitter.feed(text))
        self._maybe_refresh()

    def close(
        self, reply: Reply | None = None, *, complete: bool, interrupted: bool = False
    ) -> None:
        """Commit whatever is unfinished, mark an interruption, stop the live region."""
        if self.phase == "done":
            return
        previous = _ignore_sigint()
        try:
            if self.phase == "thinking":
                self._end_thinking()
            self._commit_blocks(self._splitter.flush())
            if interrupted:
                self._pending.append(Text("⏹ interrupted", style="dim"))
            self.phase = "done"
            if self._pending:
                self.console.print(Group(*self._pending))
                self._pending.clear()
            self._live.stop()
        finally:
            _restore_sigint(previous)

    # -- committing
    def _thinking_line(self, line: str) -> None:
        if not line.strip():
            if self._thinking_rows:
                self._held_blanks.append(line)
            return
        if not self._thinking_rows:
            self._pending.append(_PanelRows("", "top"))
        for blank in self._held_blanks:
            self._pending.append(_PanelRows(blank, "body"))
        self._held_blanks.clear()
        self._pending.append(_PanelRows(line, "body"))
        self._pending_chars += len(line)
        self._thinking_rows = True

    def _end_thinking(self) -> None:
        if self.phase != "thinking":
            return
        # From the first thinking to the first answer text: the model's thinking, without the
        # start-up, connect and queue time before it, so it always fits in the request's time.
        self.thinking_seconds = self.clock() - self._thinking_since
        if self.show_thinking:
            if self._partial.strip():
                self._thinking_line(self._partial)
            self._partial = ""
            self._held_blanks.clear()
            if self._thinking_rows:
                self._pending.append(_PanelRows("", "bottom"))
        else:
            self._pending.append(thought_summary(self.thinking_tokens, self.thinking_seconds))

    def _commit_blocks(self, blocks: Iterable[Block]) -> None:
        for block in blocks:
            if needs_separator(self._previous, block):
                self._pending.append(Text(""))
            self._pending.append(Markdown(block.source))
            self._pending_chars += len(block.source)
            self._previous = block

    # -- the live region
    def _maybe_refresh(self) -> None:
        self._dirty = True
        # A fast stream flushes by size too, so one frame never has to print a screenful.
        due = self.clock() - self._last_refresh >= self.refresh_interval
        if due or self._pending_chars > _FLUSH_CHARS:
            self._refresh()

    def _refresh(self) -> None:
        self._last_refresh = self.clock()
        self._dirty = False
        if self._pending:
            # Printing inside Live erases the region, prints, and redraws the tail: one write.
            self.console.print(Group(*self._pending))
            self._pending.clear()
            self._pending_chars = 0
        else:
            self._live.refresh()

    def tail_parts(self) -> Iterable[RenderableType]:
        if self.phase == "thinking" and self.show_thinking:
            budget = self.max_live_rows * max(self.console.width, 20)
            if not self._thinking_rows:
                yield _PanelRows("", "top")
            text = "\n".join([*self._held_blanks, self._partial])
            if text.strip():
                yield _PanelRows(text[-budget:], "body")
            yield _PanelRows("", "bottom")
        elif self.phase == "answer":
            source = self._bounded(self._splitter.pending)
            if source.strip():
                block = Block(source, _guess_kind(source))
                if needs_separator(self._previous, block):
                    yield Text("")
                yield Markdown(source)

    def _bounded(self, source: str) -> str:
        """A suffix of the unfinished block that renders like its end (fence and table heads
        are kept so the suffix still parses the same way)."""
        budget = self.max_live_rows * max(self.console.width, 20)
        if len(source) <= budget:
            return source
        lines = source.split("\n")
        head: list[str] = []
        if lines[0].lstrip().startswith(("```", "~~~")):
            head = lines[:1]
        elif lines[0].lstrip().startswith("|") and len(lines) > 1:
            head = lines[:2]
        tail: list[str] = []
        size = 0
        for line in reversed(lines[len(head) :]):
            size += len(line) + 1
            if size > budget:
                break
            tail.append(line)
        return "\n".join(head + tail[::-1])

    def status_line(self) -> Text | None:
        if self.phase not in ("waiting", "thinking"):
            return None
        elapsed = self.clock() - self.started
        spin = _SPINNER[int(elapsed * 10) % len(_SPINNER)]
        if self.phase == "waiting":
            what = f"waiting for {self.label}" if self.label else "waiting for the first token"
            return Text(f"{spin} {what} · {elapsed:.1f} s", style="dim")
        return Text(
            f"{spin} thinking · {self.thinking_tokens:,} tokens · {elapsed:.1f} s", style="dim"
        )


def _guess_kind(source: str) -> str:
    first = source.lstrip("\n").split("\n", 1)[0].lstrip()
    if first.startswith(("- ", "* ", "+ ")) or first[:3].rstrip(".)").isdigit():
        return "bullet_list_open"
    if first.startswith(">"):
        return "blockquote_open"
    if first.startswith("|"):
        return "table_open"
    return "paragraph_open"


def _ignore_sigint() -> object:
    """A second Ctrl-C must not tear the final write."""
    try:
        return signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        return None


def _restore_sigint(previous: object) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)  # type: ignore[arg-type]
