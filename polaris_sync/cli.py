"""Command-line entry points: parse, call one function, report."""

from __future__ import annotations

import click

from polaris_sync import __version__
from polaris_sync.sandbox.cli import sandbox


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="polaris-sync")
def cli() -> None:
    """Synchronise a Polaris back-office with a PrestaShop shop."""


cli.add_command(sandbox)


def main() -> None:
    cli()
