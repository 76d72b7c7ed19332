"""The ``deepseek batch`` command group: its commands, in the order ``--help`` lists them."""

from __future__ import annotations

from deepseek_cli.cli.batch import help_texts as texts
from deepseek_cli.cli.batch.local_commands import estimate, run
from deepseek_cli.cli.batch.remote_commands import cancel, fetch, status, submit
from deepseek_cli.cli.typer_apps import new_app

app = new_app(
    name="batch",
    help=texts.BATCH_HELP,
    epilog=texts.BATCH_EPILOG,
    no_args_is_help=True,
)

app.command(epilog=texts.RUN_EPILOG)(run)
app.command(epilog=texts.ESTIMATE_EPILOG)(estimate)
app.command(epilog=texts.SUBMIT_EPILOG)(submit)
app.command(epilog=texts.STATUS_EPILOG)(status)
app.command(epilog=texts.FETCH_EPILOG)(fetch)
app.command(epilog=texts.CANCEL_EPILOG)(cancel)
