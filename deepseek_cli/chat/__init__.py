"""Conversations with one model: the turn engine shared by ``ask`` and ``chat``, and the REPL.

``turn`` runs one request end to end (notices, retries, rendering, cost, ledger row);
``retries`` is its retry policy; ``prompt_input`` builds a prompt from words, stdin and files;
``repl`` is the ``chat`` loop, ``slash_commands`` its ``/`` commands, ``line_editor`` its
terminal input (the only prompt_toolkit user) and ``sessions`` the session files.
"""
