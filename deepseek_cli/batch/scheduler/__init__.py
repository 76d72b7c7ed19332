"""The running ``batch run`` job: ``lifecycle`` (signals, ticker, drain, why it stopped:
``stop_reason``), ``dispatch`` (what goes out next, through each model's gate), ``backlog``
(items waiting for a retry or the end of a pause), ``attempt`` (one request and what its end
leads to), ``policy`` (that decision, as a pure function) and ``results`` (records written
and counted)."""
