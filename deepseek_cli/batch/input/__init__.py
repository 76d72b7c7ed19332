"""The batch input: read line by line (``reader``, bounded however long a line is), stdin
spooled so it can be read twice (``source``), the two line formats and their validation
(``grammar``), and the two passes over a whole input (``scan``: validate first, then
dispatch)."""
