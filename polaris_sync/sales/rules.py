"""Whether an order may be exported to Polaris, and if not, why (G3, G4, F9).

A refusal is either a *skip* (the order is left as it is in the shop: not
paid yet, too old, below the minimum id...) or an *error* (the order should go
to Polaris but cannot as it stands: its payment is not mapped, a product is
not linked to Polaris...). Errors put the order in the "Polaris export error"
state so the merchant sees it in the back office.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from polaris_sync.sales.order import ShopOrder, shop_datetime

# The payment mapping row that stands for "every other payment module" (F9).
CATCH_ALL = "*"
# A payment mapped to this target is never exported (F5).
IGNORE = "ignore"


class Severity(StrEnum):
    SKIP = "skip"
    ERROR = "error"


@dataclass(frozen=True)
class Refusal:
    """Why an order is not exported: a stable code and words for the merchant."""

    code: str
    reason: str
    severity: Severity = Severity.SKIP


@dataclass(frozen=True)
class ExportRules:
    """The merchant's order export options, as the pure core needs them."""

    max_age_days: int = 90
    min_order_id: int = 0
    payment_codes: Mapping[str, str] = field(default_factory=dict)


def payment_code(module: str, payment_codes: Mapping[str, str]) -> str | None:
    """The Polaris payment code of a PrestaShop payment module (F9).

    An explicit row wins, else the catch-all `*`; None when neither exists.
    """
    if module in payment_codes:
        return payment_codes[module]
    return payment_codes.get(CATCH_ALL)


def check_exportable(
    order: ShopOrder,
    rules: ExportRules,
    *,
    now: datetime,
    forced: bool = False,
) -> Refusal | None:
    """None when the order may be exported, else the first reason it may not.

    `now` is the shop's local time, like the order dates. `forced` is a
    merchant asking for this order by hand (G6): the automatic guards on age
    and minimum id are lifted, nothing else is.
    """
    if not forced:
        guard = _guard_refusal(order, rules, now)
        if guard is not None:
            return guard

    if not order.valid:
        return Refusal(
            "not_valid",
            f"order {order.order_id} is not in a valid (paid) state "
            f"(state {order.current_state})",
        )
    if order.total_paid_real != order.total_paid_tax_incl:
        return Refusal(
            "paid_differs",
            f"order {order.order_id}: amount paid {order.total_paid_real} differs "
            f"from its total {order.total_paid_tax_incl}",
        )
    if order.conversion_rate != 1:
        return Refusal(
            "other_currency",
            f"order {order.order_id} was paid in another currency than the "
            f"shop's (conversion rate {order.conversion_rate}); Polaris records "
            f"the shop's currency only",
            Severity.ERROR,
        )
    if order.quantity_left_to_ship() <= 0:
        return Refusal(
            "nothing_to_ship",
            f"order {order.order_id} has nothing left to ship (everything refunded)",
        )
    return _payment_refusal(order, rules)


def _guard_refusal(
    order: ShopOrder, rules: ExportRules, now: datetime
) -> Refusal | None:
    if order.order_id < rules.min_order_id:
        return Refusal(
            "below_min_id",
            f"order {order.order_id} is below the minimum order id "
            f"{rules.min_order_id}",
        )
    age = now - shop_datetime(order.date_add)
    if rules.max_age_days and age > timedelta(days=rules.max_age_days):
        return Refusal(
            "too_old",
            f"order {order.order_id} was placed on {order.date_add}, more than "
            f"{rules.max_age_days} days ago",
        )
    return None


def _payment_refusal(order: ShopOrder, rules: ExportRules) -> Refusal | None:
    code = payment_code(order.module, rules.payment_codes)
    if code is None:
        return Refusal(
            "payment_not_mapped",
            f"order {order.order_id}: payment module '{order.module}' has no Polaris "
            f"payment code and there is no catch-all '*' row",
            Severity.ERROR,
        )
    if code == IGNORE:
        return Refusal(
            "payment_ignored",
            f"order {order.order_id}: payment module '{order.module}' is mapped to "
            f"'ignore'",
        )
    return None
