"""`polaris-sync sandbox ...`: the sandbox servers as a command."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from polaris_sync.errors import ConfigError
from polaris_sync.sandbox.prestashop import versions
from polaris_sync.sandbox.serve import SandboxOptions, default_catalogue, serve


@click.group()
def sandbox() -> None:
    """Run the Polaris simulator and the PrestaShop emulator on this machine."""


@sandbox.command("serve")
@click.option("--dir", "directory", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder keeping both servers' data and sandbox.json.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address both servers listen on.")
@click.option("--polaris-port", default=0, show_default=True,
              type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option("--prestashop-port", default=0, show_default=True,
              type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option("--models", default=50, show_default=True, type=click.IntRange(0),
              help="Generated models added on first start.")
@click.option("--seed", default=1, show_default=True, type=int,
              help="Seed of the generated catalogue.")
@click.option("--prestashop-version", default="8.1.2", show_default=True,
              callback=lambda _ctx, _param, value: _version(value),
              help="PrestaShop version the emulator behaves as: 1.7.8.x, "
                   "8.x or 9.x (e.g. 1.7.8.11, 9.0.1).")
@click.option("--catalogue", type=click.Path(file_okay=False, exists=True,
                                              path_type=Path),
              help="PrestaShop demo catalogue folder to load into Polaris "
                   "[default: the shared one beside the repository, if any].")
@click.option("--polaris-tls", is_flag=True,
              help="Serve the simulator over HTTPS with a self-signed certificate.")
def serve_command(
    directory: Path,
    host: str,
    polaris_port: int,
    prestashop_port: int,
    models: int,
    seed: int,
    prestashop_version: str,
    catalogue: Path | None,
    polaris_tls: bool,
) -> None:
    """Run both sandbox servers until Ctrl-C or SIGTERM."""
    options = SandboxOptions(
        directory=directory, host=host, polaris_port=polaris_port,
        prestashop_port=prestashop_port, models=models, seed=seed,
        prestashop_version=prestashop_version,
        catalogue=catalogue or default_catalogue(), polaris_tls=polaris_tls,
    )
    try:
        serve(options, click.echo)
    except ConfigError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(error.exit_code)


@sandbox.command("replay")
@click.option("--url", required=True,
              help="API root of the shop to check, e.g. http://127.0.0.1:8081/api.")
@click.option("--key", required=True, help="Its webservice key.")
@click.argument("scenarios", nargs=-1, required=True,
                type=click.Path(dir_okay=False, exists=True, path_type=Path))
def replay_command(url: str, key: str, scenarios: tuple[Path, ...]) -> None:
    """Replay recorded webservice exchanges (JSON lines) against a shop.

    Prints every failing step with what differed, then "N passed, M failed";
    exits 1 when a step failed.
    """
    from polaris_sync.sandbox.prestashop.replay import main as replay_main

    arguments = ["--url", url, "--key", key, *(str(path) for path in scenarios)]
    sys.exit(replay_main(arguments))


def _version(value: str) -> str:
    if not versions.is_emulated(value):
        raise click.BadParameter(
            f"the emulator does not play PrestaShop {value!r}; it plays "
            f"{', '.join(versions.EMULATED)} (e.g. 1.7.8.11, 8.1.2, 9.0.1)"
        )
    return value
