"""Builds the prompt of a one-shot request from words, piped stdin and attached files.

``git diff | deepseek ask "review this"`` must just work, so piped stdin is appended after a
blank line. Attached files are refused when they are binary or look like secrets (``.env``,
private keys), unless forced: pasting a private key into a prompt is the leak people regret.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

from deepseek_cli.errors import InputDataError, UsageError
from deepseek_cli.safefile import MiB, TooLarge, read_limited, size_text

# A prompt far larger than any model's context (1M tokens is about 4 MiB of text) is a
# mistake (``-f /dev/zero``, the wrong file), not a prompt: refused before it fills memory.
MAX_INPUT_BYTES = 8 * MiB
_SECRET_NAMES = re.compile(
    r"^(\.env(\..*)?|.*\.(pem|key|p12|pfx|jks|keystore)|id_(rsa|dsa|ecdsa|ed25519)|"
    r"\.netrc|\.pgpass|credentials(\.json)?|\.git-credentials)$",
    re.IGNORECASE,
)
_SECRET_CONTENT = re.compile(
    rb"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----|AKIA[0-9A-Z]{16}|\bsk-[A-Za-z0-9_\-]{20,}"
)


def read_stdin(stream: BinaryIO) -> str:
    """All of piped stdin as text, bounded so a runaway pipe cannot exhaust memory."""
    try:
        data = read_limited(stream, MAX_INPUT_BYTES)
    except TooLarge:
        raise InputDataError(
            f"stdin is larger than {size_text(MAX_INPUT_BYTES)} (the limit for a prompt)"
        ) from None
    return decode_text(data, "stdin")


def decode_text(data: bytes, what: str) -> str:
    """``data`` as UTF-8 text, or exit 65 naming ``what`` and the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputDataError(
            f"{what} is not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None


def read_attachment(path: Path, *, force: bool = False) -> str:
    try:
        data = read_limited(path, MAX_INPUT_BYTES)
    except TooLarge:
        raise UsageError(
            f"{path} is larger than {size_text(MAX_INPUT_BYTES)} (the limit for a prompt); not sent"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    if not force:
        if _SECRET_NAMES.match(path.name) or _SECRET_CONTENT.search(data):
            raise UsageError(
                f"{path} looks like it holds secrets; not sent", "add --force to send it anyway"
            )
        if b"\x00" in data[:8192]:
            raise UsageError(f"{path} is a binary file; not sent", "add --force to send it anyway")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if force:
            return data.decode("utf-8", errors="replace")
        raise UsageError(
            f"{path} is not UTF-8 text; not sent", "add --force to send it anyway"
        ) from None


def compose(words: list[str], stdin_text: str | None, files: list[tuple[Path, str]]) -> str:
    """Prompt words, then stdin after a blank line, then each file in a fenced block."""
    parts = []
    if words:
        parts.append(" ".join(words))
    if stdin_text and stdin_text.strip():
        parts.append(stdin_text.rstrip("\n"))
    for path, text in files:
        fence = "````" if "```" in text else "```"
        parts.append(f"{path.name}:\n{fence}\n{text.rstrip()}\n{fence}")
    prompt = "\n\n".join(parts)
    if not prompt.strip():
        raise UsageError("empty prompt: give prompt words, pipe text on stdin, or use -f FILE")
    return prompt
