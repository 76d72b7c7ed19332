"""deepseek-cli: a terminal client for DeepSeek-family models on DashScope, DeepSeek's API
and OpenAI-compatible servers.

The package is layered; each folder is one layer and imports only from the layers below it
(``tests/test_layering.py`` holds this, reading the imports):

- ``cli``: the Typer app, one module per command, the single error boundary. Glue only.
- ``chat``: one conversation turn end to end (shared by ``ask`` and ``chat``) and the REPL.
- ``compare``: ``deepseek compare`` (variants, checks, baseline, judge, report) over batch jobs.
- ``batch.remote``: jobs on a provider's Batch service; built on the local engine below.
- ``batch``: the local batch engine (input grammar, limits, scheduler, exactly-once files).
- ``tools``: MCP servers (the only user of the ``mcp`` SDK), tool approval, running a model
  turn's tool calls. The tool loop itself is a conversation turn, so it lives in ``chat``.
- ``render``: everything the user sees; the only user of Rich.
- ``backends``: the provider protocol and its adapters; the only place that talks HTTP or
  imports an SDK (also the balance query, model lists and ``config doctor``'s probes).
- ``ledger``: the SQLite usage ledger and its reports.
- ``config``: the config file, profiles, keys, paths and the resolved request settings.
- ``catalog``: model facts and dated prices, from ``catalog/models.toml``.
- leaves: ``errors``, ``events``, ``conversation``, ``safefile``, ``redaction``,
  ``timestamps``.

Where this departs from the design sketch, and why: ``conversation`` (a reply being folded
from events, and which history goes back) replaces ``session.py``, which sat next to the
session files and invited mistakes; ``batch.remote`` is a layer of its own above ``batch``
because it reuses the local grammar, planner and records, never the other way round; the
text of the models table lives in ``render`` with the rest of the presentation, so the
catalog only parses and looks up.
"""

__version__ = "0.1.0"
