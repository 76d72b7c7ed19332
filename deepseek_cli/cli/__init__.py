"""The command-line layer: the only package that imports Typer.

Commands are glue: parse flags, resolve settings, call the core, and let ``boundary`` turn
failures into exit codes.
"""
