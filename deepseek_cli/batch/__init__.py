"""``deepseek batch``: many requests from a JSONL file, exactly once, within rate limits.

The modules each do one job and depend on each other in one direction (lowest first):

- ``line_reader``: reads any file line by line, holding a bounded piece of a line at most.
- ``input_source``: the input file, or stdin spooled so it can be read twice.
- ``line_format``: the two input line formats (ours, provider-Batch) and their validation.
- ``input_scan``: the validation pass over the whole input, then the dispatch pass.
- ``tokens``: estimates tokens the way DeepSeek documents (for TPM and ``batch estimate``).
- ``planner``: a line's request and provider options, laid over flags and profile.
- ``limits``: per-model admission: smooth RPM, TPM window, 429 pause, outage breaker.
- ``records``: the output and error record shapes (ours and provider-Batch style).
- ``writer``: the locked, append-only output files, torn-tail repair and the resume scan.
- ``ledger_feed``: usage ledger rows, written in batches by the job's ticker.
- ``stats``, ``stop_reason``: the job's counters, and why it stopped (with its exit code).
- ``policy``: what an attempt's end leads to (write, retry, pause, stop): a pure function.
- ``results``: writes records and counts them; ``backlog``: items waiting for a time.
- ``attempt``: one attempt and its outcome; ``dispatch``: what is sent next, and when.
- ``lifecycle``: the running job: signals, ticker, drain.
- ``job``: wires the above for ``batch run``; ``estimate`` does the same for ``batch estimate``.
- ``input``: the old import path of the input names, until ``remote`` imports the new ones.

The output file is the only record of progress (an id is done when its complete record is in
the output or errors file): nothing else is persisted, so nothing can run ahead of it.
"""
