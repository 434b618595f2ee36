"""Value conversions and validators, with PHP's loose semantics where they leak.

Three forms of a field value exist:
- raw: the string a client sent (write answers echo it unchanged);
- stored: the typed value in SQLite (int, float, str or None);
- printed: the text in XML, or the typed value in JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .model import BOOL, DATE, DATETIME, FLOAT, INT, Field

_LEADING_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def php_float(raw: str) -> float:
    """PHP's (float) cast: the leading number of the string, else 0."""
    match = _LEADING_NUMBER.match(raw)
    return float(match.group(0)) if match else 0.0


def php_int(raw: str) -> int:
    """PHP's (int) cast of a string: the leading integer, else 0."""
    match = re.match(r"^\s*[+-]?\d+", raw)
    return int(match.group(0)) if match else 0


def to_stored(field: Field, value: Any) -> Any:
    """Turn a raw (or already stored) value into what the database keeps.

    An absent (None) value of a nullable field stays NULL; an empty element
    that was sent is a 0 / '' like any other (PHP casts it).
    """
    if value is None:
        if field.nullable and field.default is None:
            return None
        return _stored_empty(field)
    if value == "":
        return _stored_empty(field)
    if field.kind in (INT, BOOL):
        number = value if isinstance(value, int) else php_int(str(value))
        return int(bool(number)) if field.kind == BOOL else number
    if field.kind == FLOAT:
        return value if isinstance(value, float) else php_float(str(value))
    return str(value)


def _stored_empty(field: Field) -> Any:
    if field.default is not None:
        return to_stored(field, field.default)
    if field.kind in (INT, BOOL):
        return 0
    if field.kind == FLOAT:
        return 0.0
    if field.kind == DATE:
        return "0000-00-00"
    if field.kind == DATETIME:
        return "0000-00-00 00:00:00"
    return ""


def printed(value: Any, decimals: int = 6) -> str:
    """XML text of a value, raw or stored."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, float):
        return f"{value:.{decimals}f}"
    return str(value)


def json_value(field: Field, value: Any) -> Any:
    """JSON form: INT fields are integers, everything else a string."""
    if value is None or isinstance(value, bool):
        return value
    if field.kind == INT:
        if isinstance(value, int):
            return value
        text = str(value)
        return int(text) if re.fullmatch(r"-?\d+", text) else text
    return printed(value, field.decimals)


# --- validators -------------------------------------------------------------
# Each takes the raw text (never empty: PrestaShop skips empty values).

_PRICE = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,9})?$")
_NEGATIVE_PRICE = re.compile(r"^[-]?[0-9]{1,10}(\.[0-9]{1,9})?$")
_COLOR_KEYWORDS = {"red", "blue", "green", "black", "white", "yellow", "orange"}


def _is_float(raw: str) -> bool:
    try:
        float(raw)
    except ValueError:
        return False
    return "," not in raw


def _is_unsigned_float(raw: str) -> bool:
    return _is_float(raw) and float(raw) >= 0


def _is_int(raw: str) -> bool:
    return re.fullmatch(r"[+-]?\d+", raw) is not None


def _is_unsigned_int(raw: str) -> bool:
    return re.fullmatch(r"\+?\d+", raw) is not None and int(raw) < 4294967296


def _is_date(raw: str) -> bool:
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?", raw) is not None


def _is_clean_html(raw: str) -> bool:
    lowered = raw.lower()
    if re.search(r"<\s*script|\bon\w+\s*=|javascript\s*:", lowered):
        return False
    return re.search(r"<\s*(iframe|form|input|embed|object)", lowered) is None


def _is_color(raw: str) -> bool:
    return bool(re.fullmatch(r"#[0-9a-fA-F]{6}", raw)) or raw in _COLOR_KEYWORDS


# Names of people: no digits, no punctuation, dots only at the end of a word.
_CUSTOMER_NAME_FORBIDDEN = re.compile(r"[0-9!<>,;?=+()/\\@#\"°*`{}_^$%:¤\[\]|]")


def _is_customer_name(raw: str) -> bool:
    if not raw.strip() or _CUSTOMER_NAME_FORBIDDEN.search(raw):
        return False
    return re.search(r"[.。](?!\s|$)", raw) is None


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "isCatalogName": lambda v: re.search(r"[<>;=#{}]", v) is None,
    "isGenericName": lambda v: re.search(r"[<>={}]", v) is None,
    "IsGenericName": lambda v: re.search(r"[<>={}]", v) is None,
    "isName": lambda v: re.search(r"[0-9!<>,;?=+()@#\"°{}_$%:]", v) is None,
    "isReference": lambda v: re.search(r"[<>;={}]", v) is None,
    "isEan13": lambda v: re.fullmatch(r"[0-9]{0,13}", v) is not None,
    "isGtin": lambda v: re.fullmatch(r"[0-9]{0,14}", v) is not None,
    "isUpc": lambda v: re.fullmatch(r"[0-9]{0,12}", v) is not None,
    "isIsbn": lambda v: re.fullmatch(r"[0-9-]{0,32}", v) is not None,
    "isMpn": lambda v: len(v) <= 40,
    "isLinkRewrite": lambda v: re.fullmatch(r"[_a-zA-Z0-9-]+", v) is not None,
    "isPrice": lambda v: _PRICE.match(v) is not None,
    "isNegativePrice": lambda v: _NEGATIVE_PRICE.match(v) is not None,
    "isUnsignedFloat": _is_unsigned_float,
    "isFloat": _is_float,
    "isBool": lambda v: v in ("0", "1"),
    "isInt": _is_int,
    "isUnsignedInt": _is_unsigned_int,
    "isUnsignedId": _is_unsigned_int,
    "isNullOrUnsignedId": _is_unsigned_int,
    "isDate": _is_date,
    "isDateFormat": _is_date,
    "isCleanHtml": _is_clean_html,
    "isColor": _is_color,
    "isProductVisibility": lambda v: v in ("both", "catalog", "search", "none"),
    "isReductionType": lambda v: v in ("amount", "percentage"),
    "isString": lambda v: True,
    "isConfigName": lambda v: re.fullmatch(r"[a-zA-Z_0-9-]+", v) is not None,
    "isLanguageIsoCode": lambda v: re.fullmatch(r"[a-zA-Z]{2,3}", v) is not None,
    "isEmail": lambda v: re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v) is not None,
    "isCustomerName": _is_customer_name,
    "isPercentage": lambda v: _is_float(v) and 0 <= float(v) <= 100,
}


def is_valid(validator: str | None, raw: str) -> bool:
    check = VALIDATORS.get(validator or "")
    return check is None or check(raw)


def slugify(text: str) -> str:
    """A link_rewrite as PrestaShop makes one: accents transliterated, other
    punctuation dropped ("abc.com" -> "abccom"), separators turned to dashes."""
    import unicodedata

    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    )
    kept = re.sub(r"[^a-zA-Z0-9\s'\-:/\[\]]", "", ascii_text)
    return re.sub(r"[\s'\-:/\[\]]+", "-", kept).strip("-").lower()
