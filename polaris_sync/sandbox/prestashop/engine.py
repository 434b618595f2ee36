"""Generic resource handling: list, read, create, replace, patch, delete.

Follows PrestaShop's ObjectModel rules: PUT resets every absent field, PATCH
leaves it alone, read-only fields are refused (93), required ones enforced
(41), multilingual fields checked first (84) then scalars (85), associations
written after the save, and write answers echo the object as held in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import render
from .errors import EmptyAnswer, WsError, validation_error
from .model import Entity, Field, Resource, empty_value
from .query import Display, build_filters, build_limit, build_order, parse_display
from .store import Store
from .values import is_valid, to_stored
from .xmlio import Submitted, dumps, parse_body

if TYPE_CHECKING:
    from .shop import Shop


@dataclass
class Context:
    """One request: the shop, where hrefs point, and the output options."""

    shop: Shop
    base: str
    method: str
    params: list[tuple[str, str]] = field(default_factory=list)
    as_json: bool = False
    output_languages: list[int] = field(default_factory=list)
    # The highest combination id when the request arrived: what its default
    # combination bookkeeping can see (see catalog.default_seen_by).
    combinations_seen: int | None = None

    @property
    def store(self) -> Store:
        return self.shop.store

    def param(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return None

    def now(self) -> str:
        """The shop's wall clock (PS_TIMEZONE), as its dates are written."""
        return self.shop.local_time().strftime("%Y-%m-%d %H:%M:%S")

    def resource(self, name: str) -> Resource:
        return self.shop.resources[name]


# PSWS-Version header value to send: the shop's version unless overridden.
SHOP_VERSION = "shop"


@dataclass
class Answer:
    status: int
    body: str
    content_type: str | None
    version_header: str | None = SHOP_VERSION
    headers: dict[str, str] = field(default_factory=dict)
    # Binary answers (image bytes) instead of text.
    data: bytes | None = None


def xml_or_json(ctx: Context, status: int, xml: str, payload: Any) -> Answer:
    if ctx.as_json:
        return Answer(status, dumps(payload), "application/json")
    return Answer(status, render.document(xml), "text/xml;charset=utf-8")


# --- reading ----------------------------------------------------------------


def load(ctx: Context, resource: Resource, entity_id: int) -> Entity | None:
    entity = ctx.store.get(resource, entity_id)
    if entity is None:
        return None
    return with_loaded_virtuals(ctx, resource, entity)


def with_loaded_virtuals(ctx: Context, resource: Resource, entity: Entity) -> Entity:
    for f in resource.fields:
        getter = resource.hooks.getters.get(f.name)
        if f.virtual and f.loaded and getter is not None:
            entity[f.name] = getter(ctx, entity)
    return entity


def get_list(ctx: Context, resource: Resource) -> Answer:
    display = parse_display(resource, ctx.param("display"))
    date_enabled = ctx.param("date") == "1"
    where, args = build_filters(
        resource, ctx.params, date_enabled, ctx.output_languages
    )
    if resource.in_shop:
        where = f"({where}) AND ({resource.in_shop})"
    default_language = ctx.shop.default_language
    order = build_order(resource, ctx.param("sort"), date_enabled, default_language)
    limit = build_limit(ctx.param("limit"))
    if not display.given or display.minimum:
        ids = ctx.store.select_ids(resource, where, args, order, limit)
        entities: list[Entity] = [{"id": i} for i in ids]
    else:
        rows = ctx.store.select(resource, where, args, order, limit)
        entities = [with_loaded_virtuals(ctx, resource, e) for e in rows]
    if ctx.param("sort") is None and ctx.shop.unsorted_order is not None:
        ctx.shop.unsorted_order.shuffle(entities)
    return _list_answer(ctx, resource, entities, display)


def _list_answer(
    ctx: Context, resource: Resource, entities: list[Entity], display: Display
) -> Answer:
    if not ctx.as_json:
        return xml_or_json(
            ctx, 200, render.list_xml(ctx, resource, entities, display), None
        )
    if not entities:
        return Answer(200, "[]", "application/json")
    if not display.given or display.minimum:
        items = [{"id": e["id"]} for e in entities]
    else:
        items = [
            render.entity_json(ctx, resource, e, display, omit_empty=False)
            for e in entities
        ]
    return xml_or_json(ctx, 200, "", {resource.list_node: items})


def get_one(ctx: Context, resource: Resource, entity_id: int) -> Answer:
    display = parse_display(resource, ctx.param("display"))
    entity = load(ctx, resource, entity_id)
    if entity is None:
        raise EmptyAnswer(404)
    if resource.in_shop and not ctx.store.select_ids(
        resource, f"t.id = ? AND ({resource.in_shop})", (entity_id,)
    ):
        raise WsError(
            404,
            (
                131,
                f'Resource of type "{resource.name}" with id "{entity_id}" is '
                "not associated with the shop in context",
            ),
        )
    if display.given and not display.full:
        # XML prints the entity itself; JSON puts it in a list under the
        # plural key.
        if ctx.as_json:
            row = render.entity_json(ctx, resource, entity, display, omit_empty=False)
            return xml_or_json(ctx, 200, "", {resource.list_node: [row]})
        return xml_or_json(
            ctx, 200, render.entity_xml(ctx, resource, entity, display), None
        )
    return _full_answer(ctx, resource, [entity], 200, echo=False)


# --- writing ----------------------------------------------------------------


def write(ctx: Context, resource: Resource, body: bytes, method: str) -> Answer:
    submitted = parse_body(body)
    _check_ids(ctx, resource, submitted, method)
    saved: list[Entity] = []
    with ctx.store.transaction():
        for one in submitted:
            saved.append(save_one(ctx, resource, one, method))
    return _write_answer(ctx, resource, saved, 201 if method == "POST" else 200)


def _check_ids(
    ctx: Context, resource: Resource, submitted: list[Submitted], method: str
) -> None:
    seen: set[str] = set()
    for one in submitted:
        given = one.values.get("id")
        if method == "POST":
            if given:
                raise WsError(400, (91, "id is forbidden when adding a new resource"))
            continue
        if not given:
            raise WsError(400, (90, "id is required when modifying a resource"))
        if given in seen:
            raise WsError(400, (89, "id is duplicate in request"))
        seen.add(str(given))
    if method == "POST":
        return
    for one in submitted:
        entity_id = int(str(one.values["id"])) if str(one.values["id"]).isdigit() else 0
        if ctx.store.get(resource, entity_id) is None:
            raise WsError(404, (92, "Invalid ID"))


def save_one(ctx: Context, resource: Resource, one: Submitted, method: str) -> Entity:
    if method == "POST":
        entity: Entity = {"_assoc": {}}
    else:
        loaded = load(ctx, resource, int(str(one.values["id"])))
        assert loaded is not None
        entity = loaded
    apply_values(ctx, resource, entity, one, method)
    entity["_submitted"] = one
    _check_associations(resource, one)
    hooks = resource.hooks
    if hooks.before_validate:
        hooks.before_validate(ctx, entity, method)
    validate(ctx, resource, entity)
    if hooks.before_save:
        hooks.before_save(ctx, entity, method)
    _stamp_dates(ctx, resource, entity, method)
    store_entity(ctx, resource, entity, method)
    _write_associations(ctx, resource, entity, one)
    if hooks.after_save:
        hooks.after_save(ctx, entity, method)
    del entity["_submitted"]
    return entity


def apply_values(
    ctx: Context, resource: Resource, entity: Entity, one: Submitted, method: str
) -> None:
    languages = ctx.shop.languages
    for f in resource.fields:
        if f.name in one.values:
            if f.read_only:
                raise WsError(
                    400,
                    (
                        93,
                        f'parameter "{f.name}" not writable. Please remove this '
                        "attribute of this XML",
                    ),
                )
            entity[f.name] = _submitted_value(f, one, languages)
        elif method != "PATCH":
            if f.required and not f.ml:
                raise WsError(400, (41, f'parameter "{f.name}" required'))
            if not f.virtual or f.loaded:
                entity[f.name] = None
        if f.default is not None and empty_value(entity.get(f.name)):
            entity[f.name] = f.default
        if f.ml and f.name in one.values:
            entity[f.name] = _fill_languages(f, entity[f.name], languages, method)


def _submitted_value(f: Field, one: Submitted, languages: list[int]) -> Any:
    value = one.values[f.name]
    if f.ml and isinstance(value, str):
        return {lang: value for lang in languages}
    if not f.ml and isinstance(value, dict):
        return next(iter(value.values()), "")
    return value


def _fill_languages(
    f: Field, value: dict[int, str], languages: list[int], method: str
) -> dict[int, str]:
    filled = {lang: value.get(lang, "") for lang in languages}
    if method == "POST" and f.required:
        fallback = value.get(languages[0], "")
        filled = {lang: value.get(lang, fallback) for lang in languages}
    return filled


def _check_associations(resource: Resource, one: Submitted) -> None:
    for name in one.associations or {}:
        if name not in resource.assoc_by_name:
            raise WsError(400, (86, f'The association "{name}" does not exists'))


def validate(ctx: Context, resource: Resource, entity: Entity) -> None:
    """First failing field only: multilingual ones (84), then scalars (85)."""
    for f in resource.fields:
        if f.ml and not f.virtual:
            _validate_ml(ctx, resource, f, entity.get(f.name))
    for f in resource.fields:
        if not f.ml and not f.virtual and not f.read_only:
            _validate_scalar(resource, f, entity.get(f.name))


def _validate_ml(
    ctx: Context, resource: Resource, f: Field, value: dict[int, str] | None
) -> None:
    prop = f"{resource.class_name}-&gt;{f.name}"
    texts = value or {}
    if f.required and value is None:
        # Absent altogether (an order state posted without a name).
        raise validation_error(84, f"Property {prop} is empty.")
    if f.required and not texts.get(ctx.shop.default_language):
        raise validation_error(84, f"Property {prop} is empty for default language")
    for text in texts.values():
        if not empty_value(text):
            _check_text(84, prop, f, text)


def _validate_scalar(resource: Resource, f: Field, value: Any) -> None:
    prop = f"{resource.class_name}-&gt;{f.name}"
    # PHP: required means "not empty, though '0' is fine".
    if f.required and (value is None or value == ""):
        raise validation_error(85, f"Property {prop} is empty.")
    if not isinstance(value, str):
        return
    if f.values and value not in f.values:
        allowed = ", ".join(f.values)
        raise validation_error(
            85, f"Property {prop} has a bad value (allowed values are: {allowed})."
        )
    if not empty_value(value):
        _check_text(85, prop, f, value)


def _check_text(code: int, prop: str, f: Field, text: str) -> None:
    """Length first, then the validator (PHP counts characters, not bytes)."""
    if f.max_size and len(text) > f.max_size:
        raise validation_error(
            code,
            f"The length of property {prop} is currently {len(text)} chars. "
            f"It must be between 0 and {f.max_size} chars.",
        )
    if not is_valid(f.validator, text):
        raise validation_error(code, f"Property {prop} is not valid")


def _stamp_dates(ctx: Context, resource: Resource, entity: Entity, method: str) -> None:
    now = ctx.now()
    if "date_add" in resource.by_name and (
        method == "POST" or empty_value(entity.get("date_add"))
    ):
        entity["date_add"] = now
    if "date_upd" in resource.by_name:
        entity["date_upd"] = now


def store_entity(ctx: Context, resource: Resource, entity: Entity, method: str) -> None:
    row: Entity = {}
    for f in resource.stored_fields:
        if f.ml:
            texts = entity.get(f.name) or {}
            row[f.name] = {lang: texts.get(lang, "") for lang in ctx.shop.languages}
        else:
            row[f.name] = to_stored(f, entity.get(f.name))
    for name in resource.hidden_columns:
        if name in entity:
            row[name] = entity[name]
    row["_assoc"] = entity.get("_assoc", {})
    if method == "POST":
        entity["id"] = ctx.store.insert(resource, row)
    else:
        ctx.store.update(resource, entity["id"], row)


def _write_associations(
    ctx: Context, resource: Resource, entity: Entity, one: Submitted
) -> None:
    for name, items in (one.associations or {}).items():
        association = resource.assoc_by_name[name]
        if not association.writable:
            continue
        if association.setter is not None:
            association.setter(ctx, entity, items)
            continue
        keep = [a.name for a in association.fields]
        links = [{k: _assoc_value(item.get(k, "")) for k in keep} for item in items]
        ctx.store.set_links(resource, entity, name, links)


def _assoc_value(text: str) -> Any:
    return int(text) if text.strip().isdigit() else text


def _write_answer(
    ctx: Context, resource: Resource, saved: list[Entity], status: int
) -> Answer:
    return _full_answer(ctx, resource, saved, status, echo=True)


def _full_answer(
    ctx: Context, resource: Resource, entities: list[Entity], status: int, echo: bool
) -> Answer:
    """Whole entities; JSON holds the last one only, empty values left out."""
    full = Display(full=True)
    if ctx.as_json:
        last = render.entity_json(ctx, resource, entities[-1], full, True)
        return xml_or_json(ctx, status, "", {resource.node: last})
    xml = "".join(render.entity_xml(ctx, resource, e, full, echo) for e in entities)
    return xml_or_json(ctx, status, xml, None)


# --- deleting ---------------------------------------------------------------


def delete(ctx: Context, resource: Resource, ids: list[int]) -> Answer:
    missing = [i for i in ids if ctx.store.get(resource, i) is None]
    if missing:
        listed = ", ".join(str(i) for i in missing)
        raise WsError(404, (87, f"Id(s) not exists: {listed}"))
    with ctx.store.transaction():
        for entity_id in ids:
            delete_entity(ctx, resource, entity_id)
    return Answer(200, "", None)


def delete_entity(ctx: Context, resource: Resource, entity_id: int) -> None:
    entity = ctx.store.get(resource, entity_id)
    if entity is None:
        return
    if resource.hooks.before_delete:
        resource.hooks.before_delete(ctx, entity)
    if resource.hooks.soft_delete and resource.hooks.soft_delete(ctx, entity):
        return
    ctx.store.delete(resource, entity_id)
    if resource.hooks.after_delete:
        resource.hooks.after_delete(ctx, entity)
