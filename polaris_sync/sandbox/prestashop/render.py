"""Entities to XML and JSON, in the shapes and with the types PrestaShop prints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .model import Association, Entity, Field, Resource, empty_value, id_field
from .query import Display
from .values import json_value, printed
from .xmlio import XML_HEAD, XML_TAIL, attributes, cdata

if TYPE_CHECKING:
    from .engine import Context


def field_value(ctx: Context, resource: Resource, entity: Entity, field: Field) -> Any:
    """The value to print: a render-time getter, else what the object holds."""
    getter = resource.hooks.getters.get(field.name)
    if field.virtual and not field.loaded and getter is not None:
        return getter(ctx, entity)
    return entity.get(field.name)


def selected_fields(resource: Resource, display: Display) -> list[Field]:
    if display.fields and not display.full:
        wanted = set(display.fields)
        return [f for f in (id_field(), *resource.fields) if f.name in wanted]
    return [id_field(), *resource.fields]


def selected_associations(
    resource: Resource, display: Display
) -> list[tuple[Association, list[str]]]:
    if display.fields or display.associations:
        return [
            (a, display.associations[a.name])
            for a in resource.associations
            if a.name in display.associations
        ]
    return [(a, []) for a in resource.associations]


def association_items(
    ctx: Context, entity: Entity, association: Association
) -> list[dict[str, Any]]:
    if association.getter is not None:
        return association.getter(ctx, entity)
    return list(entity.get("_assoc", {}).get(association.name, []))


# --- XML --------------------------------------------------------------------


def href(ctx: Context, field: Field, entity: Entity, value: Any) -> str | None:
    blank = value is None or value == ""
    if field.ref is None:
        return None
    if empty_value(value) and not (field.href_when_blank and blank):
        return None
    path = field.ref.format(value=printed(value), id=entity.get("id"))
    if "{" not in field.ref:
        path = f"{field.ref}/{printed(value)}"
    return f"{ctx.base}/{path}"


def entity_xml(
    ctx: Context,
    resource: Resource,
    entity: Entity,
    display: Display,
    echo: bool = False,
) -> str:
    lines = [f"<{resource.node}>\n"]
    for field in selected_fields(resource, display):
        lines.append(_field_xml(ctx, resource, entity, field, echo))
    for name, value in _extra_fields(ctx, resource, entity, display):
        lines.append(f"\t<{name}>{cdata(value)}</{name}>\n")
    associations = selected_associations(resource, display)
    if associations:
        lines.append("<associations>\n")
        for association, sub in associations:
            items = association_items(ctx, entity, association)
            lines.append(
                association_xml(ctx, association, items, sub, entity.get("id"))
            )
        lines.append("</associations>\n")
    lines.append(f"</{resource.node}>\n")
    return "".join(lines)


def _field_xml(
    ctx: Context, resource: Resource, entity: Entity, field: Field, echo: bool
) -> str:
    value = field_value(ctx, resource, entity, field)
    if field.ml:
        return f"\t<{field.name}>{ml_xml(ctx, value)}</{field.name}>\n"
    attrs: dict[str, str] = {}
    link = href(ctx, field, entity, value)
    if link:
        attrs["xlink:href"] = link
    if field.virtual:
        attrs["notFilterable"] = "true"
    return (
        f"\t<{field.name}{attributes(attrs)}>{cdata(printed(value, field.decimals))}"
        f"</{field.name}>\n"
    )


def _extra_fields(
    ctx: Context, resource: Resource, entity: Entity, display: Display
) -> list[tuple[str, str]]:
    # Not printed when display lists the fields.
    compute = resource.hooks.extra_fields
    if compute is None or (display.fields and not display.full):
        return []
    return compute(ctx, entity)


def ml_xml(ctx: Context, value: dict[int, str] | None) -> str:
    """Languages of a multilingual value; unset values carry no xlink."""
    parts = []
    for lang in ctx.output_languages:
        if value is None:
            parts.append(f'<language id="{lang}">{cdata("")}</language>')
        else:
            link = f"{ctx.base}/languages/{lang}"
            text = printed(value.get(lang, ""))
            parts.append(
                f'<language id="{lang}" xlink:href="{link}">{cdata(text)}</language>'
            )
    return "".join(parts)


def association_xml(
    ctx: Context,
    association: Association,
    items: list[dict[str, Any]],
    sub: list[str],
    owner: Any = None,
) -> str:
    attrs = {"nodeType": association.node, "api": association.api}
    if association.virtual_entity:
        attrs = {"nodeType": association.node, "virtualEntity": "true"}
    if not items:
        return f"<{association.name}{attributes(attrs)}/>\n"
    lines = [f"<{association.name}{attributes(attrs)}>\n"]
    for item in items:
        lines.append(_item_xml(ctx, association, item, sub, owner))
    lines.append(f"</{association.name}>\n")
    return "".join(lines)


def _item_xml(
    ctx: Context,
    association: Association,
    item: dict[str, Any],
    sub: list[str],
    owner: Any,
) -> str:
    item_attrs = {}
    first = association.fields[0].name
    if association.item_ref and not empty_value(item.get(first)):
        # item_ref may name the owner, e.g. "images/products/{owner}".
        base = association.item_ref.format(owner=owner)
        item_attrs["xlink:href"] = f"{ctx.base}/{base}/{item[first]}"
    lines = [f"\t<{association.node}{attributes(item_attrs)}>\n"]
    for assoc_field in association.fields:
        if sub and assoc_field.name not in sub:
            continue
        value = item.get(assoc_field.name, "")
        attrs = {}
        if assoc_field.ref and (assoc_field.always_href or not empty_value(value)):
            attrs["xlink:href"] = f"{ctx.base}/{assoc_field.ref}/{value}"
        lines.append(
            f"\t<{assoc_field.name}{attributes(attrs)}>{cdata(printed(value))}"
            f"</{assoc_field.name}>\n"
        )
    lines.append(f"\t</{association.node}>\n")
    return "".join(lines)


def document(inner: str) -> str:
    return XML_HEAD + inner + XML_TAIL


def list_xml(
    ctx: Context, resource: Resource, entities: list[Entity], display: Display
) -> str:
    lines = [f"<{resource.list_node}>\n"]
    if not display.given or display.minimum:
        for entity in entities:
            link = f"{ctx.base}/{resource.list_node}/{entity['id']}"
            lines.append(
                f'<{resource.node} id="{entity["id"]}" xlink:href="{link}"/>\n'
            )
    else:
        for entity in entities:
            lines.append(entity_xml(ctx, resource, entity, display))
    lines.append(f"</{resource.list_node}>\n")
    return "".join(lines)


# --- JSON -------------------------------------------------------------------


def entity_json(
    ctx: Context,
    resource: Resource,
    entity: Entity,
    display: Display,
    omit_empty: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in selected_fields(resource, display):
        value = field_value(ctx, resource, entity, field)
        if field.ml:
            out[field.name] = ml_json(ctx, value)
            continue
        # A stored decimal reads "0.000000" in PHP, which is not empty.
        if omit_empty and empty_value(value) and not isinstance(value, float):
            continue
        out[field.name] = json_value(field, value)
    if resource.hooks.json_types is not None:
        resource.hooks.json_types(ctx, entity, out)
    out.update(_extra_fields(ctx, resource, entity, display))
    associations = {}
    for association, sub in selected_associations(resource, display):
        items = association_items(ctx, entity, association)
        if items:
            associations[association.name] = [_item_json(item, sub) for item in items]
    if associations:
        out["associations"] = associations
    return out


def ml_json(ctx: Context, value: dict[int, str] | None) -> Any:
    languages = ctx.output_languages
    texts = [printed((value or {}).get(lang, "")) for lang in languages]
    if len(languages) == 1:
        return texts[0]
    return [
        {"id": lang, "value": text} for lang, text in zip(languages, texts, strict=True)
    ]


def _item_json(item: dict[str, Any], sub: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in item.items():
        if sub and key not in sub:
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            # Typed item values (rows read from another table) keep their type.
            out[key] = value
            continue
        text = printed(value)
        is_id = key == "id" or key.startswith("id_")
        out[key] = int(text) if is_id and text.lstrip("-").isdigit() else text
    return out
