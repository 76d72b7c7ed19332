"""Remote batch jobs: the provider's own Batch service runs them (DashScope, half price).

``batch run`` keeps our process busy for the whole job; these commands hand the job over and
come back for the results:

- ``submit``: the same input as ``batch run``, turned into provider Batch files (split at the
  provider's limits), uploaded, and batches created; the job is recorded locally first.
- ``status``: the remote state of each part (``--wait`` polls until every part is done).
- ``fetch``: the provider's output and error files, converted to the exact records
  ``batch run`` writes; usage goes to the ledger at the Batch price, once.
- ``cancel``.

Modules: ``jobs`` (the local record and its store), ``eligibility`` (who can run what),
``client`` (the Batch service for one job: its key, adopting a batch, refreshing parts),
``submit``, ``status`` (status, wait, cancel) and ``fetch``, which runs ``downloads`` (the
result-file cache), ``convert`` (result lines -> records), ``install`` (both files or
neither), ``ledger_rows`` and ``summary``. The provider calls are in ``backends.batch_api``;
what the user sees is in ``render.remote``, which takes the plain job view ``jobs.job_view``
builds.
"""
