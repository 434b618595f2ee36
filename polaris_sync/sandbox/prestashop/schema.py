"""The root listing (`/api/`) and the `schema=blank|synopsis` documents."""

from __future__ import annotations

from . import registry
from .engine import Answer, Context, xml_or_json
from .errors import EmptyAnswer, ParameterError, WsError
from .model import Association, Field, Resource
from .render import document
from .xmlio import XML_CONTENT_TYPE, attributes, cdata, parse_body

SHOP_NAME = "Polaris Sandbox"


def root(ctx: Context, method: str, body: bytes) -> Answer:
    if method in ("PUT", "PATCH"):
        if any(not one.values.get("id") for one in parse_body(body)):
            raise WsError(400, (90, "id is required when modifying a resource"))
    if method not in ("GET", "HEAD") or ctx.as_json:
        # 8.1.2 fails on these: a 500 with nothing in it.
        raise EmptyAnswer(500, "text/html; charset=utf-8")
    return Answer(200, document(_listing(ctx)), XML_CONTENT_TYPE)


def _listing(ctx: Context) -> str:
    """Every resource the key may touch, with its rights (no PATCH before 8.0)."""
    methods = ["get", "put", "post", "patch", "delete", "head"]
    if not ctx.shop.patch_allowed:
        methods.remove("patch")
    lines = [f'<api shopName="{SHOP_NAME}">\n']
    for name, description in registry.RESOURCE_INDEX.items():
        granted = ctx.shop.granted(name)
        if not granted:
            continue
        flags = {m: "true" if m.upper() in granted else "false" for m in methods}
        link = f"{ctx.base}/{name}"
        attrs = attributes({"xlink:href": link, **flags})
        lines.append(
            f"<{name}{attrs}>\n<description{attrs}>\n{description}</description>\n"
        )
        if name not in registry.WITHOUT_SCHEMA:
            for kind in ("blank", "synopsis"):
                lines.append(
                    f'<schema xlink:href="{link}?schema={kind}" type="{kind}"/>\n'
                )
        lines.append(f"</{name}>\n")
    lines.append("</api>\n")
    return "".join(lines)


def resource_schema(ctx: Context, resource: Resource, kind: str) -> Answer:
    if kind not in ("blank", "synopsis"):
        raise ParameterError(
            28,
            "Please select a schema of type 'synopsis' to get the whole schema "
            "informations (which fields are required, which kind of content...) or "
            "'blank' to get an empty schema to fill before using POST request",
        )
    synopsis = kind == "synopsis"
    lines = [f"<{resource.node}>\n"]
    if not synopsis:
        lines.append(f"\t<id>{cdata('')}</id>\n")
    for field in resource.fields:
        if field.read_only and not synopsis or field.blank_hidden and not synopsis:
            continue
        lines.append(_field(ctx, field, synopsis))
    if resource.associations:
        lines.append("<associations>\n")
        lines.extend(_association(ctx, a, synopsis) for a in resource.associations)
        lines.append("</associations>\n")
    lines.append(f"</{resource.node}>\n")
    payload = {
        resource.node: {
            "associations": {
                a.name: [{f.name: None for f in a.fields}]
                for a in resource.associations
            }
        }
    }
    return xml_or_json(ctx, 200, "".join(lines), payload)


def _field(ctx: Context, field: Field, synopsis: bool) -> str:
    attrs: dict[str, str] = {}
    if synopsis:
        if field.required:
            attrs["required"] = "true"
        if field.max_size:
            attrs["maxSize"] = str(field.max_size)
        if field.validator:
            attrs["format"] = field.validator
        if field.virtual:
            attrs["notFilterable"] = "true"
        if field.read_only:
            attrs["read_only"] = "true"
            attrs["readOnly"] = "true"
    if not field.ml:
        return f"\t<{field.name}{attributes(attrs)}>{cdata('')}</{field.name}>\n"
    languages = []
    for lang in ctx.output_languages:
        lang_attrs = {"id": str(lang)}
        if synopsis:
            lang_attrs["xlink:href"] = f"{ctx.base}/languages/{lang}"
            lang_attrs["format"] = "isUnsignedId"
        languages.append(f"<language{attributes(lang_attrs)}>{cdata('')}</language>")
    return f"\t<{field.name}{attributes(attrs)}>{''.join(languages)}</{field.name}>\n"


def _association(ctx: Context, association: Association, synopsis: bool) -> str:
    attrs = {"nodeType": association.node, "api": association.api} if synopsis else {}
    lines = [f"<{association.name}{attributes(attrs)}>\n", f"\t<{association.node}>\n"]
    for assoc_field in association.fields:
        field_attrs: dict[str, str] = {}
        if synopsis and assoc_field.ref:
            field_attrs["xlink:href"] = f"{ctx.base}/{assoc_field.ref}/"
        if synopsis and assoc_field.required:
            field_attrs["required"] = "true"
        lines.append(
            f"\t<{assoc_field.name}{attributes(field_attrs)}>{cdata('')}"
            f"</{assoc_field.name}>\n"
        )
    lines.append(f"\t</{association.node}>\n</{association.name}>\n")
    return "".join(lines)
