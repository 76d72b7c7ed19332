"""Batch run's default deadlines, apart from the profile code.

Why a module of its own: ``batch run --help`` prints the default, and importing
``config.profiles`` (dataclasses and all) for one number would slow every ``--help``.
"""

from __future__ import annotations

BATCH_TOTAL_TIMEOUT = 1800.0  # per attempt: long thinking answers; ask keeps 600 s
BATCH_FIRST_TOKEN_TIMEOUT = 660.0  # DeepSeek drops requests still queued after 10 minutes
