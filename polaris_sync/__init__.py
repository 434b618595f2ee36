"""polaris-sync: keep a PrestaShop shop in step with a Polaris back-office."""

__version__ = "0.1.0"
