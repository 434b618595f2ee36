"""The TOML configuration: its models, where it is found, and what is wrong.

Every option below is used by the code; ``config.example.toml`` documents each
one with its default. A mistake (unknown key, wrong type, a folder that cannot
be created) becomes one :class:`~polaris_sync.errors.ConfigError` naming the
file and the key.

Relative paths in the file are relative to the folder holding the file.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from polaris_sync.errors import ConfigError

DEFAULT_CONFIG_NAME = "polaris-sync.toml"
CONFIG_ENV = "POLARIS_SYNC_CONFIG"
PRESTASHOP_KEY_ENV = "POLARIS_SYNC_PRESTASHOP_KEY"

NonNegativeInt = Annotated[int, Field(ge=0)]
Minutes = Annotated[float, Field(ge=0)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PolarisSection(Section):
    # Empty means: the URL Polaris returned at association.
    url: str = ""
    # Where `associate` posts the licence and PIN. There is no built-in
    # default host: the integrator writes the merchant's server here.
    association_url: str = ""
    timeout_seconds: Annotated[float, Field(gt=0)] = 60
    # Polaris serves at most 1000 items a page.
    page_size: Annotated[int, Field(ge=1, le=1000)] = 500

    @field_validator("url", "association_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return _check_http_url(value)


class PrestaShopSection(Section):
    url: str
    # Prefer the state database (`init` stores it there) or the environment
    # variable POLARIS_SYNC_PRESTASHOP_KEY over writing the key in this file.
    key: SecretStr | None = None
    max_concurrency: Annotated[int, Field(ge=1, le=32)] = 4
    # 0 turns pacing off.
    max_requests_per_second: Annotated[float, Field(ge=0)] = 5
    timeout_seconds: Annotated[float, Field(gt=0)] = 60

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value:
            raise ValueError("the shop address is required, e.g. https://shop/api")
        return _check_http_url(value)


class IntervalsSection(Section):
    """Minutes between two runs of each stage (B3); 0 means every run."""

    config: Minutes = 1440
    catalogue: Minutes = 60
    stock: Minutes = 0
    prices: Minutes = 0
    orders: Minutes = 0
    customers: Minutes = 60


class StockSection(Section):
    safety_stock: NonNegativeInt = 0
    # "show": keep showing sold-out products; "hide": hide them from catalogue
    # and search while their page stays reachable (D2).
    out_of_stock: Literal["show", "hide"] = "show"
    # Polaris store codes whose stock counts for the web; empty: all (D3).
    stores: list[int] = []


# -- catalogue sync options (catalogue/stock/prices stages) ------------------


ProductField = Literal[
    "name", "description", "brand", "categories", "weight", "reference", "photos"
]


class CatalogueSection(Section):
    # E1: one PrestaShop product per Polaris model, or per model and colour.
    products_per: Literal["model-colour", "model"] = "model-colour"
    # Home category, used when none of an item's categories is mapped (F3).
    default_category: Annotated[int, Field(ge=1)] = 2
    # E5: category holding the products on promotion; 0 for none.
    promo_category: NonNegativeInt = 0
    # VAT rate (percent, as text) -> PrestaShop tax rule group id.
    tax_rules_groups: dict[str, int] = {"20": 1}
    default_tax_rate: Annotated[float, Field(ge=0)] = 20
    # E2/E4: attribute group receiving generic colours; 0: colour not synced
    # as an attribute.
    colour_group: NonNegativeInt = 0
    # C3: product fields full mode keeps updated; the others are written only
    # when the product is created. Any of: name, description, brand,
    # categories, weight, reference, photos.
    update_fields: list[ProductField] = list(get_args(ProductField))
    # GTIN-14 is accepted from PrestaShop 9 on; 13 digits before.
    max_ean_digits: Annotated[int, Field(ge=8, le=14)] = 13
    # E6: link the other colours of a model as accessories of each product
    # (with one product per model and colour).
    related_colours: bool = False
    # E8: once a week, delete the attribute values no combination uses, in
    # the groups the size-grid mappings and colour_group point to.
    weekly_cleanup: bool = False
    # E7: show on each size which mapped stores have it (PrestaShop 8+).
    store_availability: bool = False
    # Fewer than this many in a store shows as low (orange).
    store_low_stock: Annotated[int, Field(ge=1)] = 3

    @model_validator(mode="after")
    def _model_products_need_colours(self) -> CatalogueSection:
        # One product per model holds all its colours: without a colour
        # attribute, the sizes of two colours are identical combinations.
        if self.products_per == "model" and not self.colour_group:
            raise ValueError(
                'products_per = "model" needs colour_group (the attribute group '
                "telling the colours of a model apart)"
            )
        return self


# -- orders and customers (G1-G11, F9); read by the orders and customers stages --


class OrdersSection(Section):
    # Polaris store code the web sales are recorded in; 0 means the reference
    # store Polaris gave at association.
    store_code: NonNegativeInt = 0
    # Guards (G3): older orders, or orders below this id, are never exported
    # automatically; `export-order ID` still can (G6).
    max_age_days: NonNegativeInt = 90
    min_order_id: NonNegativeInt = 0
    # G5: also send cancellations, modifications and refunds made after the
    # first export.
    export_corrections: bool = False
    # More new orders than this in one run: export none until
    # `polaris-sync export-orders --confirm` (protects against a wrong guard).
    ceiling: Annotated[int, Field(ge=1)] = 200
    # Polaris references (barcodes) of the special sale lines (G2, G9).
    shipping_reference: str = ""
    wrapping_reference: str = ""
    voucher_reference: str = ""
    # Prepended to the order id to make the sale's RefExt.
    sale_ref_prefix: str = ""
    # The shop's time zone (PrestaShop's PS_TIMEZONE): order dates are local.
    shop_timezone: str = "Europe/Paris"

    @field_validator("shop_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value


class CustomersSection(Section):
    # G1: send customers and their personal data to Polaris. Off: no personal
    # data leaves the shop, sales go without a customer.
    export: bool = False
    # G10: customers of these e-mail domains, or of these PrestaShop groups
    # (by name), are marketplace customers and never exported.
    marketplace_domains: list[str] = [
        "amazon.com",
        "amazon.fr",
        "marketplace.amazon.fr",
        "marketplace.amazon.de",
        "spartoo.com",
        "zalando.fr",
        "zalando.com",
        "cdiscount.com",
        "laredoute.fr",
        "fnac.com",
        "rakuten.fr",
        "manomano.fr",
    ]
    marketplace_groups: list[str] = []
    # Members of this group are exported even before they bought (G10).
    polaris_group: str = "Clients Polaris"
    # Prepended to the PrestaShop customer id in the customer's RefsExt.
    ref_prefix: str = "PS-"


class Config(Section):
    enabled: bool = True
    mode: Literal["basic", "full"] = "basic"
    state_dir: Path = Path(".")
    audit_dir: Path | None = None
    # Seconds a run may spend before it stops cleanly; 0 means no limit.
    time_budget_seconds: Annotated[float, Field(ge=0)] = 240
    polaris: PolarisSection = PolarisSection()
    prestashop: PrestaShopSection
    intervals: IntervalsSection = IntervalsSection()
    stock: StockSection = StockSection()
    catalogue: CatalogueSection = CatalogueSection()
    orders: OrdersSection = OrdersSection()
    customers: CustomersSection = CustomersSection()

    # Filled by load_config, not read from the file.
    source: Path | None = Field(default=None, exclude=True)

    @property
    def audit_path(self) -> Path:
        return (
            self.audit_dir if self.audit_dir is not None else self.state_dir / "audit"
        )

    def prestashop_key(self, stored: str | None = None) -> str | None:
        """The Webservice key: the file, then the environment, then the state."""
        if self.prestashop.key is not None:
            return self.prestashop.key.get_secret_value()
        return os.environ.get(PRESTASHOP_KEY_ENV) or stored


def config_path(explicit: Path | None = None) -> Path:
    """The file to read: ``--config``, else $POLARIS_SYNC_CONFIG, else ./."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    return Path(DEFAULT_CONFIG_NAME)


def load_config(path: Path) -> Config:
    """Read, validate and resolve the configuration file at ``path``."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(
            f"{path}: no configuration file here; create one with "
            "`polaris-sync init` or point to it with --config"
        ) from error
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    return parse_config(raw, path)


def parse_config(raw: dict[str, Any], path: Path) -> Config:
    try:
        config = Config.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{path}: {explain(error)}") from error

    base = path.resolve().parent
    state_dir = _resolve(base, config.state_dir)
    audit_dir = _resolve(base, config.audit_path)
    _check_writable(path, "state_dir", state_dir)
    _check_writable(path, "audit_dir", audit_dir)
    return config.model_copy(
        update={"state_dir": state_dir, "audit_dir": audit_dir, "source": path}
    )


def explain(error: ValidationError) -> str:
    """Every problem pydantic found, as ``key: what is wrong``."""
    problems = []
    for detail in error.errors():
        key = ".".join(str(part) for part in detail["loc"]) or "(top level)"
        if detail["type"] == "extra_forbidden":
            problems.append(f"{key}: unknown option")
        elif detail["type"] == "missing":
            problems.append(f"{key}: required option missing")
        else:
            message = detail["msg"].removeprefix("Value error, ")
            problems.append(f"{key}: {message} (got {detail['input']!r})")
    return "; ".join(problems)


def _check_http_url(value: str) -> str:
    if value and not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


def _resolve(base: Path, path: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else base / path


def _check_writable(config_file: Path, key: str, folder: Path) -> None:
    """The folder exists and is writable, or could be created."""
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{config_file}: {key}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{config_file}: {key}: {existing} is not writable")
