"""XML bodies and lenient parsing of the shop's answers."""

import xml.etree.ElementTree as ET

import pytest

from polaris_sync.prestashop import xml


def test_body_escapes_text_and_writes_every_language():
    body = xml.build_body(
        "products",
        {
            "price": 19.9,
            "active": True,
            "name": {1: "Tee & <Polo>", 2: 'T-shirt "été" ]]>'},
            "associations": {"categories": [{"id": 2}, {"id": 10}]},
            "reference": "A<B>&C",
        },
    )
    root = ET.fromstring(body)
    product = root.find("product")
    assert product is not None
    assert product.findtext("price") == "19.9"
    assert product.findtext("active") == "1"
    assert product.findtext("reference") == "A<B>&C"
    assert b"A&lt;B&gt;&amp;C" in body
    names = {lang.get("id"): lang.text for lang in product.find("name")}
    assert names == {"1": "Tee & <Polo>", "2": 'T-shirt "été" ]]>'}
    ids = [
        c.findtext("id") for c in product.iterfind("associations/categories/category")
    ]
    assert ids == ["2", "10"]
    # No pretty-printing whitespace: validators such as isEan13 keep it.
    assert b"\n" not in body.split(b"<prestashop>", 1)[1]


def test_numbers_never_use_exponents_nor_more_than_six_decimals():
    assert xml.format_value(1e-7) == "0"
    assert xml.format_value(12.5) == "12.5"
    assert xml.format_value(1 / 3) == "0.333333"
    assert xml.format_value(1000000.0) == "1000000"


def test_control_characters_are_removed_from_values():
    body = xml.build_body("products", {"reference": "AB\x0bC"})
    assert ET.fromstring(body).findtext("product/reference") == "ABC"


def test_none_leaves_the_field_out():
    body = xml.build_body("products", {"id": 3, "ean13": None})
    assert ET.fromstring(body).find("product/ean13") is None


def test_an_empty_association_item_is_refused_before_sending():
    """Pitfall B1: an empty <id/> inserts a phantom combination."""
    with pytest.raises(ValueError):
        xml.build_body("products", {"associations": {"categories": [{"id": ""}]}})


def test_node_names_of_irregular_resources():
    assert xml.node_name("categories") == "category"
    assert xml.node_name("order_histories") == "order_history"
    assert xml.node_name("stock_availables") == "stock_available"
    assert xml.node_name("addresses") == "address"


def test_php_notice_before_the_document_is_skipped():
    text = (
        "<b>Deprecated</b>: something in module.php\n"
        '<?xml version="1.0"?><prestashop><product><id><![CDATA[4]]></id>'
        '<name><language id="1"><![CDATA[A\x0bB]]></language></name>'
        "<associations><categories><category><id>2</id></category></categories>"
        "</associations></product></prestashop>"
    )
    entity = xml.entity_from_xml(xml.parse_xml(text).find("product"))
    assert entity == {
        "id": "4",
        "name": {1: "AB"},
        "associations": {"categories": [{"id": "2"}]},
    }


def test_error_codes_skip_php_warnings_for_the_message():
    text = (
        '<?xml version="1.0"?><prestashop><errors>'
        "<error><code><![CDATA[3]]></code><message>[PHP Warning #2] x</message></error>"
        "<error><code><![CDATA[85]]></code><message><![CDATA[Validation error: "
        '"Property Product-&gt;ean13 is not valid"]]></message></error>'
        "</errors></prestashop>"
    )
    codes, message = xml.error_codes(text)
    assert codes == (3, 85)
    assert message == 'Validation error: "Property Product->ean13 is not valid"'


def test_json_error_codes():
    codes, message = xml.error_codes('{"errors":[{"code":27,"message":"nope"}]}')
    assert codes == (27,)
    assert message == "nope"


def test_empty_error_body_has_no_codes():
    assert xml.error_codes("") == ((), "")
