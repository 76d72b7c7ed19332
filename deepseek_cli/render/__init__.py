"""Everything the user sees: the live renderer and plain output for a streaming reply
(``renderer`` chooses), one-line messages on stderr, results on stdout, tables, progress,
money and token formatting. Only this package imports Rich, and only on the paths that draw
with it, so start-up and pipes stay cheap.
"""
