"""Command-line entry points: parse, call one function, report.

Every error a user can meet leaves as one line on stderr and the exit code of
its class in ``polaris_sync.errors`` (0 ok, 1 some items failed, 2 bad
configuration or input, 3 a server refused or could not be reached).
"""

from __future__ import annotations

import asyncio
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from polaris_sync import __version__
from polaris_sync.audit import ACTIONS as EVENT_ACTIONS
from polaris_sync.config import Config, config_path, load_config
from polaris_sync.errors import ConfigError, PolarisSyncError
from polaris_sync.sandbox.cli import sandbox
from polaris_sync.stages.base import STAGE_NAMES
from polaris_sync.state import MAPPING_KINDS, State

DEBUG_ENV = "POLARIS_SYNC_DEBUG"


CONFIG_HELP = (
    "Configuration file (default: $POLARIS_SYNC_CONFIG, else ./polaris-sync.toml)."
)


def _remember_config(
    ctx: click.Context, _: click.Parameter, value: Path | None
) -> None:
    if value is not None:
        ctx.meta["config_file"] = value


def _config_option() -> click.Option:
    """`--config` after the command name too, as in `polaris-sync run --config F`."""
    return click.Option(
        ["--config", "config_file"],
        type=click.Path(path_type=Path, dir_okay=False),
        expose_value=False,
        callback=_remember_config,
        help=CONFIG_HELP,
    )


class SyncGroup(click.Group):
    """Turns the errors of polaris-sync into one line and an exit code."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if not isinstance(cmd, click.Group) and cmd.name != "sandbox":
            cmd.params.append(_config_option())
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PolarisSyncError as error:
            click.echo(f"polaris-sync: {error}", err=True)
            ctx.exit(error.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # Output piped into `head` or a pager that quit: nothing to report.
            sys.stdout = open(os.devnull, "w")
            ctx.exit(0)
        except Exception as error:  # a bug: still one line, unless debugging
            if os.environ.get(DEBUG_ENV):
                traceback.print_exc()
            click.echo(
                f"polaris-sync: unexpected error: {type(error).__name__}: {error} "
                f"(set {DEBUG_ENV}=1 for details)",
                err=True,
            )
            ctx.exit(3)


def _http_url(_ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A URL option must say its scheme: `shop.example` is not a web address."""
    if value and not value.startswith(("http://", "https://")):
        raise click.BadParameter(
            f"{value!r} must start with http:// or https:// "
            f"(e.g. https://{value.split('://')[-1]})",
            param=param,
        )
    return value


def _config_file(ctx: click.Context) -> Path:
    chosen = ctx.meta.get("config_file") or ctx.find_root().params.get("config_file")
    return config_path(chosen)


def _config(ctx: click.Context) -> Config:
    return load_config(_config_file(ctx))


def _state(ctx: click.Context) -> State:
    return State.open(_config(ctx).state_dir)


@click.group(cls=SyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="polaris-sync")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help=CONFIG_HELP,
)
def cli(config_file: Path | None) -> None:
    """Synchronise a Polaris back-office with a PrestaShop shop."""


cli.add_command(sandbox)


# -- setting up --------------------------------------------------------------


@cli.command()
@click.option(
    "--prestashop-url",
    required=True,
    callback=_http_url,
    help="The shop's Webservice, https://…/api.",
)
@click.option(
    "--prestashop-key",
    envvar="POLARIS_SYNC_PRESTASHOP_KEY",
    help="A Webservice key of the shop (else $POLARIS_SYNC_PRESTASHOP_KEY, else "
    "asked without echo, keeping it out of the shell history).",
)
@click.option(
    "--polaris-url",
    default="",
    callback=_http_url,
    help="Where to associate with Polaris.",
)
@click.pass_context
def init(
    ctx: click.Context,
    prestashop_url: str,
    prestashop_key: str | None,
    polaris_url: str,
) -> None:
    """Write a starting configuration and check the shop key's rights."""
    from polaris_sync.onboarding import (
        missing_rights,
        store_prestashop_key,
        write_starting_config,
    )

    # Refused before the key is asked for: nobody types a secret for nothing.
    path = _config_file(ctx)
    if path.exists():
        raise ConfigError(
            f"{path} already exists: init never overwrites a configuration. "
            "Edit that file, or move it away and run init again, or write "
            "another one with `polaris-sync --config FILE init ...`"
        )
    if not prestashop_key:
        prestashop_key = click.prompt("PrestaShop Webservice key", hide_input=True)
    missing = missing_rights(prestashop_url, prestashop_key)
    write_starting_config(
        path, prestashop_url=prestashop_url, association_url=polaris_url
    )
    with State.open(load_config(path).state_dir) as state:
        store_prestashop_key(state, prestashop_key)
    click.echo(f"wrote {path}; the shop answers and the key is stored in the state")
    if missing:
        click.echo("the key lacks rights the sync needs:", err=True)
        for right in missing:
            click.echo(f"  {right}", err=True)
        click.echo("grant them in Advanced Parameters > Webservice", err=True)
        ctx.exit(2)
    click.echo("next: polaris-sync associate --licence <licence> --pin <PIN>")


@cli.command()
@click.option("--licence", required=True, help="Polaris licence, e.g. pl-p8-111-2222.")
@click.option("--pin", required=True, help="The single-use PIN Polaris showed.")
@click.option(
    "--polaris-url",
    default="",
    callback=_http_url,
    help="Overrides polaris.association_url.",
)
@click.pass_context
def associate(ctx: click.Context, licence: str, pin: str, polaris_url: str) -> None:
    """Pair with Polaris using the licence and a PIN."""
    from polaris_sync.polaris import association

    config = _config(ctx)
    granted = asyncio.run(
        association.associate(
            polaris_url or config.polaris.association_url,
            licence,
            pin,
            timeout=config.polaris.timeout_seconds,
        )
    )
    with State.open(config.state_dir) as state:
        previous = association.load_association(state)
        association.save_association(state, granted)
    if previous is not None:
        click.echo(f"replaced the association with licence {previous.licence}")
    test = " (TEST access)" if granted.test_mode else ""
    click.echo(
        f"associated with licence {granted.licence}{test}: {granted.url}, "
        f"reference store {granted.store_code}"
    )
    for pin_record in granted.pins:
        click.echo(f"pinned certificate of {pin_record.origin}: {pin_record.sha256}")
    if not granted.url.startswith("https://"):
        click.echo("warning: Polaris is reached without encryption (http)", err=True)
    click.echo(
        "next: polaris-sync pull-config, then map brands and size grids "
        "(polaris-sync mappings list)"
    )


@cli.command()
@click.pass_context
def dissociate(ctx: click.Context) -> None:
    """Forget the Polaris pairing; a new association is then possible."""
    from polaris_sync.polaris.association import forget_association

    with _state(ctx) as state:
        had_one = forget_association(state)
    click.echo("association forgotten" if had_one else "there was no association")


# -- running -------------------------------------------------------------------


@cli.command()
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the plan; change nothing. Exits 1 when items would fail.",
)
@click.option("--force", is_flag=True, help="Run every stage, due or not.")
@click.option(
    "--stage",
    "only",
    multiple=True,
    type=click.Choice(STAGE_NAMES),
    help="Run only this stage (repeatable).",
)
@click.pass_context
def run(ctx: click.Context, dry_run: bool, force: bool, only: tuple[str, ...]) -> None:
    """One scheduled cycle: every stage that is due."""
    from polaris_sync.run import RunOptions

    _run_and_report(ctx, RunOptions(dry_run=dry_run, force=force, only=only))


@cli.command()
@click.pass_context
def resync(ctx: click.Context) -> None:
    """Re-read everything from Polaris at the next run."""
    with _state(ctx) as state:
        state.request_resync("full")
    click.echo("a full resync will happen at the next run")


@cli.command("resync-product")
@click.argument("ref")
@click.pass_context
def resync_product(ctx: click.Context, ref: str) -> None:
    """Re-sync one product's properties now, not its stock or promotions.

    REF is a Polaris model number (1033: all its colours), a model:colour key
    as the log shows it (1033:NOI) or the product reference shown in the shop
    (1033-NOI).
    """
    from polaris_sync.references import resolve_or_refuse
    from polaris_sync.run import RunOptions

    with _state(ctx) as state:
        model = resolve_or_refuse(state, ref, "resync-product").model
    _run_and_report(
        ctx, RunOptions(only=("catalogue",), resync_refs=frozenset({model}))
    )


@cli.command("pull-config")
@click.pass_context
def pull_config(ctx: click.Context) -> None:
    """Download Polaris settings: stores, brands, grids, RFS, payments."""
    from polaris_sync.run import RunOptions

    _run_and_report(ctx, RunOptions(only=("config",)))


def _run_and_report(
    ctx: click.Context, options: Any, stages: dict[str, Any] | None = None
) -> None:
    from polaris_sync.progress import Progress
    from polaris_sync.run import (
        MAX_ERRORS_PRINTED,
        Terminated,
        run_cycle,
        terminate_cleanly,
    )

    try:
        with terminate_cleanly():
            report = run_cycle(
                _config(ctx), options, progress=Progress(), stages=stages
            )
    except Terminated as stop:
        click.echo(f"polaris-sync: {stop}", err=True)
        ctx.exit(stop.exit_code)
    for line in report.plan:
        click.echo(f"  {line}")
    click.echo(report.summary)
    for error in report.errors[:MAX_ERRORS_PRINTED]:
        click.echo(f"error: {error}", err=True)
    hidden = len(report.errors) - MAX_ERRORS_PRINTED
    if hidden > 0:
        click.echo(f"... and {hidden} more errors: see `polaris-sync log`", err=True)
    ctx.exit(report.exit_code)


# -- orders (G6, and the ceiling of the orders stage) ----------------------------


@cli.command("export-order")
@click.argument("order_id", type=click.IntRange(min=1))
@click.pass_context
def export_order(ctx: click.Context, order_id: int) -> None:
    """Export (or re-export) one PrestaShop order to Polaris now.

    The age and minimum-id guards do not apply; an order that is not paid,
    whose payment is not mapped or whose products are not from Polaris is
    still refused, with the reason. An order already in Polaris is not sent
    twice.
    """
    from polaris_sync.run import RunOptions
    from polaris_sync.stages import orders

    async def one_order(context: Any) -> Any:
        return await orders.export_order(context, order_id)

    _run_and_report(ctx, RunOptions(only=("orders",)), {"orders": one_order})


@cli.command("export-orders")
@click.option(
    "--confirm",
    is_flag=True,
    help="Send them even when more orders than orders.ceiling are ready.",
)
@click.pass_context
def export_orders(ctx: click.Context, confirm: bool) -> None:
    """Export every order that is ready now, as the scheduled run does."""
    from polaris_sync.run import RunOptions
    from polaris_sync.stages import orders

    async def all_orders(context: Any) -> Any:
        return await orders.export_orders(context, confirm=confirm)

    _run_and_report(ctx, RunOptions(only=("orders",)), {"orders": all_orders})


# -- products ---------------------------------------------------------------------


@cli.command()
@click.argument("ref")
@click.pass_context
def lock(ctx: click.Context, ref: str) -> None:
    """Keep a product's sheet as it is: only prices and stock change.

    REF is a Polaris model number (1033: all its colours), a model:colour key
    as the log shows it (1033:NOI) or the product reference shown in the shop
    (1033-NOI).
    """
    from polaris_sync.references import resolve_or_refuse

    with _state(ctx) as state:
        key = resolve_or_refuse(state, ref, "lock").key
        state.lock(key)
    named = key if key == ref else f"{key} ({ref})"
    click.echo(f"{named} locked: only its prices and stock will be synced")


@cli.command()
@click.argument("ref")
@click.pass_context
def unlock(ctx: click.Context, ref: str) -> None:
    """Let the sync maintain a product's sheet again (REF as for `lock`)."""
    from polaris_sync.references import resolve

    with _state(ctx) as state:
        found = resolve(state, ref)
        key = found.key if found is not None and not state.is_locked(ref) else ref
        was_locked = state.unlock(key)
    click.echo(f"{key} unlocked" if was_locked else f"{ref} was not locked")


# -- mappings ------------------------------------------------------------------------


MAPPING_REREAD = (
    "the next run reads the whole catalogue again to apply it "
    "(products already in the shop are rewritten only where this changes them)"
)


@cli.group(cls=SyncGroup)
def mappings() -> None:
    """List, set, export and import the mappings."""


NO_CHECK_HELP = (
    "Store without checking that the targets exist in the shop (when it cannot "
    "be reached); `polaris-sync mappings check` checks them later."
)


def _target_check(config: Config, state: State, no_check: bool) -> Any:
    """What checks rows against the shop before they are stored (F2, F3)."""
    from polaris_sync.errors import RemoteError
    from polaris_sync.mapping_table import TARGET_RESOURCES, missing_targets
    from polaris_sync.run import open_prestashop

    def verify(rows: list[Any]) -> None:
        if not any(row.kind in TARGET_RESOURCES and row.target_ids() for row in rows):
            return  # codes, names, ignore: nothing the shop holds
        if no_check:
            click.echo("warning: targets stored without a check in the shop", err=True)
            return
        try:
            shop = open_prestashop(config, state)
        except ConfigError as error:
            raise ConfigError(
                f"cannot check the targets: {error}; or store them with --no-check"
            ) from None

        async def check() -> list[str]:
            async with shop:
                return await missing_targets(rows, shop)

        try:
            missing = asyncio.run(check())
        except RemoteError as error:
            error.args = (
                f"cannot check the targets in the shop ({error}); store them "
                f"anyway with --no-check",
            )
            raise
        if missing:
            raise ConfigError("nothing stored: " + "; ".join(missing))

    return verify


@mappings.command("set")
@click.argument("kind", type=click.Choice(MAPPING_KINDS))
@click.argument("source")
@click.argument("target")
@click.option("--weight", help="Default weight in kg (categories only).")
@click.option("--no-check", is_flag=True, help=NO_CHECK_HELP)
@click.pass_context
def mappings_set(
    ctx: click.Context,
    kind: str,
    source: str,
    target: str,
    weight: str | None,
    no_check: bool,
) -> None:
    """Map a Polaris value (or * for all others) to a PrestaShop target or ignore.

    The target must exist in the shop: it is checked there first.
    """
    from polaris_sync.mapping_table import set_mapping

    config = _config(ctx)
    with State.open(config.state_dir) as state:
        verify = _target_check(config, state, no_check)
        before = len(state.pending_resyncs())
        row = set_mapping(state, kind, source, target, weight, verify)
        rereads = len(state.pending_resyncs()) > before
    click.echo(f"{row.kind} {row.source} -> {row.target or '(not set)'}")
    if rereads:
        click.echo(MAPPING_REREAD)


@mappings.command("list")
@click.argument("kind", type=click.Choice(MAPPING_KINDS), required=False)
@click.pass_context
def mappings_list(ctx: click.Context, kind: str | None) -> None:
    """Show the mapping rows, with values still waiting for a target."""
    with _state(ctx) as state:
        rows = state.mapping_rows(kind)
    if not rows:
        click.echo("no mapping rows yet: `polaris-sync pull-config` fills them")
        return
    for row in rows:
        weight = f"  ({row.default_weight:g} kg)" if row.default_weight else ""
        target = row.target or "(not set)"
        click.echo(f"{row.kind:<10} {row.source:<20} {row.label:<30} {target}{weight}")


@mappings.command("check")
@click.pass_context
def mappings_check(ctx: click.Context) -> None:
    """Check that every PrestaShop id used as a target exists in the shop."""
    from polaris_sync.mapping_table import missing_targets
    from polaris_sync.run import open_prestashop

    config = _config(ctx)
    with State.open(config.state_dir) as state:
        rows = state.mapping_rows()
        shop = open_prestashop(config, state)

    async def check() -> list[str]:
        async with shop:
            return await missing_targets(rows, shop)

    missing = asyncio.run(check())
    for line in missing:
        click.echo(line, err=True)
    if missing:
        ctx.exit(2)
    click.echo(f"every target of {len(rows)} mapping rows exists in the shop")


@mappings.command("export")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_context
def mappings_export(ctx: click.Context, file: Path) -> None:
    """Write every mapping row to a CSV file for a spreadsheet."""
    from polaris_sync.mapping_table import export_csv

    with _state(ctx) as state:
        rows = state.mapping_rows()
    file.write_text(export_csv(rows), encoding="utf-8")
    click.echo(f"wrote {len(rows)} rows to {file}")


@mappings.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--no-check", is_flag=True, help=NO_CHECK_HELP)
@click.pass_context
def mappings_import(ctx: click.Context, file: Path, no_check: bool) -> None:
    """Apply a CSV file of mapping rows: all of them, or none if one is wrong.

    Every target must exist in the shop: they are checked there first.
    """
    from polaris_sync.mapping_table import import_csv

    config = _config(ctx)
    with State.open(config.state_dir) as state:
        before = len(state.pending_resyncs())
        count = import_csv(state, file, _target_check(config, state, no_check))
        rereads = len(state.pending_resyncs()) > before
    click.echo(f"imported {count} rows from {file}")
    if rereads:
        click.echo(MAPPING_REREAD)


# -- looking ---------------------------------------------------------------------


@cli.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Pairing, last runs, what each stage does next, what waits for you."""
    from polaris_sync.status import status_lines

    config = _config(ctx)
    with State.open(config.state_dir) as state:
        for line in status_lines(config, state):
            click.echo(line)


@cli.command()
@click.option("--days", default=1, show_default=True, help="How many daily files.")
@click.option("--stage", help="Only this stage.")
@click.option(
    "--action",
    type=click.Choice(EVENT_ACTIONS),
    help="Only this action.",
)
@click.option(
    "--ref",
    help="Only events about this product: model number, model:colour key or "
    "shop reference.",
)
@click.pass_context
def log(
    ctx: click.Context,
    days: int,
    stage: str | None,
    action: str | None,
    ref: str | None,
) -> None:
    """Show the audit log: what was done to which item, and why."""
    from polaris_sync.references import resolve
    from polaris_sync.status import log_lines, recent_events

    config = _config(ctx)
    refs: tuple[str, ...] = ()
    if ref:
        with State.open(config.state_dir) as state:
            found = resolve(state, ref)
        refs = (ref,) if found is None else (ref, found.key)
    events = recent_events(config, days)
    shown = 0
    for line in log_lines(events, stage=stage, action=action, refs=refs):
        click.echo(line)
        shown += 1
    if not shown:
        click.echo("no audit events match", err=True)


def main() -> None:
    cli(prog_name="polaris-sync")


if __name__ == "__main__":
    main()
