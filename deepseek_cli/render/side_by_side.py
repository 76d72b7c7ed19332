"""The answers ``/compare`` collected, side by side: one column per model on a terminal, plain
sections in a pipe.

A terminal gets a Rich table whose columns share the width, each headed by the model and its
usage, each answer rendered as Markdown and wrapped inside its column. When the window is too
narrow for the columns to be readable, the answers are stacked, each under a rule naming its
model, rather than folded into slivers. A pipe gets ``== model ==``, the answer, its usage
line, and a blank line between sections: no escape codes, easy to split with a script.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from deepseek_cli.redaction import redact
from deepseek_cli.render.stdout import emit
from deepseek_cli.render.usage_line import SEPARATOR, wrap_segments

# Narrower than this a column of prose is a word or two per line: stack the answers instead.
MIN_COLUMN = 30


@dataclass(frozen=True)
class ComparedAnswer:
    """One model's side of the comparison: its answer and usage, or the error instead."""

    title: str
    answer: str = ""
    usage: tuple[str, ...] = ()  # the usage line's segments, wrapped to the room there is
    error: str | None = None


def show(answers: Sequence[ComparedAnswer], *, terminal: bool) -> bool:
    """Print the comparison; ``False`` when stdout's reader has gone (``| head``)."""
    if not terminal:
        return emit(plain_text(answers))
    _print_rich(answers)
    return True


def plain_text(answers: Sequence[ComparedAnswer]) -> str:
    sections = []
    for entry in answers:
        lines = [f"== {entry.title} =="]
        if entry.error is not None:
            lines.append(f"error: {redact(entry.error)}")
        else:
            lines.append(entry.answer.rstrip("\n"))
        if entry.usage:
            lines.append(SEPARATOR.join(entry.usage))
        sections.append("\n".join(lines))
    return "\n\n".join(sections) + "\n"


def _print_rich(answers: Sequence[ComparedAnswer]) -> None:
    from rich import box
    from rich.console import Console, RenderableType
    from rich.markdown import Markdown
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    def body(entry: ComparedAnswer) -> RenderableType:
        if entry.error is not None:
            return Text(f"error: {redact(entry.error)}", style="red")
        return Markdown(entry.answer)

    console = Console(highlight=False)
    if not answers:
        return
    # Rich's SIMPLE_HEAD box: a space of padding each side of every column, a border between.
    column = (console.width - 3 * len(answers)) // len(answers)
    if column < MIN_COLUMN:
        for entry in answers:
            console.print(Rule(Text(entry.title, style="bold"), align="left"))
            console.print(body(entry))
            if entry.usage:
                console.print(Text(wrap_segments(list(entry.usage), console.width), style="dim"))
        console.print()
        return
    table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False, header_style="")
    for entry in answers:
        table.add_column(Text(entry.title, style="bold"), ratio=1, overflow="fold")
    # The usage goes in a row of its own under the titles, not in the header, whose cells
    # Rich aligns at the bottom: a title would then sit lower when its neighbour's usage wraps.
    usages = (Text(wrap_segments(list(e.usage), column), style="dim") for e in answers)
    table.add_row(*usages, end_section=True)
    table.add_row(*(body(entry) for entry in answers))
    console.print(table)
