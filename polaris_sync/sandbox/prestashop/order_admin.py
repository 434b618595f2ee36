"""Sandbox admin API for orders: what a shop's customers and staff would do.

A real PrestaShop cannot place orders reliably through its webservice, so the
tests and the demo place and change them here. JSON in and out, no API key,
under ``/_sandbox/`` of the emulator (which listens on loopback). Everything
these routes create reads back through ``/api/orders``, ``order_details``,
``order_payments``, ``order_slip``, ``order_histories``, ``order_cart_rules``,
``order_invoices``, ``customers`` and ``addresses`` as the real shop shows it.
Amounts are decimal strings (``"47.40"``); ids are integers.

``POST /_sandbox/orders`` places an order through a new cart::

    {"customer": 3,                         # an existing customer, or
     "guest": {"email": "...", "firstname": "...", "lastname": "..."},
     "address": 5,                          # or {"address1": ..., "city": ...,
                                            #     "postcode": ..., "id_country": 8};
                                            # default: the customer's last address
     "lines": [{"product": 1, "combination": 2, "quantity": 2}],
                                            # a combination must be the product's
     "carrier": 2,                          # default 2 "My carrier"; a line
                                            # may name its own "carrier"
     "payment_module": "ps_checkpayment",   # or ps_wirepayment, ps_cashondelivery
     "payment": "Payments by check",        # default: the module's name
     "amount_paid": "47.40",                # default: the order total
     "vouchers": [1, "CODE"],               # cart rule ids or codes
     "free_shipping": true,                 # adds a free-shipping voucher
     "gift": true, "gift_message": "...", "wrapping": "2.00",
     "state": 2,                            # force a state instead of the
                                            # paid-amount check (optional)
     "placed_at": "2025-01-31T10:00:00"}    # an order of the past (optional):
                                            # with an offset ("Z", "+02:00") an
                                            # instant, written in the shop's
                                            # PS_TIMEZONE; without, shop time

answers 201 with the order summary (below) plus ``"orders"``: lines with
different carriers make one order per carrier, all under one reference, with
one payment row for the reference (as a split cart does in the real shop).
As there, an amount paid that differs from the total leaves the orders in
state 8 "Payment error"; the customer's automatic vouchers (no code) apply on
top.

Each of these takes ``{"order": id, ...}`` and answers the order summary:

- ``POST /_sandbox/orders/state`` ``{"state": 4, "employee": 1}``: a state
  change with all its effects (valid, invoice, delivery number, payment of
  the rest, stock), recorded in order_histories;
- ``POST /_sandbox/orders/payments`` ``{"amount": "10.00", "method": "Bank
  wire", "transaction_id": "T1"}``: one more payment row, keyed by the order
  reference; total_paid_real grows by the amount;
- ``POST /_sandbox/orders/slips`` ``{"lines": [{"order_detail": 8,
  "quantity": 1}], "shipping": true, "restock": true}``: a credit slip
  (``"shipping"``: true for all of it, or an amount tax included);
  refunded quantities and amounts of the lines follow, restocked units go
  back to stock; the summary carries ``"order_slip": id``;
- ``POST /_sandbox/orders/cancel``: state 6 "Canceled" (stock comes back);
- ``POST /_sandbox/orders/lines`` ``{"set": [{"order_detail": 8, "quantity":
  1}], "add": [{"product": 1, "combination": 0, "quantity": 1}]}``: edit the
  lines as the back office does (quantity 0 removes a line); totals, invoice
  and stock follow.

``POST /_sandbox/addresses/edit`` ``{"address": 5, "city": "Lille", ...}``
is a customer editing an address from the shop's front office: an address
no order uses is updated in place; one an order uses is marked ``deleted``
(the order keeps pointing at it) and the edit becomes a new address. It
answers ``{"address": new or same id, "replaced": old id or null}``.

The summary: ``{"order", "reference", "cart", "customer", "current_state",
"valid", "total_paid", "total_paid_real"}``. Errors answer 400 (bad input) or
404 (unknown order) with ``{"error": "..."}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import checkout, order_changes, order_lifecycle, order_pricing, order_rows
from .admin import route
from .customers import (
    address_in_use,
    new_secure_key,
    password_generated_at,
    password_hash,
)
from .engine import Context
from .errors import EmptyAnswer, WsError
from .model import Entity
from .order_math import ZERO

if TYPE_CHECKING:
    from .shop import Shop

DEFAULT_CARRIER = 2
# What a customer may change on an address from the front office.
ADDRESS_EDITABLE = frozenset(
    {
        "alias",
        "company",
        "lastname",
        "firstname",
        "address1",
        "address2",
        "postcode",
        "city",
        "id_country",
        "phone",
        "phone_mobile",
        "other",
    }
)
GUEST_GROUP = 2

# What a route does with the parsed JSON, inside one transaction.
Action = Callable[[Context, dict[str, Any]], dict[str, Any]]


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _context(shop: Shop) -> Context:
    return Context(shop=shop, base="", method="POST")


async def _payload(request: Request) -> dict[str, Any]:
    try:
        payload = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise BadRequest("the body must be a JSON object")
    return payload


def _amount(
    payload: dict[str, Any], key: str, default: Decimal | None = None
) -> Decimal:
    raw = payload.get(key)
    if raw is None:
        if default is None:
            raise BadRequest(f'"{key}" is required')
        return default
    try:
        return Decimal(str(raw))
    except InvalidOperation as exc:
        raise BadRequest(f'"{key}" is not an amount: {raw!r}') from exc


def _id(payload: dict[str, Any], key: str) -> int:
    value = payload.get(key)
    if not isinstance(value, int) or value <= 0:
        raise BadRequest(f'"{key}" must be a positive integer id')
    return value


async def _run(shop: Shop, request: Request, action: Action, status: int) -> Response:
    """Parse, act in one transaction, answer; input errors become 400/404."""
    try:
        payload = await _payload(request)
        ctx = _context(shop)
        with ctx.store.transaction():
            result = action(ctx, payload)
    except BadRequest as error:
        return JSONResponse({"error": str(error)}, error.status)
    except order_changes.UnknownLine as error:
        return JSONResponse({"error": str(error)}, 400)
    except WsError as error:
        return JSONResponse({"error": "; ".join(m for _, m in error.errors)}, 400)
    except EmptyAnswer as error:
        return JSONResponse({"error": f"the shop refused: {error}"}, 400)
    return JSONResponse(result, status)


def summary(ctx: Context, order_id: int) -> dict[str, Any]:
    order = order_rows.fetch(ctx, "orders", order_id)
    assert order is not None
    return {
        "order": order_id,
        "reference": order["reference"],
        "cart": order["id_cart"],
        "customer": order["id_customer"],
        "current_state": order["current_state"],
        "valid": bool(order["valid"]),
        "total_paid": f"{float(order['total_paid_tax_incl']):.2f}",
        "total_paid_real": f"{float(order['total_paid_real']):.2f}",
    }


def _order(ctx: Context, payload: dict[str, Any]) -> int:
    order_id = _id(payload, "order")
    if order_rows.fetch(ctx, "orders", order_id) is None:
        raise BadRequest(f"order {order_id} does not exist", 404)
    return order_id


# --- placing --------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    """What an order request holds once everything that can be refused was
    refused: nothing is written before this exists."""

    module: str
    voucher_rules: list[Entity]
    wrapping: Decimal
    amount_paid: Decimal | None
    placed_at: str | None


def _check(ctx: Context, payload: dict[str, Any]) -> _Checked:
    module = str(payload.get("payment_module") or "ps_checkpayment")
    if module not in checkout.PAYMENT_MODULES:
        raise BadRequest(f"unknown payment module {module!r}")
    if "guest" in payload:
        _check_guest(payload["guest"], payload.get("address"))
    else:
        _existing_customer(ctx, payload)
    lines = payload.get("lines") or []
    if not lines:
        raise BadRequest('"lines" must list at least one product')
    for line in lines:
        _cart_row(ctx, line, 0)
    for carrier in _carriers(payload):
        if order_rows.fetch(ctx, "carriers", carrier) is None:
            raise BadRequest(f"carrier {carrier} does not exist")
    default_wrapping = Decimal("2.00") if payload.get("gift") else ZERO
    return _Checked(
        module=module,
        voucher_rules=[_voucher_rule(ctx, v) for v in payload.get("vouchers", [])],
        wrapping=_amount(payload, "wrapping", default_wrapping),
        amount_paid=_amount(payload, "amount_paid", ZERO)
        if "amount_paid" in payload
        else None,
        placed_at=_timestamp(ctx, payload["placed_at"])
        if payload.get("placed_at")
        else None,
    )


def place(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    checked = _check(ctx, payload)
    customer = _customer(ctx, payload)
    address_id = _address(ctx, payload, customer)
    cart = _new_cart(ctx, payload, customer, address_id)

    id_lang = int(cart["id_lang"])
    vouchers = [
        order_pricing.as_voucher(ctx, rule, id_lang) for rule in checked.voucher_rules
    ]
    if payload.get("free_shipping"):
        vouchers.append(_free_shipping_voucher(ctx, customer))
    placement = checkout.Placement(
        cart=cart,
        module=checked.module,
        payment=str(payload.get("payment") or checkout.PAYMENT_MODULES[checked.module]),
        amount_paid=ZERO,
        vouchers=vouchers,
        state=payload.get("state"),
        wrapping_tax_incl=checked.wrapping,
        row_carriers=_row_carriers(payload),
    )
    placement.amount_paid = (
        checked.amount_paid
        if checked.amount_paid is not None
        else checkout.expected_total(ctx, placement)
    )
    order_ids = checkout.place_order(ctx, placement)
    if checked.placed_at:
        _backdate(ctx, order_ids, checked.placed_at)
    return {**summary(ctx, order_ids[0]), "orders": order_ids}


def _timestamp(ctx: Context, raw: Any) -> str:
    try:
        instant = datetime.fromisoformat(str(raw))
    except ValueError as exc:
        raise BadRequest(f'"placed_at" is not a date and time: {raw!r}') from exc
    return ctx.shop.local_time(instant).strftime("%Y-%m-%d %H:%M:%S")


def _backdate(ctx: Context, order_ids: list[int], when: str) -> None:
    """An order placed in the past: every date the placing wrote moves back."""
    for order_id in order_ids:
        order = order_rows.fetch(ctx, "orders", order_id) or {}
        dates = {"date_add": when, "date_upd": when}
        if order.get("invoice_number"):
            dates["invoice_date"] = when
        order_rows.update(ctx, "orders", order_id, dates)
        order_rows.update(ctx, "carts", int(order["id_cart"]), dates)
        for name in ("order_histories", "order_invoices", "order_carriers"):
            for row in order_rows.fetch_where(ctx, name, "id_order = ?", order_id):
                order_rows.update(ctx, name, int(row["id"]), {"date_add": when})
        reference = str(order.get("reference") or "")
        for row in order_rows.fetch_where(
            ctx, "order_payments", "order_reference = ?", reference
        ):
            order_rows.update(ctx, "order_payments", int(row["id"]), {"date_add": when})


def _row_carriers(payload: dict[str, Any]) -> list[int]:
    """Carriers named on lines split the cart; none named: no split."""
    lines = payload.get("lines") or []
    if not any("carrier" in line for line in lines):
        return []
    default = int(payload.get("carrier", DEFAULT_CARRIER))
    return [int(line.get("carrier", default)) for line in lines]


def _customer(ctx: Context, payload: dict[str, Any]) -> Entity:
    if "guest" in payload:
        return _guest(ctx, payload["guest"])
    return _existing_customer(ctx, payload)


def _existing_customer(ctx: Context, payload: dict[str, Any]) -> Entity:
    customer = order_rows.fetch(ctx, "customers", _id(payload, "customer"))
    if customer is None:
        raise BadRequest(f"customer {payload['customer']} does not exist")
    if not isinstance(payload.get("address"), dict | int):
        if not order_rows.fetch_where(
            ctx, "addresses", "id_customer = ? AND deleted = 0", int(customer["id"])
        ):
            raise BadRequest(f"customer {customer['id']} has no address: give one")
    return customer


def _check_guest(guest: Any, address: Any) -> None:
    if not isinstance(guest, dict):
        raise BadRequest('"guest" must be an object')
    for key in ("email", "firstname", "lastname"):
        if not guest.get(key):
            raise BadRequest(f'"guest.{key}" is required')
    if not isinstance(address, dict):
        raise BadRequest('a guest needs an "address" object')
    for key in ("address1", "city"):
        if not address.get(key):
            raise BadRequest(f'"address.{key}" is required')


def _guest(ctx: Context, guest: dict[str, Any]) -> Entity:
    """A guest checkout: a customer flagged is_guest, in the Guest group."""
    now = ctx.now()
    customer_id = order_rows.insert(
        ctx,
        "customers",
        {
            "id_default_group": GUEST_GROUP,
            "id_lang": ctx.shop.default_language,
            "last_passwd_gen": password_generated_at(ctx.shop.local_time()),
            "secure_key": new_secure_key(),
            "passwd": password_hash(new_secure_key()),
            "lastname": guest["lastname"],
            "firstname": guest["firstname"],
            "email": guest["email"],
            "active": 1,
            "is_guest": 1,
            "id_shop": 1,
            "id_shop_group": 1,
            "date_add": now,
            "date_upd": now,
            "_assoc": {"groups": [{"id": GUEST_GROUP}]},
        },
    )
    customer = order_rows.fetch(ctx, "customers", customer_id)
    assert customer is not None
    return customer


def _address(ctx: Context, payload: dict[str, Any], customer: Entity) -> int:
    wanted = payload.get("address")
    if isinstance(wanted, int):
        if order_rows.fetch(ctx, "addresses", wanted) is None:
            raise BadRequest(f"address {wanted} does not exist")
        return wanted
    if isinstance(wanted, dict):
        return _new_address(ctx, wanted, customer)
    existing = order_rows.fetch_where(
        ctx, "addresses", "id_customer = ? AND deleted = 0", int(customer["id"])
    )
    if not existing:
        raise BadRequest(f"customer {customer['id']} has no address: give one")
    return int(existing[-1]["id"])


def _new_address(ctx: Context, fields: dict[str, Any], customer: Entity) -> int:
    for key in ("address1", "city"):
        if not fields.get(key):
            raise BadRequest(f'"address.{key}" is required')
    now = ctx.now()
    return order_rows.insert(
        ctx,
        "addresses",
        {
            "id_customer": customer["id"],
            "id_country": fields.get("id_country", 8),
            "alias": fields.get("alias", "Home"),
            "lastname": fields.get("lastname", customer["lastname"]),
            "firstname": fields.get("firstname", customer["firstname"]),
            "address1": fields["address1"],
            "address2": fields.get("address2", ""),
            "postcode": fields.get("postcode", ""),
            "city": fields["city"],
            "phone": fields.get("phone", ""),
            "company": fields.get("company", ""),
            "date_add": now,
            "date_upd": now,
        },
    )


def _new_cart(
    ctx: Context, payload: dict[str, Any], customer: Entity, address_id: int
) -> Entity:
    carrier = int(payload.get("carrier", DEFAULT_CARRIER))
    carriers = _carriers(payload)
    rows = [_cart_row(ctx, line, address_id) for line in payload["lines"]]
    now = ctx.now()
    cart_id = order_rows.insert(
        ctx,
        "carts",
        {
            "id_address_delivery": address_id,
            "id_address_invoice": address_id,
            "id_currency": 1,
            "id_customer": customer["id"],
            "id_lang": customer.get("id_lang") or ctx.shop.default_language,
            "id_shop_group": 1,
            "id_shop": 1,
            "id_carrier": carrier,
            "gift": bool(payload.get("gift")),
            "gift_message": str(payload.get("gift_message") or ""),
            "delivery_option": json.dumps(
                {str(address_id): "".join(f"{c}," for c in carriers)}
            ),
            "secure_key": customer["secure_key"],
            "date_add": now,
            "date_upd": now,
            "_assoc": {"cart_rows": rows},
        },
    )
    cart = order_rows.fetch(ctx, "carts", cart_id)
    assert cart is not None
    return cart


def _carriers(payload: dict[str, Any]) -> list[int]:
    """Every carrier the cart uses: the cart's and the ones lines name."""
    carrier = int(payload.get("carrier", DEFAULT_CARRIER))
    return sorted({carrier, *_row_carriers(payload)})


def _cart_row(ctx: Context, line: dict[str, Any], address_id: int) -> dict[str, int]:
    product = _id(line, "product")
    combination = int(line.get("combination") or 0)
    quantity = int(line.get("quantity") or 1)
    if order_rows.fetch(ctx, "products", product) is None:
        raise BadRequest(f"product {product} does not exist")
    if combination:
        _check_combination(ctx, product, combination)
    return {
        "id_product": product,
        "id_product_attribute": combination,
        "id_address_delivery": address_id,
        "id_customization": 0,
        "quantity": quantity,
    }


def _check_combination(ctx: Context, product: int, combination: int) -> None:
    # The shop's cart refuses a combination of another product; taking it would
    # mix one product's name with another's EAN and reference on the line.
    row = order_rows.fetch(ctx, "combinations", combination)
    if row is None:
        raise BadRequest(f"combination {combination} does not exist")
    owner = int(row["id_product"])
    if owner != product:
        raise BadRequest(
            f"combination {combination} belongs to product {owner}, "
            f"not to product {product}"
        )


def _voucher_rule(ctx: Context, wanted: Any) -> Entity:
    if isinstance(wanted, int):
        rules = order_rows.fetch_where(ctx, "cart_rules", "id = ?", wanted)
    else:
        rules = order_rows.fetch_where(ctx, "cart_rules", "code = ?", str(wanted))
    if not rules or not int(rules[0]["active"]) or int(rules[0]["quantity"]) <= 0:
        raise BadRequest(f"voucher {wanted!r} does not exist or is used up")
    return rules[0]


def _free_shipping_voucher(
    ctx: Context, customer: Entity
) -> order_pricing.AppliedVoucher:
    """A one-use free-shipping rule for this customer, as a merchant makes one."""
    now = ctx.now()
    rule_id = order_rows.insert(
        ctx,
        "cart_rules",
        {
            "id_customer": customer["id"],
            "date_from": now,
            "date_to": "2099-12-31 23:59:59",
            "quantity": 1,
            "quantity_per_user": 1,
            "priority": 1,
            "free_shipping": 1,
            "reduction_currency": 1,
            "minimum_amount_currency": 1,
            "active": 1,
            "date_add": now,
            "date_upd": now,
            "name": {lang: "Free shipping" for lang in ctx.shop.languages},
        },
    )
    rule = order_rows.fetch(ctx, "cart_rules", rule_id)
    assert rule is not None
    return order_pricing.as_voucher(ctx, rule, ctx.shop.default_language)


# --- after the order ---


def change_state(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    order_id = _order(ctx, payload)
    state = _id(payload, "state")
    if order_rows.fetch(ctx, "order_states", state) is None:
        raise BadRequest(f"order state {state} does not exist")
    order_lifecycle.change_state(
        ctx, order_id, state, employee=int(payload.get("employee", 0))
    )
    return summary(ctx, order_id)


def cancel(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    order_id = _order(ctx, payload)
    order_lifecycle.change_state(ctx, order_id, order_lifecycle.STATE_CANCELED)
    return summary(ctx, order_id)


def pay(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    order_id = _order(ctx, payload)
    order = order_rows.fetch(ctx, "orders", order_id)
    assert order is not None
    amount = _amount(payload, "amount")
    order_lifecycle.add_payment(
        ctx,
        order_id,
        amount,
        str(payload.get("method") or order["payment"]),
        transaction_id=str(payload.get("transaction_id") or ""),
        card={k: str(v) for k, v in (payload.get("card") or {}).items()},
    )
    paid = order_rows.money(order["total_paid_real"]) + amount
    order_rows.update(
        ctx, "orders", order_id, {"total_paid_real": paid, "date_upd": ctx.now()}
    )
    return summary(ctx, order_id)


def refund(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    order_id = _order(ctx, payload)
    refunds = [
        order_changes.RefundRequest(
            _id(line, "order_detail"), int(line.get("quantity") or 0)
        )
        for line in payload.get("lines", [])
    ]
    shipping = _shipping_wanted(ctx, order_id, payload.get("shipping"))
    if not refunds and not shipping:
        raise BadRequest('a credit slip needs "lines" or "shipping"')
    slip_id = order_changes.create_slip(
        ctx,
        order_id,
        refunds,
        shipping_tax_incl=shipping,
        restock=bool(payload.get("restock")),
    )
    return {**summary(ctx, order_id), "order_slip": slip_id}


def _shipping_wanted(ctx: Context, order_id: int, wanted: Any) -> Decimal:
    """``true``: all the shipping paid; an amount: that much, tax included."""
    if wanted is True:
        order = order_rows.fetch(ctx, "orders", order_id) or {}
        return order_rows.money(order.get("total_shipping_tax_incl"))
    if not wanted:
        return ZERO
    return _amount({"shipping": wanted}, "shipping")


def edit_lines(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    order_id = _order(ctx, payload)
    changes = [
        order_changes.LineChange(
            _id(line, "order_detail"), int(line.get("quantity", 0))
        )
        for line in payload.get("set", [])
    ]
    additions = [
        order_changes.LineAddition(
            _id(line, "product"),
            int(line.get("combination") or 0),
            int(line.get("quantity") or 1),
        )
        for line in payload.get("add", [])
    ]
    for line in payload.get("add", []):
        _cart_row(ctx, line, 0)
    order_changes.edit_lines(ctx, order_id, changes, additions)
    return summary(ctx, order_id)


# --- customers ---


def edit_address(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    """A customer edits an address in the front office: an address an order
    uses is kept (marked deleted) and the edit becomes a new address."""
    address_id = _id(payload, "address")
    address = order_rows.fetch(ctx, "addresses", address_id)
    if address is None:
        raise BadRequest(f"address {address_id} does not exist", 404)
    changes = {k: v for k, v in payload.items() if k in ADDRESS_EDITABLE}
    now = ctx.now()
    if not address_in_use(ctx, address_id):
        order_rows.update(ctx, "addresses", address_id, {**changes, "date_upd": now})
        return {"address": address_id, "replaced": None}
    order_rows.update(ctx, "addresses", address_id, {"deleted": 1, "date_upd": now})
    kept = {k: v for k, v in address.items() if k not in ("id", "_assoc")}
    new_id = order_rows.insert(
        ctx, "addresses", {**kept, **changes, "date_add": now, "date_upd": now}
    )
    return {"address": new_id, "replaced": address_id}


# --- routes ---


def _register(path: str, action: Action, status: int) -> None:
    async def handler(shop: Shop, request: Request) -> Response:
        return await _run(shop, request, action, status)

    route("POST", path)(handler)


for _path, _action, _status in (
    ("orders", place, 201),
    ("orders/state", change_state, 200),
    ("orders/cancel", cancel, 200),
    ("orders/payments", pay, 200),
    ("orders/slips", refund, 201),
    ("orders/lines", edit_lines, 200),
    ("addresses/edit", edit_address, 200),
):
    _register(_path, _action, _status)
