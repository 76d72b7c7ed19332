"""MCP tools: the servers a config names, started over stdio, their tools offered to the model.

This is the only layer that imports the ``mcp`` SDK, and only once a tool is in use: ``--help``,
``models``, ``usage`` and plain asks never pay for it.
"""
