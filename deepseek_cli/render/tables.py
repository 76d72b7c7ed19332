"""Tables and field lists for ``models``, ``usage`` and ``config``: Rich on a terminal, plain text
in a pipe.

A terminal gets a Rich table that wraps cells to the window. A pipe (``| grep``, ``| less``,
``> file``) gets what ``docker ps`` prints: upper-case headers, columns separated by two spaces,
no box drawing, no escape codes and no wrapping, so one row stays one line for grep and awk.
Machines should use ``--json``/``--csv``; this is for people reading a pipe. Rich is imported
only on the terminal path (it costs ~45 ms of start-up), and a closed pipe ends quietly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from deepseek_cli.render.stdout import emit
from deepseek_cli.render.terminal import stdout_is_terminal

# A cell is one string, or several lines: stacked on a terminal, joined with "; " in a pipe.
Cell = str | Sequence[str]


@dataclass(frozen=True)
class Column:
    header: str
    align: Literal["left", "right"] = "left"
    style: str | None = None  # Rich style, terminal only
    no_wrap: bool = False
    min_width: int | None = None  # terminal only: narrower than this, Rich wraps other columns
    title: bool = False  # names the row: heads its block when the terminal is too narrow


def _lines(cell: Cell) -> list[str]:
    return [cell] if isinstance(cell, str) else list(cell)


def plain_table(columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> str:
    """Aligned text: one line per row, two spaces between columns, nothing else."""
    header = [c.header.upper() for c in columns]
    body = [["; ".join(_lines(cell)) for cell in row] for row in rows]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(columns))]
    lines = []
    for row in [header, *body]:
        parts = []
        for i, (column, text) in enumerate(zip(columns, row, strict=True)):
            last = i == len(columns) - 1
            if column.align == "right":
                parts.append(text.rjust(widths[i]))
            else:
                parts.append(text if last else text.ljust(widths[i]))
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines) + "\n"


def print_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    *,
    title: str | None = None,
    caption: str | None = None,
    row_styles: Sequence[str | None] | None = None,
    terminal: bool | None = None,
) -> None:
    """A Rich table on a terminal (with title and caption), aligned plain text otherwise."""
    if not (stdout_is_terminal() if terminal is None else terminal):
        emit(plain_table(columns, rows))
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    table = Table(
        title=title,
        caption=caption,
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
        header_style="bold",
        pad_edge=False,
    )
    for column in columns:
        # fold, not ellipsis: a narrow terminal wraps a cell, it never hides part of it.
        table.add_column(
            column.header,
            justify=column.align,
            style=column.style,
            no_wrap=column.no_wrap,
            min_width=column.min_width,
            overflow="fold",
        )
    for i, row in enumerate(rows):
        style = row_styles[i] if row_styles else None
        table.add_row(*("\n".join(_lines(cell)) for cell in row), style=style)
    try:
        if _narrowest(columns, rows) > console.width:
            # Too narrow for the columns: Rich would crop the right-hand ones. One block
            # per row instead, so every value is still there.
            _print_records(console, columns, rows, title, caption)
        else:
            console.print(table)
    except BrokenPipeError:
        emit("")


def _narrowest(columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> int:
    """The narrowest the table can be without splitting a word (Rich would fold or crop)."""
    # Rich's SIMPLE_HEAD box: an edge each side, and between two columns a (blank) border
    # with a space of padding either side of it.
    total = 3 * len(columns) - 1
    for i, column in enumerate(columns):
        texts = [column.header, *("\n".join(_lines(row[i])) for row in rows)]
        if column.no_wrap:
            width = max(len(line) for t in texts for line in t.splitlines() or [""])
        else:
            width = max((len(word) for t in texts for word in t.split()), default=0)
        total += max(width, column.min_width or 0)
    return total


def _print_records(
    console: Any,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    title: str | None,
    caption: str | None,
) -> None:
    from rich.text import Text

    if title:
        console.print(Text(title, style="bold"))
        console.print()
    # The block's heading: the title column (else the first) and unnamed marker columns.
    heading = {i for i, c in enumerate(columns) if c.title or not c.header} or {0}
    if not any(columns[i].header for i in heading):
        heading.add(0)
    for row in rows:
        name = " ".join(" ".join(_lines(row[i])) for i in sorted(heading) if row[i])
        console.print(Text(name, style="bold"), soft_wrap=True)
        pairs = [(c.header, row[i]) for i, c in enumerate(columns) if i not in heading]
        console.print(Text(fields_text(pairs, "  ").rstrip("\n")), soft_wrap=True)
    if caption:
        console.print(Text(caption, style="dim"))


def fields_text(pairs: Sequence[tuple[str, Cell]], indent: str = "") -> str:
    """``label  value`` lines with the values aligned; extra lines of a value are indented."""
    if not pairs:
        return ""
    width = max(len(label) for label, _ in pairs)
    lines = []
    for label, value in pairs:
        values = _lines(value) or [""]
        lines.append(f"{indent}{label.ljust(width)}  {values[0]}".rstrip())
        lines.extend(f"{indent}{' ' * width}  {extra}".rstrip() for extra in values[1:])
    return "\n".join(lines) + "\n"
