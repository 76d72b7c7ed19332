"""The usage ledger: one SQLite row per API call (``store``), the reports over it
(``reports``) and the calls one by one (``calls``). Below it: config, the catalog and the leaf
modules."""
