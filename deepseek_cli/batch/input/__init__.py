"""The batch input: read line by line (``safefile.read_lines``, bounded however long a line
is), stdin and other streams spooled so they can be read twice (``source``), the two line
formats and their validation (``grammar``), and the two passes over a whole input (``scan``:
validate first, then dispatch)."""
