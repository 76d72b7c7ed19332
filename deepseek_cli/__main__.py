"""Entry point for the ``deepseek`` console script and ``python -m deepseek_cli``.

The Typer app is imported inside :func:`main` so that importing the package stays free.
"""

from __future__ import annotations


def main() -> None:
    from deepseek_cli.cli.app import app

    app(prog_name="deepseek")


if __name__ == "__main__":
    main()
