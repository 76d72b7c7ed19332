"""Keeps API keys out of every message, record and traceback.

Providers sometimes echo the key in an error body, and SDK exceptions then carry it in
``str(e)``. Everything we print or write about a failure goes through :func:`redact`, which
masks every key this process has loaded plus anything shaped like an ``sk-`` key.
"""

from __future__ import annotations

import re

_KEY_SHAPE = re.compile(r"sk-[A-Za-z0-9_\-]{12,}")
_known: set[str] = set()


def register_secret(secret: str) -> None:
    """Remember a secret so later output can be scrubbed of it (and of its long substrings)."""
    if len(secret) >= 8:
        _known.add(secret)


def mask(secret: str) -> str:
    """The displayable form of a key: at most its last four characters."""
    return f"…{secret[-4:]}" if len(secret) >= 12 else "…"


def redact(text: str) -> str:
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "[REDACTED]")
        # A server may quote a slice of the key; 12 characters is already identifying.
        for i in range(0, len(secret) - 11):
            piece = secret[i : i + 12]
            if piece in text:
                text = text.replace(piece, "[REDACTED]")
    return _KEY_SHAPE.sub("[REDACTED]", text)
