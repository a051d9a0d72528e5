"""The `portalsim` command: the portal's commands (app/cli.py) and the load harness's
(loadtest/cli.py) under one name, so that neither package imports the other to be run.

Both halves keep their module level light (see app/cli.py): this module is the entry script
that every command, and every worker of `serve --workers N`, imports first."""

from __future__ import annotations

import typer

from app.cli import CommandGroup
from app.cli import app as portal
from loadtest.cli import app as harness

app = typer.Typer(
    cls=CommandGroup,
    help="portalsim: a mock of Vietnam's National Public Service Portal, and its load harness.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    # Markdown: a docstring's lines join into paragraphs (rich mode keeps each line break).
    rich_markup_mode="markdown",
)
app.add_typer(portal)
app.add_typer(harness)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
