"""SQLite storage of the emulated shop: one table per resource.

Scalar fields are typed columns, multilingual fields a JSON object column
(`{"1": "...", "2": "..."}`), associations kept on the entity a JSON column
`_assoc`. One connection serves every request under a lock: the emulator is a
test double, and one writer at a time is exactly how SQLite likes it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .model import BOOL, FLOAT, INT, Entity, Resource

_SQL_TYPES = {INT: "INTEGER", BOOL: "INTEGER", FLOAT: "REAL"}


class Store:
    def __init__(self, path: Path, resources: Iterable[Resource]) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None
        )
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.resources = {r.name: r for r in resources}
        self.created = not self._has_table("ws_meta")
        for resource in self.resources.values():
            self._create_table(resource)
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS ws_meta (name TEXT PRIMARY KEY, value TEXT)"
        )

    def _has_table(self, name: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)
        ).fetchone()
        return row is not None

    def _create_table(self, resource: Resource) -> None:
        columns = ["id INTEGER PRIMARY KEY AUTOINCREMENT"]
        for field in resource.stored_fields:
            sql_type = "TEXT" if field.ml else _SQL_TYPES.get(field.kind, "TEXT")
            columns.append(f'"{field.name}" {sql_type}')
        for name, sql_type in resource.hidden_columns.items():
            columns.append(f'"{name}" {sql_type}')
        columns.append("_assoc TEXT")
        self.conn.execute(
            f"CREATE TABLE IF NOT EXISTS {resource.table} ({', '.join(columns)})"
        )
        for index in resource.indexes:
            names = (index,) if isinstance(index, str) else index
            self.conn.execute(
                f"CREATE INDEX IF NOT EXISTS ix_{resource.name}_{'_'.join(names)} "
                f"ON {resource.table} "
                f"({', '.join(self._indexed(resource, name) for name in names)})"
            )

    @staticmethod
    def _indexed(resource: Resource, column: str) -> str:
        # Text filters compare case-insensitively (MySQL collation).
        field = resource.by_name.get(column)
        text = field is not None and field.kind not in _SQL_TYPES
        return f'"{column}" COLLATE NOCASE' if text else f'"{column}"'

    # --- rows ---------------------------------------------------------------

    def _columns(self, resource: Resource) -> list[str]:
        names = [f.name for f in resource.stored_fields]
        return names + list(resource.hidden_columns)

    def _encode(self, resource: Resource, entity: Entity) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for name in self._columns(resource):
            if name not in entity:
                continue
            field = resource.by_name.get(name)
            value = entity[name]
            if field is not None and field.ml:
                value = json.dumps({str(k): v for k, v in (value or {}).items()})
            row[name] = value
        if "_assoc" in entity:
            row["_assoc"] = json.dumps(entity["_assoc"])
        return row

    def _decode(self, resource: Resource, row: sqlite3.Row | tuple) -> Entity:
        names = ["id", *self._columns(resource), "_assoc"]
        entity: Entity = dict(zip(names, row, strict=True))
        for field in resource.stored_fields:
            if field.ml:
                raw = json.loads(entity[field.name] or "{}")
                entity[field.name] = {int(k): v for k, v in raw.items()}
        entity["_assoc"] = json.loads(entity["_assoc"] or "{}")
        return entity

    def insert(self, resource: Resource, entity: Entity) -> int:
        row = self._encode(resource, entity)
        if entity.get("id"):
            row["id"] = entity["id"]
        names = ", ".join(f'"{n}"' for n in row)
        marks = ", ".join("?" for _ in row)
        with self.lock:
            cursor = self.conn.execute(
                f"INSERT INTO {resource.table} ({names}) VALUES ({marks})",
                list(row.values()),
            )
        return int(cursor.lastrowid or 0)

    def update(self, resource: Resource, entity_id: int, entity: Entity) -> None:
        row = self._encode(resource, entity)
        if not row:
            return
        sets = ", ".join(f'"{n}" = ?' for n in row)
        with self.lock:
            self.conn.execute(
                f"UPDATE {resource.table} SET {sets} WHERE id = ?",
                [*row.values(), entity_id],
            )

    def set_links(
        self, resource: Resource, entity: Entity, name: str, links: list[Any]
    ) -> None:
        """Replace one association of `entity`, in memory and in its row."""
        entity.setdefault("_assoc", {})[name] = links
        self.update(resource, entity["id"], {"_assoc": entity["_assoc"]})

    def set_columns(
        self, resource: Resource, where: str, params: Sequence[Any], **values: Any
    ) -> None:
        sets = ", ".join(f'"{n}" = ?' for n in values)
        with self.lock:
            self.conn.execute(
                f"UPDATE {resource.table} SET {sets} WHERE {where}",
                [*values.values(), *params],
            )

    def delete(self, resource: Resource, entity_id: int) -> None:
        with self.lock:
            self.conn.execute(
                f"DELETE FROM {resource.table} WHERE id = ?", (entity_id,)
            )

    def get(self, resource: Resource, entity_id: int) -> Entity | None:
        found = self.select(resource, "id = ?", (entity_id,))
        return found[0] if found else None

    def select(
        self,
        resource: Resource,
        where: str = "1",
        params: Sequence[Any] = (),
        order: str = "",
        limit: str = "",
    ) -> list[Entity]:
        names = ", ".join(f'"{n}"' for n in ["id", *self._columns(resource), "_assoc"])
        sql = f"SELECT {names} FROM {resource.table} t WHERE {where} {order} {limit}"
        with self.lock:
            rows = self.conn.execute(sql, list(params)).fetchall()
        return [self._decode(resource, row) for row in rows]

    def select_ids(
        self,
        resource: Resource,
        where: str = "1",
        params: Sequence[Any] = (),
        order: str = "",
        limit: str = "",
    ) -> list[int]:
        sql = f"SELECT t.id FROM {resource.table} t WHERE {where} {order} {limit}"
        with self.lock:
            return [row[0] for row in self.conn.execute(sql, list(params))]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self.lock:
            row = self.conn.execute(sql, list(params)).fetchone()
        return row[0] if row else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.conn.execute(sql, list(params)).fetchall()

    def transaction(self) -> _Transaction:
        return _Transaction(self)

    def close(self) -> None:
        with self.lock:
            self.conn.close()


class _Transaction:
    """BEGIN/COMMIT around one request's writes.

    Always commits, even on error: PrestaShop saves entity after entity
    without a transaction, so a failure leaves the earlier writes in place.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> Store:
        self.store.lock.acquire()
        self.store.conn.execute("BEGIN")
        return self.store

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self.store.conn.execute("COMMIT")
        finally:
            self.store.lock.release()
