"""XML in, XML and JSON out, shaped like PrestaShop's webservice output."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from .errors import WsError

XML_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n'
)
XML_TAIL = "</prestashop>\n"
XML_CONTENT_TYPE = "text/xml;charset=utf-8"
JSON_CONTENT_TYPE = "application/json"


# --- input ------------------------------------------------------------------


@dataclass
class Submitted:
    """One entity of a request body: the elements that were present."""

    values: dict[str, str | dict[int, str]] = field(default_factory=dict)
    # Multilingual-looking values given as plain text (no <language> child).
    plain: set[str] = field(default_factory=set)
    associations: dict[str, list[dict[str, str]]] | None = None


def parse_body(body: bytes) -> list[Submitted]:
    """Every child of the root is an entity, whatever its element name."""
    if body.startswith(b"xml="):
        body = body[4:]
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise _parse_error(body, exc) from exc
    return [_entity(child) for child in root]


def _parse_error(body: bytes, exc: ET.ParseError) -> WsError:
    text = body.decode("utf-8", "replace")
    where = "(/var/www/prestashop/classes/webservice/WebserviceRequest.php, line 1544)"
    warnings = [
        (3, f"[PHP Warning #2] SimpleXMLElement::__construct(): {line} {where}")
        for line in (f"Entity: line 1: parser error : {exc.msg}", text[:80], "^")
    ]
    message = (
        "XML error : String could not be parsed as XML\n"
        f"XML length : {len(text)}\nOriginal XML : {text}"
    )
    return WsError(500, *warnings, (127, message))


def _entity(element: ET.Element) -> Submitted:
    entity = Submitted()
    for child in element:
        if child.tag == "associations":
            entity.associations = {
                group.tag: [_item(item) for item in group] for group in child
            }
            continue
        languages = [c for c in child if c.tag == "language"]
        if languages:
            entity.values[child.tag] = {
                _language_id(c): c.text or "" for c in languages
            }
        else:
            entity.values[child.tag] = child.text or ""
            entity.plain.add(child.tag)
    return entity


def _language_id(element: ET.Element) -> int:
    try:
        return int(element.get("id", "0"))
    except ValueError:
        return 0


def _item(element: ET.Element) -> dict[str, str]:
    return {child.tag: (child.text or "") for child in element}


# --- output -----------------------------------------------------------------


def cdata(text: str) -> str:
    return f"<![CDATA[{text}]]>"


def attributes(attrs: dict[str, str]) -> str:
    return "".join(f' {k}="{_escape_attr(v)}"' for k, v in attrs.items())


def _escape_attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def error_xml(errors: list[tuple[int, str]]) -> str:
    parts = [XML_HEAD, "<errors>\n"]
    for code, message in errors:
        parts.append(
            f"<error>\n<code>{cdata(str(code))}</code>\n"
            f"<message>{cdata(message)}</message>\n</error>\n"
        )
    parts.append("</errors>\n")
    parts.append(XML_TAIL)
    return "".join(parts)


def error_json(errors: list[tuple[int, str]]) -> str:
    return json.dumps(
        {"errors": [{"code": c, "message": m} for c, m in errors]},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def dumps(payload: Any) -> str:
    """JSON the way PHP's json_encode prints it (slashes escaped)."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/")
