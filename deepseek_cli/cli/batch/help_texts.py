"""The help texts of ``deepseek batch`` and its commands: what they do, examples, exit codes.

Long prose kept out of the command modules so that those read as code; ``app`` attaches each
text to its command.
"""

from __future__ import annotations

BATCH_HELP = (
    "Run many requests from a JSONL file: exactly once, within rate limits, resumable; "
    "or hand them to the provider's Batch service (DashScope, half price)."
)

BATCH_EPILOG = """\b
Examples:
  deepseek batch estimate questions.jsonl
  deepseek batch run questions.jsonl -j 16 --rpm 600
  deepseek batch run questions.jsonl              # again: resumes where it stopped
  deepseek batch submit questions.jsonl -p cn     # remote job on DashScope Beijing
  deepseek batch status --wait && deepseek batch fetch JOB
"""

RUN_EPILOG = """\b
Input lines (JSONL; '-' reads stdin):
  {"id": "q1", "prompt": "Translate: ..."}
  {"id": "q2", "messages": [{"role": "user", "content": "..."}], "max_tokens": 200}
  {"custom_id": "q3", "method": "POST", "url": "/v1/chat/completions",
   "body": {"model": "deepseek-v4-flash", "messages": [...]}}
Lines may set system, model, thinking, thinking_budget, reasoning_effort,
temperature, top_p, max_tokens, extra, and function tools and tool_choice
(OpenAI's shape): a record then has the model's tool_calls; batch never runs
a tool. A line without an id gets line-N.

\b
Examples:
  deepseek batch run questions.jsonl              # -> questions.out.jsonl
  deepseek batch run in.jsonl -o out.jsonl -j 16 --rpm 600
  cat in.jsonl | deepseek batch run - -o out.jsonl -p deepseek
  deepseek batch run in.jsonl -o out.jsonl        # again: resumes, skips done ids
  deepseek batch run in.jsonl --max-tokens 500 --max-cost 2     # stop at $2
  deepseek batch run in.jsonl --max-tokens 500 --max-cost 5     # then: goes on

\b
Ctrl-C or SIGTERM stops sending, lets requests in flight finish (--grace), and
can be resumed.

\b
--max-cost: no request starts whose reservation (prompt estimate + max_tokens at
the dearest price) would take the job's spend, earlier runs included, past it;
every model needs a price in that currency (exit 78 otherwise).

\b
Exit: 0 all done, 4 some items failed (see the errors file), 65 invalid input
(nothing sent), 69 provider unavailable, 75 output in use, rate-limit wait too
long or --max-cost reached (resumable), 77 key or balance problem, 78 a model
without a price under --max-cost, 130/143 interrupted (resumable).
"""

ESTIMATE_EPILOG = """\b
Examples:
  deepseek batch estimate questions.jsonl
  deepseek batch estimate in.jsonl -m deepseek-v4-flash --assume-output 300 --json
  deepseek batch estimate in.jsonl -p cn --remote     # at the Batch price (half)
  deepseek batch estimate in.jsonl --max-tokens 500 --max-cost 2   # lines that fit
"""

SUBMIT_EPILOG = """\b
The provider runs the job (DashScope's OpenAI-compatible Batch API, half the
real-time price, results within the --window). Same input lines and request
options as batch run. DeepSeek's own API has no Batch service (use batch run);
in Singapore (intl) DashScope batches serve Qwen models only: DeepSeek models
run in Beijing (a profile with region = "cn").

\b
Submitting the same input with the same options again does not make a second
job: it finishes an interrupted submission or prints the existing job's id
(--new submits again on purpose).

\b
Examples:
  deepseek batch submit questions.jsonl -p cn              # prints the job id
  deepseek batch submit in.jsonl -p cn --no-think --name nightly --window 48h
  JOB=$(deepseek batch submit in.jsonl -p cn)
  deepseek batch status "$JOB" --wait && deepseek batch fetch "$JOB"

\b
Exit: 0 submitted, 2 the provider/region cannot run it, 65 invalid input
(nothing sent), 69 provider unavailable (run again: resumes), 77 key problem.
"""

STATUS_EPILOG = """\b
Without JOB: every job recorded here. JOB is a job id, a unique prefix of one,
or a --name. Finished parts are not asked about again.

\b
Examples:
  deepseek batch status
  deepseek batch status 20261130-3fa9c1
  deepseek batch status nightly --wait        # until every part has finished
  deepseek batch status --json

\b
Exit: 0; with --wait 4 when a part failed, expired or was cancelled, or some
requests failed.
"""

FETCH_EPILOG = """\b
Writes the same output and errors files as batch run (default INPUT.out.jsonl
and OUTPUT.errors.jsonl). Requests the provider never ran (expired, cancelled,
failed validation) are error records of kind not_processed. Fetching again
gives identical files; usage goes to the ledger once, at the Batch price.

\b
Examples:
  deepseek batch fetch 20261130-3fa9c1
  deepseek batch fetch nightly -o results.jsonl --format openai

\b
Exit: 0 all answered, 4 some failed or were not processed (see the errors
file), 75 still running (try later or status --wait), 2 not fully submitted.
"""

CANCEL_EPILOG = """\b
Examples:
  deepseek batch cancel 20261130-3fa9c1
  deepseek batch fetch 20261130-3fa9c1     # then: whatever finished before
"""
