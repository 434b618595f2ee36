"""Replay recorded PrestaShop Webservice exchanges against any `/api` root.

The recordings are JSON lines, one step each: a request (with `{{sN.id}}`,
`{{sN.ids.K}}`, `{{sN.reference}}` and `{{key}}` placeholders), the answer a
real shop gave, the `checks` a conformant server must pass and the `bind`
values the real shop assigned. Ids the server assigns are compared through
the bindings collected from the server under test; volatile values (dates,
positions, re-encoded image bytes...) are wildcards.

    python -m polaris_sync.sandbox.prestashop.replay --url http://127.0.0.1:8081/api \\
        --key KEY path/to/05-sync-flow.jsonl ...

prints one line per failing step with a diff, then `N passed, M failed`.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
PLACEHOLDER = re.compile(r"\{\{([^}]+)\}\}")

# Resource types whose ids the server assigns (compared through bindings).
CREATED_TYPES = frozenset(
    {
        "products",
        "combinations",
        "product_options",
        "product_option_values",
        "manufacturers",
        "categories",
        "stock_availables",
        "specific_prices",
        "product_features",
        "product_feature_values",
        "images",
        "customers",
        "addresses",
        "carts",
        "guests",
        "orders",
        "order_details",
        "order_payments",
        "order_carriers",
        "order_histories",
        "order_states",
        "cart_rules",
        "order_cart_rules",
        "order_slip",
        "order_invoices",
    }
)
# Ids that every fresh shop has: compared literally even for created types.
BUILT_IN = {"categories": {1, 2}, "order_states": set(range(1, 14))}

# `id_*` (and a few other) fields, typed by name.
FIELD_TYPES = {
    "id_product": "products",
    "product_id": "products",
    "id_product_attribute": "combinations",
    "product_attribute_id": "combinations",
    "id_default_combination": "combinations",
    "cache_default_attribute": "combinations",
    "id_category_default": "categories",
    "id_parent": "categories",
    "id_attribute_group": "product_options",
    "id_feature": "product_features",
    "id_feature_value": "product_feature_values",
    "id_default_image": "images",
    "id_manufacturer": "manufacturers",
    "id_customer": "customers",
    "id_address_delivery": "addresses",
    "id_address_invoice": "addresses",
    "id_address": "addresses",
    "id_cart": "carts",
    "id_guest": "guests",
    "id_order": "orders",
    "id_order_detail": "order_details",
    "id_order_state": "order_states",
    "current_state": "order_states",
    "id_cart_rule": "cart_rules",
    "id_order_invoice": "order_invoices",
    "id_order_slip": "order_slip",
}

# Element (or JSON key) names of entities and list entries -> resource type.
NODE_TYPES = {
    "product": "products",
    "combination": "combinations",
    "stock_available": "stock_availables",
    "product_option": "product_options",
    "product_option_value": "product_option_values",
    "manufacturer": "manufacturers",
    "category": "categories",
    "specific_price": "specific_prices",
    "product_feature": "product_features",
    "product_feature_value": "product_feature_values",
    "image": "images",
    "declination": "images",
    "customer": "customers",
    "address": "addresses",
    "cart": "carts",
    "guest": "guests",
    "order": "orders",
    "order_detail": "order_details",
    "order_row": "order_details",
    "order_payment": "order_payments",
    "order_carrier": "order_carriers",
    "order_history": "order_histories",
    "order_state": "order_states",
    "cart_rule": "cart_rules",
    "order_cart_rule": "order_cart_rules",
    "order_slip": "order_slip",
    "order_slip_detail": "order_slip",
    "order_invoice": "order_invoices",
}
for _plural in set(NODE_TYPES.values()):
    NODE_TYPES.setdefault(_plural, _plural)
NODE_TYPES.update(
    {
        "order_slips": "order_slip",
        "order_slip_details": "order_slip",
        "order_rows": "order_details",
        "accessories": "products",
        "product_bundle": "products",
    }
)

ALWAYS_WILD = frozenset(
    {
        "date_add",
        "date_upd",
        "position",
        "position_in_category",
        "nleft",
        "nright",
        "content",
    }
)
WILD_WHEN_SET = frozenset(
    {
        "secure_key",
        "passwd",
        "last_passwd_gen",
        "reset_password_validity",
        "newsletter_date_add",
        "invoice_date",
        "delivery_date",
        "invoice_number",
        "delivery_number",
    }
)
EMPTY_VALUES = ("", "0", "0000-00-00", "0000-00-00 00:00:00", None, 0)


# --- bindings and templating ------------------------------------------------


@dataclass
class Bindings:
    """Placeholders: what the real shop gave (recorded) and what we got."""

    recorded: dict[str, tuple[str, str]] = field(default_factory=dict)
    actual: dict[str, str] = field(default_factory=dict)

    def placeholder_for(self, kind: str, value: str) -> str | None:
        for name, (recorded_value, recorded_kind) in self.recorded.items():
            if recorded_kind == kind and recorded_value == value:
                return name
        return None

    def fill(self, text: str, key: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "key":
                return key
            return self.actual.get(name, f"<unbound {name}>")

        return PLACEHOLDER.sub(replace, text)


class Comparer:
    """Compares a recorded value with ours, through ids, bindings, wildcards."""

    def __init__(self, bindings: Bindings) -> None:
        self.bindings = bindings

    def expected(self, kind: str | None, recorded: str) -> str | None:
        """What we must answer for a recorded value; None means anything."""
        if kind == "order_reference":
            return self._expected_reference(recorded)
        if kind not in CREATED_TYPES or recorded in ("", "0"):
            return recorded
        if not recorded.lstrip("-").isdigit():
            return recorded
        if int(recorded) in BUILT_IN.get(kind, set()):
            return recorded
        name = self.bindings.placeholder_for(kind, recorded)
        if name is None:
            # A server-assigned id no step bound: any value will do.
            return None
        # Bound by a later step only (stock rows listed before being read):
        # nothing to compare with yet.
        return self.bindings.actual.get(name)

    def _expected_reference(self, recorded: str) -> str | None:
        """A bound order reference goes through its placeholder; an unbound
        one is compared literally."""
        name = self.bindings.placeholder_for("order_reference", recorded)
        if name is None:
            return recorded
        return self.bindings.actual.get(name)

    def same(self, kind: str | None, recorded: str, actual: str) -> bool:
        want = self.expected(kind, recorded)
        return want is None or want == actual

    def same_field(self, name: str, recorded: str, actual: str) -> bool:
        if name in ALWAYS_WILD:
            return True
        if name in WILD_WHEN_SET and recorded not in EMPTY_VALUES:
            return actual not in EMPTY_VALUES
        if name in ("reference", "order_reference"):
            if self.bindings.placeholder_for("order_reference", recorded):
                return self.same("order_reference", recorded, actual)
            return recorded == actual
        if name == "delivery_option":
            return self._same_delivery_option(recorded, actual)
        return self.same(FIELD_TYPES.get(name), recorded, actual)

    def _same_delivery_option(self, recorded: str, actual: str) -> bool:
        try:
            want, got = json.loads(recorded), json.loads(actual)
        except ValueError:
            return recorded == actual
        if not isinstance(want, dict) or not isinstance(got, dict):
            return want == got
        if len(want) != len(got):
            return False
        for (k1, v1), (k2, v2) in zip(want.items(), got.items(), strict=True):
            if not self.same("addresses", k1, k2) or v1 != v2:
                return False
        return True

    def same_href(self, recorded: str, actual: str) -> bool:
        want = _api_path(recorded).split("/")
        got = _api_path(actual).split("/")
        if len(want) != len(got):
            return False
        kind = None
        for index, (w, g) in enumerate(zip(want, got, strict=True)):
            base, _, query_w = w.partition("?")
            g_base, _, query_g = g.partition("?")
            if query_w != query_g:
                return False
            if base.isdigit():
                kind = _href_kind(want, index)
                if not self.same(kind, base, g_base):
                    return False
            elif base != g_base:
                return False
        return True


def _api_path(href: str) -> str:
    marker = href.find("/api")
    return href[marker + 4 :] if marker >= 0 else href


def _href_kind(parts: list[str], index: int) -> str | None:
    previous = parts[index - 1] if index else ""
    if previous.isdigit() and index >= 2 and parts[index - 2] == "products":
        return "images"
    if parts[1:2] == ["images"] and previous == "products":
        return "products"
    return NODE_TYPES.get(previous, previous)


# --- tree comparison ---------------------------------------------------------


def compare_xml(comparer: Comparer, recorded: str, actual: str) -> list[str]:
    try:
        want = ET.fromstring(recorded.encode())
    except ET.ParseError as exc:
        return [f"recorded XML does not parse: {exc}"]
    try:
        got = ET.fromstring(actual.encode())
    except ET.ParseError as exc:
        return [f"answer is not XML: {exc}: {actual[:200]!r}"]
    problems: list[str] = []
    _compare_element(comparer, want, got, None, "", problems)
    return problems


def _compare_element(
    comparer: Comparer,
    want: ET.Element,
    got: ET.Element,
    parent: ET.Element | None,
    path: str,
    problems: list[str],
) -> None:
    here = f"{path}/{want.tag}"
    if want.tag != got.tag:
        problems.append(f"{here}: element <{got.tag}> instead of <{want.tag}>")
        return
    _compare_attributes(comparer, want, got, here, problems)
    if len(want) == 0 and len(got) == 0:
        if not _same_text(comparer, want, parent, want.text or "", got.text or ""):
            problems.append(
                f"{here}: {got.text or ''!r} instead of {want.text or ''!r}"
            )
        return
    want_children, got_children = list(want), list(got)
    if [c.tag for c in want_children] != [c.tag for c in got_children]:
        problems.append(
            f"{here}: children {[c.tag for c in got_children]} instead of "
            f"{[c.tag for c in want_children]}"
        )
        return
    for w, g in zip(want_children, got_children, strict=True):
        _compare_element(comparer, w, g, want, here, problems)


def _same_text(
    comparer: Comparer,
    element: ET.Element,
    parent: ET.Element | None,
    want: str,
    got: str,
) -> bool:
    if element.tag == "id":
        return comparer.same(
            NODE_TYPES.get(parent.tag) if parent is not None else None, want, got
        )
    if element.tag == "language":
        return want == got
    return comparer.same_field(element.tag, want, got)


def _compare_attributes(
    comparer: Comparer,
    want: ET.Element,
    got: ET.Element,
    here: str,
    problems: list[str],
) -> None:
    if set(want.attrib) != set(got.attrib):
        problems.append(
            f"{here}: attributes {sorted(got.attrib)} instead of {sorted(want.attrib)}"
        )
        return
    for name, value in want.attrib.items():
        actual = got.attrib[name]
        if name == XLINK_HREF:
            ok = comparer.same_href(value, actual)
        elif name == "id":
            ok = comparer.same(NODE_TYPES.get(want.tag), value, actual)
        elif name == "shopName":
            ok = True
        else:
            ok = value == actual
        if not ok:
            problems.append(f"{here}@{name}: {actual!r} instead of {value!r}")


def compare_json(comparer: Comparer, recorded: Any, actual: Any) -> list[str]:
    problems: list[str] = []
    _compare_json(comparer, recorded, actual, None, None, "$", problems)
    return problems


def _compare_json(
    comparer: Comparer,
    want: Any,
    got: Any,
    key: str | None,
    owner: str | None,
    path: str,
    problems: list[str],
) -> None:
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(want) != set(got):
            problems.append(f"{path}: keys {_keys(got)} instead of {_keys(want)}")
            return
        # Children know the key that holds them: an "id" is typed by it.
        for name in want:
            _compare_json(
                comparer, want[name], got[name], name, key, f"{path}.{name}", problems
            )
        return
    if isinstance(want, list):
        if not isinstance(got, list) or len(want) != len(got):
            problems.append(f"{path}: {_short(got)} instead of {_short(want)}")
            return
        for index, (w, g) in enumerate(zip(want, got, strict=True)):
            _compare_json(comparer, w, g, key, owner, f"{path}[{index}]", problems)
        return
    if type(want) is not type(got):
        problems.append(
            f"{path}: {got!r} ({type(got).__name__}) instead of {want!r} "
            f"({type(want).__name__})"
        )
        return
    if isinstance(want, bool) or want is None:
        if want != got:
            problems.append(f"{path}: {got!r} instead of {want!r}")
        return
    if not _same_json_scalar(comparer, key, owner, str(want), str(got)):
        problems.append(f"{path}: {got!r} instead of {want!r}")


def _same_json_scalar(
    comparer: Comparer, key: str | None, owner: str | None, want: str, got: str
) -> bool:
    if key == "id":
        return comparer.same(NODE_TYPES.get(owner or ""), want, got)
    if key is None:
        return want == got
    return comparer.same_field(key, want, got)


def _keys(value: Any) -> Any:
    return sorted(value) if isinstance(value, dict) else type(value).__name__


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) < 120 else text[:117] + "..."


# --- reading answers -----------------------------------------------------------


def parse_answer(body: str) -> tuple[str, Any]:
    """('xml', Element) / ('json', value) / ('text', str)."""
    stripped = body.lstrip()
    if stripped.startswith("<"):
        try:
            return "xml", ET.fromstring(body.encode())
        except ET.ParseError:
            return "text", body
    if stripped.startswith(("{", "[")):
        try:
            return "json", json.loads(body)
        except ValueError:
            return "text", body
    return "text", body


def entities(kind: str, parsed: Any) -> tuple[bool, list[dict[str, Any]]]:
    """(is_list, [{field: value}]) of an answer, whatever its format."""
    if kind == "xml":
        if len(parsed) == 0:
            return False, []
        top = parsed[0]
        if top.tag == "errors":
            return False, []
        listed = (
            len(top) > 0
            and (top[0].get("id") is not None or top[0].find("id") is not None)
            and top.find("id") is None
        )
        items = list(top) if listed else [top]
        return listed, [_xml_fields(item) for item in items]
    if kind == "json":
        if isinstance(parsed, list):
            return True, []
        if not isinstance(parsed, dict) or not parsed or "errors" in parsed:
            return False, []
        value = next(iter(parsed.values()))
        if isinstance(value, list):
            return True, [v for v in value if isinstance(v, dict)]
        return False, [value] if isinstance(value, dict) else []
    return False, []


def _xml_fields(element: ET.Element) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if element.get("id") is not None:
        fields["id"] = element.get("id")
    for child in element:
        if len(child) == 0:
            fields[child.tag] = child.text or ""
        elif child.tag != "associations":
            fields[child.tag] = [(c.get("id"), c.text or "") for c in child]
    return fields


def error_list(kind: str, parsed: Any) -> list[tuple[str, str]]:
    if kind == "xml":
        errors = parsed.find("errors")
        if errors is None:
            return []
        return [(e.findtext("code") or "", e.findtext("message") or "") for e in errors]
    if kind == "json" and isinstance(parsed, dict):
        return [
            (str(e.get("code")), str(e.get("message")))
            for e in parsed.get("errors", [])
        ]
    return []


def image_magic(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"GIF8"):
        return "gif"
    return "other"


# --- replaying ----------------------------------------------------------------


@dataclass
class StepResult:
    scenario: str
    step: int
    name: str
    problems: list[str]

    @property
    def passed(self) -> bool:
        return not self.problems


class Replayer:
    def __init__(self, client: httpx.Client, api_root: str, key: str) -> None:
        self.client = client
        self.api_root = api_root.rstrip("/")
        self.key = key

    def run(self, steps: list[dict[str, Any]]) -> list[StepResult]:
        bindings = Bindings()
        for step in steps:
            for name, (value, kind) in (step.get("bind") or {}).items():
                bindings.recorded[name] = (str(value), kind)
        return [self.run_step(step, bindings) for step in steps]

    def run_step(self, step: dict[str, Any], bindings: Bindings) -> StepResult:
        try:
            response = self._send(step["request"], bindings)
        except httpx.HTTPError as exc:
            return StepResult(
                step["scenario"],
                step["step"],
                step["name"],
                [f"request failed: {exc!r}"],
            )
        self._bind(step, response, bindings)
        problems = check(step, response, Comparer(bindings))
        return StepResult(step["scenario"], step["step"], step["name"], problems)

    def _send(self, request: dict[str, Any], bindings: Bindings) -> httpx.Response:
        path = bindings.fill(request["path"], self.key)
        url = self.api_root + path[len("/api") :]
        headers = dict(request.get("headers") or {})
        auth = request.get("auth")
        if auth is not None:
            user = bindings.fill(auth["user"], self.key)
            token = base64.b64encode(f"{user}:{auth['password']}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        content: bytes | None = None
        if request.get("multipart") is not None:
            content = _multipart(request["multipart"], request["boundary"])
            headers["Content-Type"] = (
                f"multipart/form-data; boundary={request['boundary']}"
            )
        elif request.get("body") is not None:
            content = bindings.fill(request["body"], self.key).encode()
        return self.client.request(
            request["method"], httpx.URL(url), headers=headers, content=content
        )

    def _bind(
        self, step: dict[str, Any], response: httpx.Response, bindings: Bindings
    ) -> None:
        if response.status_code >= 300 or not _is_text(response):
            return
        kind, parsed = parse_answer(response.text)
        listed, items = entities(kind, parsed)
        prefix = f"s{step['step']}"
        if listed:
            for index, item in enumerate(items):
                if "id" in item:
                    bindings.actual[f"{prefix}.ids.{index}"] = str(item["id"])
        elif items and "id" in items[0]:
            bindings.actual[f"{prefix}.id"] = str(items[0]["id"])
        if items and "reference" in items[0]:
            bindings.actual[f"{prefix}.reference"] = str(items[0]["reference"])


def _is_text(response: httpx.Response) -> bool:
    return not response.headers.get("content-type", "").startswith("image/")


def _multipart(parts: list[dict[str, Any]], boundary: str) -> bytes:
    chunks: list[bytes] = []
    for part in parts:
        if "data_gz_b64" in part:
            data = gzip.decompress(base64.b64decode(part["data_gz_b64"]))
        else:
            data = base64.b64decode(part.get("data_b64", ""))
        disposition = f'form-data; name="{part["name"]}"'
        if part.get("filename") is not None:
            disposition += f'; filename="{part["filename"]}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if part.get("content_type"):
            head += f"Content-Type: {part['content_type']}\r\n"
        chunks.append(head.encode() + b"\r\n" + data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks)


# --- checks -------------------------------------------------------------------


def check(
    step: dict[str, Any], response: httpx.Response, comparer: Comparer
) -> list[str]:
    recorded = step["response"]
    problems: list[str] = []
    for name in step.get("checks", []):
        problems.extend(_check(name, recorded, response, comparer))
    return problems


def _normal_type(value: str | None) -> str | None:
    return None if value is None else value.replace(" ", "").lower()


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _check(
    name: str, recorded: dict[str, Any], response: httpx.Response, comparer: Comparer
) -> list[str]:
    want_body = recorded.get("body") or ""
    if name == "status":
        ok = response.status_code == recorded["status"]
        return (
            []
            if ok
            else [f"status {response.status_code} instead of {recorded['status']}"]
        )
    if name == "content_type":
        want = _header(recorded["headers"], "Content-Type")
        got = response.headers.get("content-type")
        ok = _normal_type(want) == _normal_type(got)
        return [] if ok else [f"Content-Type {got!r} instead of {want!r}"]
    if name == "psws_version":
        want = _header(recorded["headers"], "PSWS-Version")
        got = response.headers.get("psws-version")
        return [] if want == got else [f"PSWS-Version {got!r} instead of {want!r}"]
    if name == "empty_body":
        return (
            []
            if response.content == b""
            else [f"body not empty: {response.text[:120]!r}"]
        )
    if name == "binary_magic":
        want = recorded.get("binary", {}).get("magic")
        got = image_magic(response.content)
        return [] if want == got else [f"image format {got} instead of {want}"]
    kind_want, want = parse_answer(want_body)
    kind_got, got = parse_answer(response.text)
    if name == "body":
        return _check_body(
            comparer, kind_want, want, kind_got, got, want_body, response.text
        )
    if name == "json_keys":
        return _check_json_keys(kind_want, want, kind_got, got)
    if name == "ids":
        return _check_ids(comparer, kind_want, want, kind_got, got)
    if name.startswith("field:"):
        return _check_field(comparer, name[6:], kind_want, want, kind_got, got)
    if name == "error_codes":
        codes_want = [c for c, _ in error_list(kind_want, want)]
        codes_got = [c for c, _ in error_list(kind_got, got)]
        return (
            []
            if codes_want == codes_got
            else [f"error codes {codes_got} instead of {codes_want}"]
        )
    if name == "error_messages":
        messages_want = [m for _, m in error_list(kind_want, want)]
        messages_got = [m for _, m in error_list(kind_got, got)]
        if messages_want == messages_got:
            return []
        return [f"error messages {messages_got} instead of {messages_want}"]
    return [f"unknown check {name}"]


def _check_body(
    comparer: Comparer,
    kind_want: str,
    want: Any,
    kind_got: str,
    got: Any,
    want_text: str,
    got_text: str,
) -> list[str]:
    if kind_want != kind_got:
        return [f"body is {kind_got} instead of {kind_want}: {got_text[:200]!r}"]
    if kind_want == "xml":
        return compare_xml(comparer, want_text, got_text)
    if kind_want == "json":
        return compare_json(comparer, want, got)
    return (
        [] if want_text == got_text else [f"body {got_text!r} instead of {want_text!r}"]
    )


def _json_keys(kind: str, parsed: Any) -> Any:
    if kind != "json":
        return None
    if isinstance(parsed, list):
        return []
    top = next(iter(parsed), None)
    value = parsed.get(top) if top else None
    first = value[0] if isinstance(value, list) and value else value
    return [top, sorted(first) if isinstance(first, dict) else None]


def _check_json_keys(kind_want: str, want: Any, kind_got: str, got: Any) -> list[str]:
    a, b = _json_keys(kind_want, want), _json_keys(kind_got, got)
    return [] if a == b else [f"JSON keys {b} instead of {a}"]


def _check_ids(
    comparer: Comparer, kind_want: str, want: Any, kind_got: str, got: Any
) -> list[str]:
    _, want_items = entities(kind_want, want)
    _, got_items = entities(kind_got, got)
    want_ids = [str(i.get("id")) for i in want_items]
    got_ids = [str(i.get("id")) for i in got_items]
    kind = _list_kind(kind_want, want)
    ok = len(want_ids) == len(got_ids) and all(
        comparer.same(kind, w, g) for w, g in zip(want_ids, got_ids, strict=True)
    )
    return [] if ok else [f"ids {got_ids} instead of {want_ids}"]


def _list_kind(kind: str, parsed: Any) -> str | None:
    if kind == "xml" and len(parsed):
        return NODE_TYPES.get(parsed[0].tag)
    if kind == "json" and isinstance(parsed, dict) and parsed:
        return NODE_TYPES.get(next(iter(parsed)))
    return None


def _check_field(
    comparer: Comparer, name: str, kind_want: str, want: Any, kind_got: str, got: Any
) -> list[str]:
    _, want_items = entities(kind_want, want)
    _, got_items = entities(kind_got, got)
    if not want_items:
        return [f"field {name}: nothing recorded"]
    if not got_items:
        return [f"field {name}: no entity in the answer"]
    if name not in want_items[0] or name not in got_items[0]:
        # JSON leaves empty values out: absent must stay absent.
        both_absent = name not in want_items[0] and name not in got_items[0]
        return [] if both_absent else [f"field {name}: present on one side only"]
    w, g = want_items[0].get(name), got_items[0][name]
    if isinstance(w, list) or isinstance(g, list):
        ok = _same_language_values(w, g)
    elif name == "id":
        ok = comparer.same(_list_kind(kind_want, want), str(w), str(g))
    else:
        ok = comparer.same_field(name, _text(w), _text(g))
    return [] if ok else [f"field {name}: {g!r} instead of {w!r}"]


def _same_language_values(want: Any, got: Any) -> bool:
    def norm(value: Any) -> Any:
        if isinstance(value, list):
            return [
                (str(i.get("id")), i.get("value"))
                if isinstance(i, dict)
                else (str(i[0]), i[1])
                for i in value
            ]
        return value

    return bool(norm(want) == norm(got))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


# --- command line ---------------------------------------------------------------


def load_steps(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def report(results: Iterable[StepResult]) -> tuple[int, int, list[str]]:
    passed = failed = 0
    lines: list[str] = []
    for result in results:
        if result.passed:
            passed += 1
            continue
        failed += 1
        lines.append(f"FAIL {result.scenario} step {result.step} ({result.name}):")
        lines.extend(f"    {problem}" for problem in result.problems)
    return passed, failed, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", required=True, help="API root, e.g. http://127.0.0.1:8081/api"
    )
    parser.add_argument("--key", required=True, help="webservice key")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    total_passed = total_failed = 0
    with httpx.Client(timeout=60) as client:
        replayer = Replayer(client, args.url, args.key)
        for path in args.files:
            passed, failed, lines = report(replayer.run(load_steps(path)))
            total_passed += passed
            total_failed += failed
            for line in lines:
                print(line)
    print(f"{total_passed} passed, {total_failed} failed")
    return 0 if total_failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
