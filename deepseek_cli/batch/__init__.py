"""``deepseek batch``: many requests from a JSONL file, exactly once, within rate limits.

The modules each do one job and depend on each other in one direction:

- ``input``: streams and validates input lines (bounded line size, both line formats).
- ``tokens``: estimates tokens the way DeepSeek documents (for TPM and ``batch estimate``).
- ``limits``: per-model admission: smooth RPM, TPM window, 429 pause, outage breaker.
- ``records``: the output and error record shapes (ours and provider-Batch style).
- ``writer``: the locked, append-only output files, torn-tail repair and the resume scan.
- ``usage``: the usage ledger fed from a background thread, so SQLite never blocks output.
- ``scheduler``: the asyncio job: dispatch, attempts, retries, signals, drain.
- ``job``: wires the above for ``batch run``; ``estimate`` does the same for ``batch estimate``.

The output file is the only record of progress (an id is done when its complete record is in
the output or errors file): nothing else is persisted, so nothing can run ahead of it.
"""
