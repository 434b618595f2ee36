"""`polaris-sync sandbox ...`: the sandbox servers as a command."""

from __future__ import annotations

import click


@click.group()
def sandbox() -> None:
    """Run the Polaris simulator and the PrestaShop emulator on this machine."""
