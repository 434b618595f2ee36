"""XML bodies for Webservice writes, and lenient parsing of what the shop answers.

PrestaShop accepts writes only as raw XML. Bodies are built from plain Python
values, every text escaped (so `&`, `<`, `>` never go raw), and never by
posting back a document read from the shop. Answers are parsed leniently: PHP
notices may precede the document and control characters may sit inside values.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

# XML 1.0 forbids these; PrestaShop emits them raw and chokes on them in input.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# The element name of one item inside an association wrapper.
_ASSOCIATION_ITEMS = {
    "categories": "category",
    "product_option_values": "product_option_value",
    "product_features": "product_feature",
    "images": "image",
    "combinations": "combination",
    "accessories": "product",
    "product_bundle": "product",
    "tags": "tag",
    "groups": "group",
    "order_rows": "order_row",
}

# Resources whose singular node name is not the plural minus its "s".
_IRREGULAR_NODES = {
    "addresses": "address",
    "categories": "category",
    "countries": "country",
    "currencies": "currency",
    "order_histories": "order_history",
    "order_slip": "order_slip",
    "taxes": "tax",
    "images": "image",
}


def node_name(resource: str) -> str:
    """The element name of one object of `resource` (`products` -> `product`)."""
    if resource in _IRREGULAR_NODES:
        return _IRREGULAR_NODES[resource]
    return resource[:-1] if resource.endswith("s") else resource


def format_value(value: Any) -> str:
    """One scalar as the shop expects it: 1/0 for booleans, no exponent."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        text = format(value.quantize(Decimal("0.000001")), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return _CONTROL_CHARS.sub("", str(value))


def build_body(resource: str, fields: Mapping[str, Any]) -> bytes:
    """The XML document that writes one object of `resource`.

    Field values: a scalar; a mapping of language id to text for a
    multilingual field (every shop language must be given: the shop blanks the
    others); for the key ``associations``, a mapping of association name to a
    list of item mappings. ``None`` leaves the field out of the body.

    The document is written out directly (a first sync sends tens of
    thousands, and a tree plus its serializer cost several times more); every
    text and attribute goes through `escape`, so `&`, `<`, `>` and quotes
    never reach the shop raw.
    """
    node = node_name(resource)
    parts = [_DECLARATION, "<prestashop><", node, ">"]
    for name, value in fields.items():
        if value is None:
            continue
        if name == "associations":
            _add_associations(parts, value)
        elif isinstance(value, Mapping):
            _add_languages(parts, name, value)
        else:
            parts += ("<", name, ">", escape(format_value(value)), "</", name, ">")
    parts += ("</", node, "></prestashop>")
    return "".join(parts).encode("utf-8")


_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_QUOTES = {'"': "&quot;"}


def _add_languages(parts: list[str], name: str, texts: Mapping[Any, Any]) -> None:
    parts += ("<", name, ">")
    for language_id, text in texts.items():
        language = escape(str(language_id), _QUOTES)
        parts += ('<language id="', language, '">', escape(format_value(text)))
        parts.append("</language>")
    parts += ("</", name, ">")


def _add_associations(parts: list[str], associations: Mapping[str, Any]) -> None:
    parts.append("<associations>")
    for name, items in associations.items():
        item_name = _ASSOCIATION_ITEMS.get(name, node_name(name))
        parts += ("<", name, ">")
        for item in items:
            if not item or any(v in (None, "") for v in item.values()):
                # An empty item makes the shop insert a blank row (a phantom
                # combination, a link to category 0): never send one.
                raise ValueError(f"empty item in association {name!r}")
            parts += ("<", item_name, ">")
            for key, value in item.items():
                parts += ("<", key, ">", escape(format_value(value)), "</", key, ">")
            parts += ("</", item_name, ">")
        parts += ("</", name, ">")
    parts.append("</associations>")


def clean_document(text: str) -> str:
    """The document without PHP noise before it nor control characters inside."""
    start = min(
        (i for i in (text.find("<?xml"), text.find("<prestashop")) if i >= 0),
        default=0,
    )
    return _CONTROL_CHARS.sub("", text[start:])


def parse_xml(text: str) -> ET.Element:
    """The `<prestashop>` root of an answer, tolerating noise before it."""
    return ET.fromstring(clean_document(text).encode("utf-8"))


def entity_from_xml(element: ET.Element) -> dict[str, Any]:
    """One object element as a dict: text, {language id: text}, associations."""
    entity: dict[str, Any] = {}
    for child in element:
        if child.tag == "associations":
            entity["associations"] = {
                group.tag: [_item_from_xml(item) for item in group] for group in child
            }
        elif len(child) and child[0].tag == "language":
            entity[child.tag] = {
                int(lang.get("id", "0")): lang.text or "" for lang in child
            }
        else:
            entity[child.tag] = (child.text or "").strip("\n\t")
    return entity


def _item_from_xml(item: ET.Element) -> dict[str, str]:
    return {field.tag: (field.text or "").strip() for field in item}


def error_codes(text: str) -> tuple[tuple[int, ...], str]:
    """The numeric codes and the first message of an XML or JSON error answer."""
    text = text.strip()
    if not text:
        return (), ""
    if text.startswith("{"):
        return _json_error_codes(text)
    try:
        root = parse_xml(text)
    except ET.ParseError:
        return (), text[:200]
    codes: list[int] = []
    messages: list[str] = []
    for error in root.iter("error"):
        code = (error.findtext("code") or "").strip()
        if code.isdigit():
            codes.append(int(code))
        messages.append((error.findtext("message") or "").strip())
    return tuple(codes), _business_message(codes, messages)


def _json_error_codes(text: str) -> tuple[tuple[int, ...], str]:
    try:
        errors = json.loads(text).get("errors", [])
    except (ValueError, AttributeError):
        return (), text[:200]
    codes = [int(e["code"]) for e in errors if str(e.get("code", "")).isdigit()]
    messages = [str(e.get("message", "")) for e in errors]
    return tuple(codes), _business_message(codes, messages)


def _business_message(codes: list[int], messages: list[str]) -> str:
    # PHP warnings (codes 2-15) come first on 8.1/PHP 8.2; the business error
    # that explains the refusal is the last one that is not a warning.
    for code, message in reversed(list(zip(codes, messages, strict=False))):
        if code > 15:
            return message.replace("-&gt;", "->")
    return messages[0] if messages else ""
