"""What to send Polaris about an order, first export and corrections (G5, G8).

Polaris sales are never edited. An order already exported is corrected by
new sales:

- a credit slip becomes a refund `<version ref>-R<slip id>`: its lines and
  refunded shipping with negative quantities;
- a cancellation (the order left its valid states) cancels the whole chain
  sent for the current version (the sale and its refunds), with the same lines
  and payments negated, `RefExt` `<order ref>-A<n>` and `RefExtOrigine` the
  version's reference; nothing new follows it;
- a modification without credit slip cancels the chain the same way and sends
  the order as it is now under `<order ref>-<version>`, followed by refunds of
  the order's credit slips.

Every reference is derived from the export record and the order, so planning
again after a crash yields the same references and the journal sends each one
once. A plan also knows the record before each of its sales: when Polaris
refuses one, the record kept is what Polaris holds, and the next plan sends
the refused sale and those after it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from polaris_sync.sales.order import CreditSlip, ShopOrder, money
from polaris_sync.sales.rules import ExportRules, Refusal, Severity, check_exportable
from polaris_sync.sales.sale import (
    Payment,
    Sale,
    SaleLine,
    SaleRefused,
    SaleSettings,
    SkuFinder,
    build_sale,
    content_fingerprint,
    sale_ref,
    utc_iso,
)


@dataclass(frozen=True)
class ExportRecord:
    """What Polaris holds about one order, as the export left it."""

    order_id: int
    version: int
    fingerprint: str
    chain: tuple[Sale, ...]
    sent_slips: frozenset[int] = frozenset()
    cancellations: int = 0
    active: bool = True
    # Cancelled by a modification whose new version Polaris has not got yet
    # (it refused it): that version is still due, whatever the order is now.
    replaced: bool = False

    @property
    def version_ref(self) -> str:
        return self.chain[0].ref_ext if self.chain else ""


@dataclass(frozen=True)
class ExportPlan:
    """Sales to send in this order, and the record once they are all sent."""

    sales: tuple[tuple[str, Sale], ...] = ()
    record: ExportRecord | None = None
    refusal: Refusal | None = None
    notes: tuple[str, ...] = field(default=())
    # The record before each sale: what Polaris holds when that sale is
    # refused, since the sales before it went and the ones after it did not.
    records_before: tuple[ExportRecord | None, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.sales and self.refusal is None

    def then(self, kind: str, sale: Sale, record: ExportRecord) -> ExportPlan:
        """This plan followed by `sale`, once sent Polaris holds `record`."""
        return replace(
            self,
            sales=(*self.sales, (kind, sale)),
            record=record,
            records_before=(*self.records_before, self.record),
        )

    def record_before(self, index: int) -> ExportRecord | None:
        """What Polaris holds when the sale at `index` was refused."""
        return self.records_before[index]

    def record_after(self, index: int) -> ExportRecord:
        """What Polaris holds once the sales up to `index` went."""
        after = (*self.records_before, self.record)[index + 1]
        assert after is not None
        return after

    def record_with(self, index: int, sent: Sale) -> ExportRecord:
        """What Polaris holds when the sale at `index` went as `sent`, an
        earlier content of it, and the sales after it did not. Its version
        sent otherwise no longer matches the order: the next plan replaces it."""
        after = self.record_after(index)
        chain = tuple(sent if s.ref_ext == sent.ref_ext else s for s in after.chain)
        kind = self.sales[index][0]
        fingerprint = "" if kind == "sale" else after.fingerprint
        return replace(after, chain=chain, fingerprint=fingerprint)


def plan_export(
    order: ShopOrder,
    record: ExportRecord | None,
    rules: ExportRules,
    settings: SaleSettings,
    sku_for: SkuFinder,
    *,
    now: datetime,
    corrections: bool,
    forced: bool = False,
    client: dict[str, Any] | None = None,
) -> ExportPlan:
    """The sales that bring Polaris in line with `order`."""
    if record is not None and not record.active and not order.valid:
        return ExportPlan(record=record)
    try:
        if record is not None and record.replaced:
            return _plan_replacement(
                order, settings, sku_for, client, before=ExportPlan(record=record)
            )
        if record is None or not record.active:
            return _plan_new_version(
                order, record, rules, settings, sku_for,
                now=now, corrections=corrections, forced=forced, client=client,
            )
        if not corrections:
            return ExportPlan(record=record)
        if not order.valid:
            return _plan_cancellation(order, record, settings)
        if content_fingerprint(order) != record.fingerprint:
            return _plan_modification(order, record, settings, sku_for, client)
        return _plan_refunds(order, settings, sku_for, ExportPlan(record=record))
    except SaleRefused as refused:
        return ExportPlan(record=record, refusal=refused.refusal)


def _plan_new_version(
    order: ShopOrder,
    record: ExportRecord | None,
    rules: ExportRules,
    settings: SaleSettings,
    sku_for: SkuFinder,
    *,
    now: datetime,
    corrections: bool,
    forced: bool,
    client: dict[str, Any] | None,
) -> ExportPlan:
    """First export, or export again of an order that was cancelled in Polaris."""
    refusal = check_exportable(order, rules, now=now, forced=forced or bool(record))
    if refusal is not None:
        return ExportPlan(record=record, refusal=refusal)

    return _plan_version(
        order,
        settings,
        sku_for,
        client,
        version=record.version + 1 if record else 1,
        cancellations=record.cancellations if record else 0,
        before=ExportPlan(record=record),
        with_refunds=corrections,
    )


def _plan_modification(
    order: ShopOrder,
    record: ExportRecord,
    settings: SaleSettings,
    sku_for: SkuFinder,
    client: dict[str, Any] | None,
) -> ExportPlan:
    """Cancel what Polaris has, then send the order as it is now."""
    cancelled = _plan_cancellation(order, record, settings, replaced=True)
    return _plan_replacement(order, settings, sku_for, client, before=cancelled)


def _plan_replacement(
    order: ShopOrder,
    settings: SaleSettings,
    sku_for: SkuFinder,
    client: dict[str, Any] | None,
    *,
    before: ExportPlan,
) -> ExportPlan:
    """After the `before` sales, which cancel a version, the next version."""
    cancelled = before.record
    assert cancelled is not None
    return _plan_version(
        order,
        settings,
        sku_for,
        client,
        version=cancelled.version + 1,
        cancellations=cancelled.cancellations,
        before=before,
    )


def _plan_cancellation(
    order: ShopOrder,
    record: ExportRecord,
    settings: SaleSettings,
    *,
    replaced: bool = False,
) -> ExportPlan:
    """Cancel what Polaris has, send nothing new (the order left its valid
    states, or a modification sends its new version after)."""
    cancel = _cancellation(order, record, settings)
    done = replace(
        record,
        chain=record.chain + (cancel,),
        cancellations=record.cancellations + 1,
        sent_slips=frozenset(slip.slip_id for slip in order.slips),
        active=False,
        replaced=replaced,
    )
    return ExportPlan(record=record).then("cancellation", cancel, done)


def _plan_version(
    order: ShopOrder,
    settings: SaleSettings,
    sku_for: SkuFinder,
    client: dict[str, Any] | None,
    *,
    version: int,
    cancellations: int,
    before: ExportPlan,
    with_refunds: bool = True,
) -> ExportPlan:
    """After the `before` sales, the order as it is now under `version`, then
    (`with_refunds`) the refunds of its credit slips."""
    sale = build_sale(order, settings, sku_for, version=version, client=client)
    fresh = ExportRecord(
        order_id=order.order_id,
        version=version,
        fingerprint=content_fingerprint(order),
        chain=(sale,),
        cancellations=cancellations,
    )
    plan = before.then("sale", sale, fresh)
    if not with_refunds:
        return plan

    return _plan_refunds(order, settings, sku_for, plan)


def _plan_refunds(
    order: ShopOrder, settings: SaleSettings, sku_for: SkuFinder, plan: ExportPlan
) -> ExportPlan:
    """After the plan's sales, refunds of the credit slips not sent yet."""
    record = plan.record
    assert record is not None
    for slip in order.slips:
        if slip.slip_id in record.sent_slips:
            continue
        refund = refund_of(order, slip, record, settings, sku_for)
        if refund is None:
            continue
        record = replace(
            record,
            chain=record.chain + (refund,),
            sent_slips=record.sent_slips | {slip.slip_id},
        )
        plan = plan.then("refund", refund, record)

    # A slip that refunds nothing is done too.
    done = replace(record, sent_slips=frozenset(slip.slip_id for slip in order.slips))
    return replace(plan, record=done)


def _cancellation(
    order: ShopOrder, record: ExportRecord, settings: SaleSettings
) -> Sale:
    """The cancellation of the record's chain, dated when the order changed."""
    return cancellation_of(
        record,
        base_ref=sale_ref(order, settings),
        date=utc_iso(order.date_upd, settings.shop_timezone),
    )


def cancellation_of(record: ExportRecord, *, base_ref: str, date: str) -> Sale:
    """The sale that cancels every sale sent for the record's current version."""
    first = record.chain[0]
    lines = tuple(line.negated() for sale in record.chain for line in sale.lines)
    payments = tuple(
        Payment(payment.code, -payment.amount)
        for sale in record.chain
        for payment in sale.payments
    )
    return Sale(
        ref_ext=f"{base_ref}-A{record.cancellations + 1}",
        date=date,
        store_code=first.store_code,
        lines=lines,
        payments=payments,
        memo=f"Cancellation of {first.ref_ext}",
        client=first.client,
        ref_ext_origin=first.ref_ext,
        sale_type=first.sale_type,
    )


def record_without(
    record: ExportRecord, missing: frozenset[int]
) -> ExportRecord | None:
    """The record as Polaris holds it when the chain's sales at the `missing`
    places never reached it (see `can_do_without`)."""
    if 0 in missing:
        if record.version == 1:
            return None
        # The version before was cancelled to make way for this one.
        return replace(
            record,
            version=record.version - 1,
            chain=(),
            sent_slips=frozenset(),
            active=False,
            replaced=True,
        )

    # After the version's sale come its refunds, then maybe its cancellation.
    kept = tuple(sale for at, sale in enumerate(record.chain) if at not in missing)
    cancelled = not record.active and len(record.chain) - 1 not in missing
    return replace(
        record,
        chain=kept,
        sent_slips=frozenset(
            refunded_slip(sale) for sale in kept[1:] if is_refund(sale, record)
        ),
        cancellations=record.cancellations - (0 if record.active or cancelled else 1),
        active=not cancelled,
    )


def record_joined(
    record: ExportRecord, sent: Sale, order: ShopOrder
) -> ExportRecord | None:
    """The record once Polaris got `sent` after its chain, when `sent` is a
    refund or the cancellation of its version; None for any other sale."""
    if not record.active:
        return None
    if is_refund(sent, record):
        return replace(
            record,
            chain=(*record.chain, sent),
            sent_slips=record.sent_slips | {refunded_slip(sent)},
        )
    # Refunds aside, only the cancellation of the version refers to it.
    if sent.ref_ext_origin != record.version_ref:
        return None
    # Valid again since, the order is due as a new version whatever it is now,
    # as after a modification.
    return replace(
        record,
        chain=(*record.chain, sent),
        cancellations=record.cancellations + 1,
        sent_slips=frozenset(slip.slip_id for slip in order.slips),
        active=False,
        replaced=order.valid,
    )


def can_do_without(record: ExportRecord, missing: frozenset[int]) -> bool:
    """Whether a record can leave out the sales at the `missing` places: not
    when a sale Polaris got relies on one of them (the version's refunds on
    the version, a cancellation on every sale it negates)."""
    if not missing:
        return False
    last = len(record.chain) - 1
    if 0 in missing:
        return set(range(last + 1)) <= missing
    cancelled = not record.active and last not in missing
    return not cancelled


def is_refund(sale: Sale, record: ExportRecord) -> bool:
    return sale.ref_ext.startswith(f"{record.version_ref}-R")


def refunded_slip(refund: Sale) -> int:
    """The credit slip a refund sale was made from (see `refund_of`)."""
    return int(refund.ref_ext.rsplit("-R", 1)[1])


def refund_of(
    order: ShopOrder,
    slip: CreditSlip,
    record: ExportRecord,
    settings: SaleSettings,
    sku_for: SkuFinder,
) -> Sale | None:
    """The refund sale of a credit slip; None when the slip refunds nothing."""
    lines = [
        _refund_line(order, slip_line.detail_id, slip_line.quantity,
                     slip_line.amount_tax_incl, sku_for)
        for slip_line in slip.lines
        if slip_line.quantity or slip_line.amount_tax_incl
    ]
    if slip.shipping_tax_incl:
        lines.append(SaleLine(settings.shipping_reference, -1, slip.shipping_tax_incl))
    if not lines:
        return None

    version_sale = record.chain[0]
    total = sum((line.total for line in lines), Decimal("0.00"))
    return Sale(
        ref_ext=f"{version_sale.ref_ext}-R{slip.slip_id}",
        date=utc_iso(slip.date_add or order.date_upd, settings.shop_timezone),
        store_code=version_sale.store_code,
        lines=tuple(lines),
        payments=(Payment(version_sale.payments[0].code, total),),
        memo=f"Refund (credit slip {slip.slip_id}) of {version_sale.ref_ext}",
        client=version_sale.client,
        ref_ext_origin=version_sale.ref_ext,
        sale_type=version_sale.sale_type,
    )


def _refund_line(
    order: ShopOrder, detail_id: int, quantity: int, amount: Decimal, sku_for: SkuFinder
) -> SaleLine:
    """A refunded line worth exactly `-amount`, at the unit price it was sold."""
    line = next((line for line in order.lines if line.detail_id == detail_id), None)
    sku = sku_for(line) if line is not None else None
    if line is None or not sku:
        raise SaleRefused(
            Refusal(
                "slip_line_unknown",
                f"order {order.order_id}: a credit slip refunds order line "
                f"{detail_id}, which has no Polaris reference",
                Severity.ERROR,
            )
        )
    unit_price = line.unit_price_tax_incl + line.unit_reduction_tax_incl
    discount = money(amount) - quantity * unit_price
    return SaleLine(sku, -quantity, unit_price, discount)
