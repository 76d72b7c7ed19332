"""``deepseek compare``: the same prompts through several models or settings, on the batch
engine, with checks, an optional judge, and a report of quality, latency and cost."""
