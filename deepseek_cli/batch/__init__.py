"""``deepseek batch``: many requests from a JSONL file, exactly once, within rate limits.

The modules each do one job and depend on each other in one direction (lowest first):

- ``input/``: the input read line by line (bounded), stdin spooled, the two line formats and
  their validation, and the validation and dispatch passes.
- ``tokens``: estimates tokens the way DeepSeek documents (for TPM and ``batch estimate``).
- ``planner``: a line's request and provider options, laid over flags and profile.
- ``eligibility``: which profiles and models a provider's Batch service can run.
- ``limits``: per-model admission: smooth RPM, TPM window, 429 pause, outage breaker.
- ``records``: the output and error record shapes (ours and provider-Batch style).
- ``writer``: the locked, append-only output files, torn-tail repair and the resume scan.
- ``ledger_feed``: usage ledger rows, written in batches by the job's ticker.
- ``budget``: ``--max-cost``: its parser, what one attempt reserves, the job's account.
- ``stats``: the job's counters, which the progress display and the summary read.
- ``scheduler/``: the running job: dispatch, attempts, the outcome policy, signals, drain.
- ``job``: wires the above for ``batch run``; ``estimate`` does the same for ``batch estimate``.
- ``remote/``: jobs on the provider's own Batch service, built on the modules above.

The output file is the only record of progress (an id is done when its complete record is in
the output or errors file): nothing else is persisted, so nothing can run ahead of it.
"""
