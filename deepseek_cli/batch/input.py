"""The names ``batch/remote`` imports from the batch input, where they were before the split.

Kept only so ``batch/remote`` (another change) keeps importing while it moves to the modules
that now hold them: ``input_source`` (``InputSource``), ``line_reader`` (``read_lines``),
``line_format`` (``RequestLine``, ``BadLine``, ``parse_line``) and ``input_scan`` (``scan``,
``iter_lines``, ``InputScan``, ``MAX_LINE_BYTES``). Delete it once nothing imports it.
"""

from __future__ import annotations

from deepseek_cli.batch.input_scan import MAX_LINE_BYTES, InputScan, iter_lines, scan
from deepseek_cli.batch.input_source import InputSource
from deepseek_cli.batch.line_format import BadLine, RequestLine
from deepseek_cli.batch.line_reader import read_lines

__all__ = [
    "MAX_LINE_BYTES",
    "BadLine",
    "InputScan",
    "InputSource",
    "RequestLine",
    "iter_lines",
    "read_lines",
    "scan",
]
