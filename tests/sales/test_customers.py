"""Which customers go to Polaris (G10)."""

from polaris_sync.sales.customers import (
    CustomerRules,
    customer_refusal,
    is_marketplace_customer,
)
from polaris_sync.sales.order import Customer

RULES = CustomerRules(
    marketplace_domains=["amazon.fr", "zalando.fr"],
    marketplace_group_ids=[9],
    polaris_group_ids=[5],
)


def customer(email="ines@example.test", groups=(3,), default=3):
    return Customer(
        11, email, "Xch", "Ines", group_ids=groups, default_group_id=default
    )


def test_g10_marketplace_customers_are_recognised_by_domain_or_group():
    assert is_marketplace_customer(customer("x1@marketplace.amazon.fr"), RULES)
    assert is_marketplace_customer(customer("order@zalando.fr"), RULES)
    assert is_marketplace_customer(customer(groups=(3, 9)), RULES)
    assert not is_marketplace_customer(customer("ines@notamazon.fr"), RULES)


def test_g10_a_customer_who_bought_is_exported():
    assert customer_refusal(customer(), RULES, has_bought=True) is None


def test_g10_a_customer_who_never_bought_is_not_exported_unless_in_the_group():
    reason = customer_refusal(customer(), RULES, has_bought=False)
    assert reason is not None and "not bought" in reason
    assert customer_refusal(customer(groups=(3, 5)), RULES, has_bought=False) is None


def test_g10_a_marketplace_customer_is_never_exported_even_in_the_group():
    buyer = customer("x@marketplace.amazon.fr", groups=(5,))
    reason = customer_refusal(buyer, RULES, has_bought=True)
    assert reason is not None and "marketplace" in reason
