"""Which resources the emulator serves, and the shop's full resource index.

A module that defines resources exposes ``RESOURCES`` (a list of
:class:`~.model.Resource`) and optionally ``seed(shop)``; listing it in
``RESOURCE_MODULES`` is all it takes to serve them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .model import Resource

if TYPE_CHECKING:
    from .shop import Shop

RESOURCE_MODULES = (
    "polaris_sync.sandbox.prestashop.reference",
    "polaris_sync.sandbox.prestashop.catalog",
    # The order side: customers, reference data, carts and orders, and the
    # admin routes that place and change orders.
    "polaris_sync.sandbox.prestashop.customers",
    "polaris_sync.sandbox.prestashop.shop_reference",
    "polaris_sync.sandbox.prestashop.orders",
    "polaris_sync.sandbox.prestashop.order_admin",
)

# Every resource a fresh 8.1 shop lists at /api/, with its description. The
# emulator serves a subset; the others are listed but answer as unknown.
RESOURCE_INDEX: dict[str, str] = {
    "addresses": "The Customer, Brand and Customer addresses",
    "attachments": "The product Attachments",
    "carriers": "The Carriers",
    "cart_rules": "Cart rules management",
    "carts": "Customer's carts",
    "categories": "The product categories",
    "combinations": "The product combinations",
    "configurations": "Shop configuration",
    "contacts": "Shop contacts",
    "content_management_system": "Content management system",
    "countries": "The countries",
    "currencies": "The currencies",
    "customer_messages": "Customer services messages",
    "customer_threads": "Customer services threads",
    "customers": "The e-shop's customers",
    "customizations": "Customization values",
    "deliveries": "Product delivery",
    "employees": "The Employees",
    "groups": "The customer's groups",
    "guests": "The guests",
    "image_types": "The image types",
    "images": "The images",
    "languages": "Shop languages",
    "manufacturers": "The product brands",
    "messages": "The Messages",
    "order_carriers": "The Order carriers",
    "order_cart_rules": "The Order cart rules",
    "order_details": "Details of an order",
    "order_histories": "The Order histories",
    "order_invoices": "The Order invoices",
    "order_payments": "The Order payments",
    "order_slip": "The Order slips",
    "order_states": "The Order statuses",
    "orders": "The Customers orders",
    "price_ranges": "Price ranges",
    "product_customization_fields": "Customization Field",
    "product_feature_values": "The product feature values",
    "product_features": "The product features",
    "product_option_values": "The product options value",
    "product_options": "The product options",
    "product_suppliers": "Product Suppliers",
    "products": "The products",
    "search": "Search",
    "shop_groups": "Shop groups from multi-shop feature",
    "shop_urls": "Shop URLs from multi-shop feature",
    "shops": "Shops from multi-shop feature",
    "specific_price_rules": "Specific price management",
    "specific_prices": "Specific price management",
    "states": "The available states of countries",
    "stock_availables": "Available quantities",
    "stock_movement_reasons": "Stock movement reason",
    "stock_movements": "Stock movements",
    "stocks": "Stocks",
    "stores": "The stores",
    "suppliers": "The product suppliers",
    "supply_order_details": "Supply Order Details",
    "supply_order_histories": "Supply Order Histories",
    "supply_order_receipt_histories": "Supply Order Receipt Histories",
    "supply_order_states": "Supply Order Statuses",
    "supply_orders": "Supply Orders",
    "tags": "The Products tags",
    "tax_rule_groups": "Tax rule groups",
    "tax_rules": "Tax rules entity",
    "taxes": "The tax rate",
    "translated_configurations": "Shop configuration",
    "warehouse_product_locations": "Location of products in warehouses",
    "warehouses": "Warehouses",
    "weight_ranges": "Weight ranges",
    "zones": "The Countries zones",
}

# "Specific management" entries: listed without schema links.
WITHOUT_SCHEMA = frozenset({"attachments", "images", "search"})

# Read-only or partly forbidden resources of the core (405 code 101).
FORBIDDEN_METHODS: dict[str, frozenset[str]] = {
    "stock_availables": frozenset({"POST", "DELETE"}),
    "search": frozenset({"POST", "PUT", "PATCH", "DELETE"}),
    "stock_movements": frozenset({"POST", "PUT", "PATCH", "DELETE"}),
    "stocks": frozenset({"POST", "PUT", "PATCH", "DELETE"}),
    "warehouse_product_locations": frozenset({"POST", "PUT", "PATCH", "DELETE"}),
    "warehouses": frozenset({"DELETE"}),
}


def _modules() -> list[object]:
    return [importlib.import_module(name) for name in RESOURCE_MODULES]


def resources() -> dict[str, Resource]:
    served: dict[str, Resource] = {}
    for module in _modules():
        for resource in getattr(module, "RESOURCES", []):
            served[resource.name] = resource
    return served


def seed(shop: Shop) -> None:
    for module in _modules():
        seeder = getattr(module, "seed", None)
        if seeder is not None:
            seeder(shop)
