"""JSON answers to writes: the object as PHP held it after the save.

The real shop prints a write answer from the object in memory, not from the
database: integer fields a client sent stay the strings it sent
(``"id_customer":"7"``), and the id of an object just added is the string the
database driver returned (``"id":"13"``). Orders are the exception: placing
one reloads it, so their id is a number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from .model import INT, Entity, Field, Hooks, Resource

# Set on an entity answered by a write, to the method of that write.
ECHO = "_echo"


def mark(entity: Entity, method: str) -> None:
    entity[ECHO] = method


def answering_like_php(resource: Resource, new_id_as_text: bool = True) -> Resource:
    """The resource, its write answers typed in JSON as the real shop's."""
    hooks = with_echo(resource.hooks, resource.fields, new_id_as_text)
    return replace(resource, hooks=hooks)


def with_echo(
    hooks: Hooks, fields: Iterable[Field], new_id_as_text: bool = True
) -> Hooks:
    """The hooks, plus the marking and the JSON typing of write answers."""
    after = hooks.after_save
    int_fields = [f.name for f in fields if f.kind == INT]

    def after_save(ctx: Any, entity: Entity, method: str) -> None:
        if after is not None:
            after(ctx, entity, method)
        mark(entity, method)

    return replace(
        hooks,
        after_save=after_save,
        json_types=_retype(hooks.json_types, int_fields, new_id_as_text),
    )


def _retype(
    inner: Callable[[Any, Entity, dict[str, Any]], None] | None,
    int_fields: list[str],
    new_id_as_text: bool,
) -> Callable[[Any, Entity, dict[str, Any]], None]:
    def retype(ctx: Any, entity: Entity, out: dict[str, Any]) -> None:
        if inner is not None:
            inner(ctx, entity, out)
        method = entity.get(ECHO)
        if not method:
            return
        if new_id_as_text and method == "POST" and "id" in out:
            out["id"] = str(out["id"])
        for name in int_fields:
            sent = entity.get(name)
            if name in out and isinstance(sent, str):
                out[name] = sent

    return retype
