"""PrestaShop Webservice emulator: `/api/` of a fresh PrestaShop 8.1 shop.

    from polaris_sync.sandbox.prestashop import create_app
    app = create_app(db_path, api_key="A" * 32, version="8.1.2")

``create_app`` returns an ASGI app; ``db_path`` is a SQLite file, created and
seeded as a fresh shop when missing and reopened as it is otherwise. ``version``
("8.1.2", "1.7.8.11" or "9.0.x") is sent back in ``PSWS-Version``; 1.7 answers
PATCH with 405 code 23. The admin API under ``/_sandbox/`` is described in
:mod:`.admin`; its routes that place and change orders in :mod:`.order_admin`.

Layout:
- ``model``: declarations (Resource, Field, Association, Hooks);
- ``engine``: generic list/read/POST/PUT/PATCH/DELETE with PrestaShop's rules;
- ``query``: display, filter, sort and limit parameters;
- ``render`` / ``xmlio``: XML and JSON shapes; ``schema``: root listing and
  ``schema=blank|synopsis``; ``values``: conversions and validators;
- ``catalog``, ``reference``: the resources; ``images``: ``/api/images``;
  ``versions``: what 1.7.8 and 9.x change in the 8.1 declarations;
- ``store``: SQLite; ``app``: auth, routing, envelopes; ``replay``: replays
  recorded exchanges against any URL and key;
- the order side: ``customers`` (customers, groups, addresses),
  ``shop_reference`` (carriers, countries, currencies, stores), ``orders``
  (carts, orders and everything hanging on them, declared in
  ``order_resources``), and their rules: ``order_math`` (pure money
  arithmetic), ``order_pricing`` (line prices, promotions, carriers,
  vouchers), ``checkout`` (placing), ``order_lifecycle`` (stock, states,
  invoices, payments), ``order_changes`` (credit slips, line edits),
  ``order_rows`` (complete rows written by the shop itself).

More in README.md beside this file. Adding a resource:
1. In a module of your own (e.g. ``orders.py``), declare a ``Resource`` with
   its fields in the exact order the real shop prints them (kinds INT/BOOL/
   FLOAT/STR/DATE/DATETIME; ``required``, ``read_only`` (answers 93),
   ``virtual`` + a getter in ``Hooks.getters``, ``ml`` for multilingual,
   ``ref`` for xlink targets, ``validator``/``max_size``/``values``,
   ``nullable``, ``default``, ``date_gated`` for date_add/date_upd).
2. Associations: ``Association(name, node, api, fields, item_ref, getter,
   setter, writable)``; without a getter the items are stored on the entity.
3. Side effects go in ``Hooks`` (before_validate, before_save, after_save,
   before_delete, after_delete, json_types, extra_fields); rows that belong
   to no shop are excluded with ``Resource.in_shop``. Hooks receive the request
   ``Context`` (``ctx.store``, ``ctx.resource(name)``, ``ctx.now()``) and the
   entity dict (raw strings as sent, stored values as loaded). Raise
   ``errors.WsError(status, (code, message), ...)`` or
   ``errors.sql_failure()`` for an empty 500.
4. Expose ``RESOURCES = [...]`` and optionally ``seed(shop)`` in the module,
   and add the module to ``registry.RESOURCE_MODULES``. Methods the core
   forbids go in ``registry.FORBIDDEN_METHODS``.
5. Extra admin routes: ``@admin.route("POST", "orders")`` on an
   ``async def handler(shop, request) -> Response``; import the module from
   your resource module so it registers.
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
