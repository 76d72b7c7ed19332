"""Finds the finished top-level Markdown blocks of a growing answer.

The live renderer prints each finished block once and keeps only the unfinished one live, so
its total cost is linear in the answer instead of quadratic. A block is finished when another
block starts after it, or at once when it cannot grow (a closed fence, a heading, a rule).
Lists, tables and quotes are single blocks, so numbering width, tight/loose spacing and column
widths match a one-shot render. Only complete lines are ever parsed: a partial line (``3`` that
may become ``3.``) must never decide a boundary.

Work is bounded: an open fence is not re-parsed until a line that could close it arrives, and a
buffer over 4 KB is re-parsed only after growing by an eighth, which can delay a commit but
never make one wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

# Rich renders a blank line before an element unless the previous one was a rule; containers
# (lists, quotes, tables) already start with that line when rendered on their own.
CONTAINERS = frozenset({"bullet_list_open", "ordered_list_open", "blockquote_open", "table_open"})
_FINAL_AT_ONCE = frozenset({"heading_open", "hr"})
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_REPARSE_FLOOR = 4096


@dataclass(frozen=True)
class Block:
    source: str
    kind: str  # the markdown-it token type that opens it

    @property
    def is_container(self) -> bool:
        return self.kind in CONTAINERS


def needs_separator(previous: Block | None, block: Block) -> bool:
    """Whether a blank line goes before ``block`` so the pieces equal a one-shot render."""
    return previous is not None and not block.is_container and previous.kind != "hr"


def _parser() -> MarkdownIt:
    # Rich's own configuration, without inline parsing: only block structure matters here.
    return MarkdownIt().enable("strikethrough").enable("table").disable("inline")


class BlockSplitter:
    def __init__(self) -> None:
        self._md = _parser()
        self.pending = ""  # source not yet returned as a finished block
        self._parsed_size = 0  # size of the complete-line prefix at the last parse
        self._fence: str | None = None  # opening marker of an unclosed leading fence

    def feed(self, text: str) -> list[Block]:
        """Append answer text; return the blocks that just became final."""
        self.pending += text
        if "\n" not in text:
            return []
        cut = self.pending.rfind("\n") + 1
        if not self._worth_parsing(cut, text):
            return []
        return self._split(cut, final=False)

    def flush(self) -> list[Block]:
        """End of the answer: everything left, as blocks (an unclosed fence renders fine)."""
        if not self.pending.strip():
            self.pending = ""
            return []
        source = self.pending if self.pending.endswith("\n") else self.pending + "\n"
        self.pending = source
        return self._split(len(source), final=True)

    def _worth_parsing(self, cut: int, text: str) -> bool:
        if self._fence is not None:
            # Inside an open fence only a line holding the closing marker can change anything.
            return self._fence in self.pending[self._parsed_size : cut]
        grown_enough = cut >= self._parsed_size + self._parsed_size // 8
        return cut <= _REPARSE_FLOOR or grown_enough

    def _split(self, cut: int, *, final: bool) -> list[Block]:
        source = self.pending[:cut]
        lines = source.splitlines(keepends=True)
        tokens = [t for t in self._md.parse(source) if t.level == 0 and t.nesting >= 0]
        spans = [(t.type, t.map[0], t.map[1]) for t in tokens if t.map is not None]
        done: list[Block] = []
        consumed = 0  # lines handed out as finished
        for index, (kind, start, end) in enumerate(spans):
            is_last = index == len(spans) - 1
            if is_last and not final and not self._final_now(kind, lines, start, end):
                break
            # Blank lines between blocks belong to no block; a block ends at its map end.
            done.append(Block("".join(lines[start:end]), kind))
            consumed = end
        if final:
            consumed = len(lines)
        taken = sum(len(line) for line in lines[:consumed])
        self.pending = self.pending[taken:]
        self._parsed_size = cut - taken
        self._fence = self._open_fence(self.pending[: self._parsed_size])
        return done

    @staticmethod
    def _final_now(kind: str, lines: list[str], start: int, end: int) -> bool:
        if kind in _FINAL_AT_ONCE:
            return True
        if kind == "fence" and end - start >= 2:
            opening = _FENCE_OPEN.match(lines[start])
            return opening is not None and _closes(lines[end - 1], opening.group(1))
        return False

    @staticmethod
    def _open_fence(text: str) -> str | None:
        """The marker of a fence that opens ``text`` and is not closed in it, else ``None``."""
        first_line = text.split("\n", 1)[0]
        match = _FENCE_OPEN.match(first_line)
        if match is None:
            return None
        marker = match.group(1)
        if any(_closes(line, marker) for line in text.split("\n")[1:]):
            return None
        return marker


def _closes(line: str, marker: str) -> bool:
    """A closing fence: only the marker character, at least as many, indented < 4."""
    stripped = line.strip()
    indent = len(line) - len(line.lstrip(" "))
    return indent < 4 and len(stripped) >= len(marker) and not stripped.strip(marker[0])
