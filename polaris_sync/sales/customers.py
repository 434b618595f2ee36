"""Which shop customers go to Polaris (G1, G10)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from polaris_sync.sales.order import Customer


@dataclass(frozen=True)
class CustomerRules:
    marketplace_domains: Collection[str] = ()
    marketplace_group_ids: Collection[int] = ()
    polaris_group_ids: Collection[int] = ()


def is_marketplace_customer(customer: Customer, rules: CustomerRules) -> bool:
    """A customer created by a marketplace (Amazon, Zalando...): never exported.

    Marketplaces create shop accounts with addresses of their own domains
    (`...@marketplace.amazon.fr`), or integrators put them in a group.
    """
    domain = customer.email.rpartition("@")[2].lower()
    for marketplace in rules.marketplace_domains:
        marketplace = marketplace.lower().lstrip("@")
        if domain == marketplace or domain.endswith("." + marketplace):
            return True
    groups = set(customer.group_ids) | {customer.default_group_id}
    return bool(groups & set(rules.marketplace_group_ids))


def customer_refusal(
    customer: Customer, rules: CustomerRules, *, has_bought: bool
) -> str | None:
    """None when the customer is exported, else the reason it is not (G10)."""
    if is_marketplace_customer(customer, rules):
        return f"customer {customer.customer_id} is a marketplace customer"
    groups = set(customer.group_ids) | {customer.default_group_id}
    if groups & set(rules.polaris_group_ids):
        return None
    if not has_bought:
        return (
            f"customer {customer.customer_id} has not bought yet and is not in "
            f"the Polaris customers group"
        )
    return None
