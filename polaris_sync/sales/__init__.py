"""The pure core of the order export: decide, build, correct (SPEC section G).

Functions of data only: no HTTP, no database. The `orders` stage reads the
shop, calls these, and sends what they return through the journal.
"""

from polaris_sync.sales.corrections import ExportPlan, ExportRecord, plan_export
from polaris_sync.sales.order import ShopOrder, order_from_json
from polaris_sync.sales.rules import ExportRules, Refusal, Severity, check_exportable
from polaris_sync.sales.sale import Sale, SaleRefused, SaleSettings, build_sale

__all__ = [
    "ExportPlan",
    "ExportRecord",
    "ExportRules",
    "Refusal",
    "Sale",
    "SaleRefused",
    "SaleSettings",
    "Severity",
    "ShopOrder",
    "build_sale",
    "check_exportable",
    "order_from_json",
    "plan_export",
]
