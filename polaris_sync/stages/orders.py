"""Stage `orders`: send the shop's orders to Polaris, each sale once (G3-G11).

Fetch: orders new or changed since the last run, with what their sales are
built from (`order_reads`). Plan: for each, the pure core decides whether it
is exported and builds its sale, or the corrections since its export
(`polaris_sync.sales`). Apply: every sale goes through the journal, then the
order gets the state "Exported to Polaris"; an order that cannot go gets
"Polaris export error" and the reason in the audit, and is looked at again
when its state changes (or by `export-order`).

When more new orders than the ceiling are due at once, none is sent: a guard
set wrong (or a new shop plugged in) would otherwise flood Polaris with fiscal
records. `export-orders --confirm` lifts it for one run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from polaris_sync.errors import ConfigError, ItemRejected
from polaris_sync.journal import EntryStatus, Journal
from polaris_sync.polaris.association import load_association
from polaris_sync.sales.corrections import (
    ExportPlan,
    ExportRecord,
    can_do_without,
    plan_export,
    record_joined,
    record_without,
)
from polaris_sync.sales.customers import CustomerRules, is_marketplace_customer
from polaris_sync.sales.order import (
    OrderLine,
    ShopOrder,
    money,
    order_from_json,
    shop_datetime,
)
from polaris_sync.sales.rules import ExportRules, Severity
from polaris_sync.sales.sale import (
    Sale,
    SaleRefused,
    SaleSettings,
    build_sale,
    client_of,
    content_fingerprint,
    sale_from_payload,
    sale_ref,
)
from polaris_sync.stages.base import StageContext, StageResult
from polaris_sync.stages.order_reads import (
    PAGE_SIZE,
    Entity,
    changed_since,
    complete_orders,
    orders_above_id,
    orders_by_id,
    window_start,
)
from polaris_sync.stages.order_states import OrderStates, Purpose

# The catalogue's links: an order line is a Polaris item only when linked.
from polaris_sync.stages.shop import COMBINATION as COMBINATION_LINKS
from polaris_sync.stages.shop import PRODUCT as PRODUCT_LINKS

STAGE = "orders"
UNCONFIRMED = "~"
SETTLED_AFTER = timedelta(minutes=10)
DATE_CURSOR = "orders.date_upd"
ID_CURSOR = "orders.last_id"


async def run(ctx: StageContext) -> StageResult:
    """The scheduled stage."""
    return await export_orders(ctx)


async def export_orders(ctx: StageContext, *, confirm: bool = False) -> StageResult:
    """Export new and changed orders; `confirm` lifts the ceiling for this run."""
    exporter = await OrderExporter.start(ctx)
    entries = await exporter.changed_entries()
    orders = await exporter.complete(
        [entry for entry in entries if exporter.needs_look(entry)]
    )
    for order in orders:
        await exporter.recover_interrupted(order)
    plans = [(order, exporter.plan(order)) for order in orders]

    new = [order for order, plan in plans if exporter.is_first_export(order, plan)]
    ceiling = ctx.config.orders.ceiling
    if len(new) > ceiling and not confirm:
        exporter.hold(new, ceiling)
        return exporter.result

    ctx.progress.start(STAGE, len(plans))
    for order, plan in plans:
        if ctx.out_of_time():
            exporter.result.complete = False
            break
        await exporter.apply(order, plan)
        ctx.progress.advance()
    ctx.progress.finish()

    if exporter.result.complete and not ctx.dry_run:
        exporter.advance_cursors(entries)
    return exporter.result


async def export_order(ctx: StageContext, order_id: int) -> StageResult:
    """Export (or export again) one order now, whatever the guards (G6)."""
    exporter = await OrderExporter.start(ctx)
    entries = await orders_by_id(ctx.prestashop, [order_id])
    if not entries:
        raise ConfigError(f"order {order_id} does not exist in the shop")
    [order] = await exporter.complete(entries)
    await exporter.recover_interrupted(order)
    plan = exporter.plan(order, forced=True)
    export = exporter.journal.order_export(order_id)
    # An order in error with nothing more to send still leaves the error.
    if plan.is_empty and not (export and export.status == "error"):
        sent = export.record.version_ref if export and export.record else ""
        ctx.audit.event(
            "unchanged", stage=STAGE, what="order", prestashop_id=order_id,
            reason=f"order {order_id} is already in Polaris as sale {sent}",
        )
        exporter.result.count("unchanged", what="order")
        return exporter.result
    await exporter.apply(order, plan)
    return exporter.result


class OrderExporter:
    """One run of the order export: options, reads, plans and their application."""

    def __init__(self, ctx: StageContext, states: OrderStates) -> None:
        self.ctx = ctx
        self.states = states
        self.options = ctx.config.orders
        self.journal = Journal(ctx.state)
        self.result = StageResult(STAGE)
        self.now = datetime.now(ZoneInfo(self.options.shop_timezone)).replace(
            tzinfo=None
        )
        payment_codes = {
            row.source: row.target
            for row in ctx.state.mapping_rows("payment")
            if row.target
        }
        self.rules = ExportRules(
            max_age_days=self.options.max_age_days,
            min_order_id=self.options.min_order_id,
            payment_codes=payment_codes,
        )
        self.settings = SaleSettings(
            store_code=self.options.store_code or _associated_store(ctx),
            payment_codes=payment_codes,
            shipping_reference=self.options.shipping_reference,
            wrapping_reference=self.options.wrapping_reference,
            voucher_reference=self.options.voucher_reference,
            ref_prefix=self.options.sale_ref_prefix,
            customer_ref_prefix=ctx.config.customers.ref_prefix,
            shop_timezone=self.options.shop_timezone,
        )
        self.customer_rules = CustomerRules(
            marketplace_domains=ctx.config.customers.marketplace_domains
        )
        # What decides whether and how an order goes, besides the order itself.
        self.settings_key = _settings_key(
            self.rules, self.settings, self.customer_rules,
            self.options.export_corrections, ctx.config.customers.export,
        )
        self.newest = ""
        self._combinations = set(ctx.state.links(COMBINATION_LINKS).values())
        self._products = set(ctx.state.links(PRODUCT_LINKS).values())

    @classmethod
    async def start(cls, ctx: StageContext) -> OrderExporter:
        states = OrderStates(ctx.prestashop)
        await states.load()
        exporter = cls(ctx, states)
        exporter.reopen_refused()
        return exporter

    def reopen_refused(self) -> None:
        """Orders an earlier version marked exported though Polaris refused one
        of their sales go back in error, holding what Polaris really has. With
        settings no run has, they are looked at again at once."""
        for export, missing in self.journal.refused_yet_recorded():
            record = export.record
            if record is None or not can_do_without(record, missing):
                continue
            refs = ", ".join(record.chain[index].ref_ext for index in sorted(missing))
            self.journal.set_order_export(
                export.order_id,
                status="error",
                reason=f"Polaris lacks the sales {refs} (it refused one of them): "
                f"they are sent again at the next run",
                record=record_without(record, missing),
                seen=export.seen,
                current_state=export.current_state,
            )

    # -- fetch ----------------------------------------------------------------

    async def changed_entries(self) -> list[Entity]:
        """Orders changed since the last run, and orders above the last id seen."""
        since = window_start(
            self.ctx.state.cursor(DATE_CURSOR),
            now=self.now,
            max_age_days=self.options.max_age_days,
        )
        entries: dict[int, Entity] = {}
        self.newest = ""
        async for page in changed_since(self.ctx.prestashop, "orders", since):
            entries.update((int(entry["id"]), entry) for entry in page)
        last_id = self.ctx.state.cursor(ID_CURSOR)
        if last_id is not None:
            async for page in orders_above_id(self.ctx.prestashop, int(last_id)):
                entries.update((int(entry["id"]), entry) for entry in page)
        self.newest = max((str(e["date_upd"]) for e in entries.values()), default="")
        await self._add_errors_to_retry(entries)
        return sorted(entries.values(), key=lambda entry: int(entry["id"]))

    async def _add_errors_to_retry(self, entries: dict[int, Entity]) -> None:
        """Orders in error are looked at again once the settings that decided
        their error changed, though the orders themselves did not."""
        retry = self.journal.errors_decided_otherwise(self.settings_key)
        missing = [order_id for order_id in retry if order_id not in entries]
        for entry in await orders_by_id(self.ctx.prestashop, missing):
            entries[int(entry["id"])] = entry

    def needs_look(self, entry: Entity) -> bool:
        """False for an order seen as it is now; an order in error waits for a
        change of its state or of the settings that decided the error."""
        export = self.journal.order_export(int(entry["id"]))
        if export is None:
            return True
        if export.status == "error":
            state_changed = int(entry.get("current_state") or 0) != export.current_state
            return state_changed or export.settings != self.settings_key
        return export.seen != signature(order_from_json(entry))

    def seen(self, order: ShopOrder) -> str:
        """What to remember of the order; unconfirmed when it changed in the
        newest second read, lately: another change in that same second would
        leave `date_upd` as it is, so the next run looks again. Once that
        second is long past (a margin for the shop's clock), it is settled."""
        seen = signature(order)
        recent = self.now - shop_datetime(order.date_upd) < SETTLED_AFTER
        if order.date_upd >= self.newest and recent:
            return UNCONFIRMED + seen
        return seen

    async def complete(self, entries: list[Entity]) -> list[ShopOrder]:
        orders: list[ShopOrder] = []
        for start in range(0, len(entries), PAGE_SIZE):
            orders += await complete_orders(
                self.ctx.prestashop,
                entries[start : start + PAGE_SIZE],
                with_customers=self.ctx.config.customers.export,
            )
        return [await self._split_payment(order) for order in orders]

    async def _split_payment(self, order: ShopOrder) -> ShopOrder:
        """An order of a split cart, paid as a whole, counts as paid.

        A cart shipped by several carriers becomes several orders under one
        reference, with one payment for all of them: the amount paid may sit
        on one order only. When the orders of the reference are paid in full
        together, each is.
        """
        if order.total_paid_real == order.total_paid_tax_incl or not order.reference:
            return order
        siblings = await self.ctx.prestashop.list(
            "orders",
            filters={"reference": f"[{order.reference}]"},
            display="[id,reference,total_paid_tax_incl,total_paid_real]",
        )
        siblings = [row for row in siblings if row.get("reference") == order.reference]
        if len(siblings) < 2:
            return order
        due = sum(money(row.get("total_paid_tax_incl")) for row in siblings)
        paid = sum(money(row.get("total_paid_real")) for row in siblings)
        if due != paid:
            return order
        return replace(order, total_paid_real=order.total_paid_tax_incl)

    # -- plan -----------------------------------------------------------------

    def plan(self, order: ShopOrder, *, forced: bool = False) -> ExportPlan:
        if order.module and not self.ctx.dry_run:
            # F7: a payment module met for the first time gets a row to map.
            self.ctx.state.note_mapping_value("payment", order.module, order.payment)
        export = self.journal.order_export(order.order_id)
        return plan_export(
            order,
            export.record if export else None,
            self.rules,
            self.settings,
            self.sku_for,
            now=self.now,
            corrections=self.options.export_corrections,
            forced=forced,
            client=self.client_for(order),
        )

    async def recover_interrupted(self, order: ShopOrder) -> None:
        """Sales Polaris got from a run that lost the answer (or died before
        keeping the record) join the order's record, as Polaris has them: the
        order may have changed since, and is corrected from what Polaris
        really holds (a first sale is not taken as new, and skipped as no
        longer paid in full, say; a cancellation negates the refund too)."""
        export = self.journal.order_export(order.order_id)
        before = export.record if export else None
        record = await self._with_interrupted_version(order, before)
        if record is not None:
            record = await self._with_interrupted_sales(order, record)
        if record == before or record is None:
            return

        same_version = before is not None and record.version == before.version
        if export is not None and same_version:
            status, reason = export.status, export.reason
        else:
            status = "error"
            reason = (
                f"order {order.order_id}: Polaris got the sale {record.version_ref}"
                f" from a run that stopped; the order is compared with it"
            )
        self.journal.set_order_export(
            order.order_id, status=status, reason=reason, record=record,
            seen=self.seen(order), current_state=order.current_state,
            settings=export.settings if export else "",
        )

    async def _with_interrupted_version(
        self, order: ShopOrder, record: ExportRecord | None
    ) -> ExportRecord | None:
        """The record of the next version when Polaris got its sale though
        the record lacks it. Its fingerprint is the order's when the order
        gives that sale now; else none, and the order is corrected."""
        if record is not None and record.active:
            return record
        version = record.version + 1 if record else 1
        sent = await self._sent_in_polaris(sale_ref(order, self.settings, version))
        if sent is None:
            return record
        as_now = self._fingerprint_if_sent(order, version)
        return ExportRecord(
            order.order_id, version, as_now, (sent,),
            cancellations=record.cancellations if record else 0,
        )

    def _fingerprint_if_sent(self, order: ShopOrder, version: int) -> str:
        """The order's fingerprint when the version's sale Polaris got is the
        one the order gives now; else ""."""
        try:
            now = build_sale(order, self.settings, self.sku_for, version=version,
                             client=self.client_for(order))
        except SaleRefused:
            return ""
        if self.journal.sent_instead(now.to_payload()) is not None:
            return ""
        return content_fingerprint(order)

    async def _with_interrupted_sales(
        self, order: ShopOrder, record: ExportRecord
    ) -> ExportRecord:
        """The record with the refunds and the cancellation of its version
        Polaris got though the record lacks them."""
        kept = {sale.ref_ext for sale in record.chain}
        for entry in self.journal.entries(record.order_id):
            sale = sale_from_payload(entry.payload)
            if entry.ref_ext in kept or record_joined(record, sale, order) is None:
                continue
            sent = await self._sent_in_polaris(entry.ref_ext)
            if sent is not None:
                record = record_joined(record, sent, order) or record
        return record

    async def _sent_in_polaris(self, ref_ext: str) -> Sale | None:
        """The sale the journal sent under `ref_ext`, once Polaris was asked
        about one of unknown outcome; None when Polaris lacks it."""
        try:
            await self.journal.found_pending(self.ctx.polaris, ref_ext)
        except ItemRejected:
            return None  # another sale under our reference: the send says so
        entry = self.journal.entry(ref_ext)
        if entry is None or entry.status is not EntryStatus.SENT:
            return None
        return sale_from_payload(entry.payload)

    def sku_for(self, line: OrderLine) -> str | None:
        """The Polaris reference of an ordered item; None when not from Polaris."""
        if line.combination_id:
            linked = line.combination_id in self._combinations
        else:
            linked = line.product_id in self._products
        if not linked:
            return None
        return line.ean13 or line.reference or None

    def client_for(self, order: ShopOrder) -> dict[str, Any] | None:
        """The sale's customer, only when the merchant exports customers (G1)."""
        customer = order.customer
        if not self.ctx.config.customers.export or customer is None:
            return None
        if is_marketplace_customer(customer, self.customer_rules):
            return None
        return client_of(customer, order.invoice_address, self.settings)

    def is_first_export(self, order: ShopOrder, plan: ExportPlan) -> bool:
        export = self.journal.order_export(order.order_id)
        first = export is None or export.record is None
        return first and any(kind == "sale" for kind, _ in plan.sales)

    def hold(self, new: list[ShopOrder], ceiling: int) -> None:
        none_sent = "none would be sent" if self.ctx.dry_run else "none was sent"
        message = (
            f"{len(new)} orders are ready to go to Polaris, more than the ceiling "
            f"of {ceiling}: {none_sent}. Check the guards (max_age_days, "
            f"min_order_id), then run `polaris-sync export-orders --confirm`"
        )
        for order in new:
            self.ctx.audit.event(
                "skipped", stage=STAGE, what="order", prestashop_id=order.order_id,
                reason=message,
            )
        self.result.count("skipped", len(new), what="order")
        if self.ctx.dry_run:
            self.result.foresee_failure(message, what="order")
        else:
            self.result.fail(message, what="order")

    # -- apply ----------------------------------------------------------------

    async def apply(self, order: ShopOrder, plan: ExportPlan) -> None:
        if plan.refusal is not None:
            if plan.refusal.severity is Severity.ERROR:
                await self._failed(order, plan.record, plan.refusal.reason)
            else:
                self._skipped(order, plan, plan.refusal.reason)
            return
        if not plan.sales:
            await self._unchanged(order, plan)
            return
        if self.ctx.dry_run:
            self._planned(order, plan)
            return
        await self._send(order, plan)

    async def _send(self, order: ShopOrder, plan: ExportPlan) -> None:
        for index, (kind, sale) in enumerate(plan.sales):
            try:
                delivery = await self.journal.deliver(
                    self.ctx.polaris,
                    order_id=order.order_id,
                    kind=kind,
                    payload=sale.to_payload(),
                )
            except ItemRejected as rejected:
                reason = f"Polaris refused the {kind} {sale.ref_ext}: {rejected}"
                # Kept as Polaris has it, without the refused sale, so that the
                # next look sends that sale again.
                await self._failed(order, plan.record_before(index), reason)
                return
            sent = self.journal.sent_instead(sale.to_payload())
            if sent is not None:
                await self._sent_earlier(order, plan, index, sale_from_payload(sent))
                return
            self.ctx.audit.event(
                "created", stage=STAGE, what="order", prestashop_id=order.order_id,
                polaris_key=sale.ref_ext, kind=kind, total=str(sale.total),
                reason=f"{kind} {sale.ref_ext} of order {order.order_id}: {delivery}",
            )
            self._sent_so_far(order, plan, index)

        assert plan.record is not None
        state = order.current_state
        sent_sale = any(kind == "sale" for kind, _ in plan.sales)
        if plan.record.active and (
            sent_sale or self.states.is_ours(state, Purpose.ERROR)
        ):
            state = await self._move(order, Purpose.EXPORTED)
        self.journal.set_order_export(
            order.order_id,
            status="exported" if plan.record.active else "cancelled",
            record=plan.record,
            seen=self.seen(order),
            current_state=state,
        )
        self.result.count("created" if sent_sale else "updated", what="order")

    def _sent_so_far(self, order: ShopOrder, plan: ExportPlan, index: int) -> None:
        """Record what Polaris holds after each sale, in error until the order
        is done: a run that dies before (setting the order's state, say) leaves
        a record the next run plans from, and looks at again."""
        ref = plan.sales[index][1].ref_ext
        self.journal.set_order_export(
            order.order_id,
            status="error",
            reason=f"order {order.order_id}: a run stopped after sending {ref}; "
            f"what follows it is sent at the next run",
            record=plan.record_after(index),
            seen=self.seen(order),
            current_state=order.current_state,
        )

    async def _sent_earlier(
        self, order: ShopOrder, plan: ExportPlan, index: int, sent: Sale
    ) -> None:
        """Polaris holds the sale at `index` as an interrupted run sent it,
        before the order changed: record that, then plan again from there (a
        version sent otherwise is cancelled and sent as the order is now)."""
        kind = plan.sales[index][0]
        self.ctx.audit.event(
            "created", stage=STAGE, what="order", prestashop_id=order.order_id,
            polaris_key=sent.ref_ext, kind=kind, total=str(sent.total),
            reason=f"{kind} {sent.ref_ext} of order {order.order_id}: Polaris got "
            f"it as an interrupted run sent it, before the order changed",
        )
        # In error until the plan from there went: a crash now retries it.
        self.journal.set_order_export(
            order.order_id,
            status="error",
            reason=f"order {order.order_id}: {kind} {sent.ref_ext} was sent before "
            f"the order changed; what follows it is sent at the next run",
            record=plan.record_with(index, sent),
            seen=self.seen(order),
            current_state=order.current_state,
        )
        await self.apply(order, self.plan(order))

    async def _failed(
        self, order: ShopOrder, record: ExportRecord | None, reason: str
    ) -> None:
        """Put the order in error, keeping `record`: what Polaris holds of it."""
        reason += (
            "; fix it and the next run tries again (it does once the configuration,"
            f" a mapping or the order's state changes), or run `polaris-sync"
            f" export-order {order.order_id}`"
        )
        self._fail(order, reason)
        if self.ctx.dry_run:
            return
        state = order.current_state
        if order.valid:
            state = await self._move(order, Purpose.ERROR)
        self.journal.set_order_export(
            order.order_id,
            status="error",
            reason=reason,
            record=record,
            seen=self.seen(order),
            current_state=state,
            settings=self.settings_key,
        )

    async def _move(self, order: ShopOrder, purpose: Purpose) -> int:
        """Put the order in our state; a refusal is audited, never fatal: what
        Polaris received must be recorded whatever the shop answers."""
        try:
            return await self.states.move(
                order.order_id, purpose, order.current_state
            )
        except ItemRejected as rejected:
            reason = (
                f"order {order.order_id}: the shop refused the state "
                f"'{purpose}' ({rejected})"
            )
            self._fail(order, reason)
            return order.current_state

    def _fail(self, order: ShopOrder, reason: str) -> None:
        if self.ctx.dry_run:
            self._foresee_failure(order.order_id, reason)
            return
        self.ctx.audit.event(
            "failed", stage=STAGE, what="order", prestashop_id=order.order_id,
            reason=reason,
        )
        self.result.fail(reason, what="order")

    def _foresee_failure(self, order_id: int, reason: str) -> None:
        """A dry run sends nothing: it says what the real run would fail on."""
        self.ctx.audit.event(
            "planned", stage=STAGE, what="order", prestashop_id=order_id,
            reason=f"would fail: {reason}",
        )
        self.result.foresee_failure(reason, what="order")

    def _skipped(self, order: ShopOrder, plan: ExportPlan, reason: str) -> None:
        before = self.journal.order_export(order.order_id)
        if before is None or (before.status, before.reason) != ("skipped", reason):
            self.ctx.audit.event(
                "skipped", stage=STAGE, what="order", prestashop_id=order.order_id,
                reason=reason,
            )
        self.result.count("skipped", what="order")
        self._remember(order, plan, "skipped", reason)

    async def _unchanged(self, order: ShopOrder, plan: ExportPlan) -> None:
        self.ctx.audit.event(
            "unchanged", stage=STAGE, what="order", prestashop_id=order.order_id,
            reason=f"order {order.order_id}: Polaris is up to date",
        )
        self.result.count("unchanged", what="order")
        status = "cancelled" if plan.record and not plan.record.active else "exported"
        state = order.current_state
        if status == "exported" and plan.record and not self.ctx.dry_run:
            # In error until now, with nothing more due (say the corrections
            # were turned off after a refused refund, or a run stopped before
            # setting the state): it is exported, unless the merchant has
            # put it in a state of their own since.
            before = self.journal.order_export(order.order_id)
            stopped = before is not None and before.status == "error" and (
                before.current_state == state
            )
            if stopped or self.states.is_ours(state, Purpose.ERROR):
                state = await self._move(order, Purpose.EXPORTED)
        self._remember(order, plan, status if plan.record else "skipped", "", state)

    def _remember(
        self,
        order: ShopOrder,
        plan: ExportPlan,
        status: str,
        reason: str,
        state: int | None = None,
    ) -> None:
        if self.ctx.dry_run:
            return
        self.journal.set_order_export(
            order.order_id,
            status=status,
            reason=reason,
            record=plan.record,
            seen=self.seen(order),
            current_state=order.current_state if state is None else state,
        )

    def _planned(self, order: ShopOrder, plan: ExportPlan) -> None:
        for kind, sale in plan.sales:
            self.ctx.audit.event(
                "planned", stage=STAGE, what="order", prestashop_id=order.order_id,
                polaris_key=sale.ref_ext, kind=kind, total=str(sale.total),
                reason=f"would send the {kind} {sale.ref_ext} of order "
                f"{order.order_id}",
            )
        self.result.count("planned", what="order")

    def advance_cursors(self, entries: list[Entity]) -> None:
        if not entries:
            return
        newest = max(str(entry["date_upd"]) for entry in entries)
        highest = max(int(entry["id"]) for entry in entries)
        previous = int(self.ctx.state.cursor(ID_CURSOR) or 0)
        with self.ctx.state.transaction():
            self.ctx.state.set_cursor(DATE_CURSOR, newest)
            self.ctx.state.set_cursor(ID_CURSOR, str(max(highest, previous)))


def signature(order: ShopOrder) -> str:
    """The order fields that change with anything the export cares about.

    `date_upd` alone is not enough: it counts whole seconds, and a payment or
    a state change can land in the second the order was read.
    """
    return "|".join(
        str(value)
        for value in (
            order.date_upd,
            order.current_state,
            int(order.valid),
            order.total_paid_real,
            order.total_paid_tax_incl,
        )
    )


def _settings_key(*settings: Any) -> str:
    """A digest of the export settings: equal digests, same decisions."""
    plain = [asdict(part) if hasattr(part, "__dataclass_fields__") else part
             for part in settings]
    text = json.dumps(plain, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _associated_store(ctx: StageContext) -> int:
    association = load_association(ctx.state)
    if association is None or not association.store_code:
        raise ConfigError(
            "no Polaris store for the web sales: set orders.store_code, or "
            "associate again so that Polaris gives its reference store"
        )
    return association.store_code
