"""The usage ledger: one SQLite row per API call (``store``) and the reports over it
(``reports``). Below it: config, the catalog and the leaf modules."""
