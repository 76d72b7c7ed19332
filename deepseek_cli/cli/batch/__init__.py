"""``deepseek batch``: ``run``/``estimate`` (glue for ``deepseek_cli.batch``) and the remote
jobs ``submit``/``status``/``fetch``/``cancel`` (glue for ``deepseek_cli.batch.remote``).

``app`` builds the group from ``local_commands`` and ``remote_commands``; ``help_texts`` holds
the examples and exit codes of each command, ``options`` the options several of them share.
Only Typer and the option declarations are imported at start-up; the batch machinery (and
through it the SDKs) is imported inside the commands, so ``deepseek --help`` stays fast.
"""
