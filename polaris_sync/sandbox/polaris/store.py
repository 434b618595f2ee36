"""The simulator's SQLite database: items, accesses, customers and sales.

Generated items are stored as a key and what changed since generation
(``overrides``); items from the demo catalogue are stored whole (``base``).
Every change stamps ``changed_at`` (local time with milliseconds, sortable as
text), which is what deltas and cursors page on.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY,
    no_modele INTEGER NOT NULL,
    variant TEXT NOT NULL,
    variant_index INTEGER NOT NULL,
    base TEXT,
    overrides TEXT NOT NULL DEFAULT '{}',
    changed_at TEXT NOT NULL,
    UNIQUE (no_modele, variant)
);
CREATE INDEX IF NOT EXISTS items_by_change ON items (changed_at, id);
CREATE TABLE IF NOT EXISTS accesses (
    cle TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    mode_test INTEGER NOT NULL,
    permissions TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS customers (
    no_client INTEGER PRIMARY KEY,
    doc TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS customer_refs (
    ref TEXT PRIMARY KEY,
    no_client INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sales (
    no_vente INTEGER PRIMARY KEY,
    ref_ext TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL,
    received_at TEXT NOT NULL
);
"""


def stamp(moment: datetime | None = None) -> str:
    """A change time: local, millisecond precision, sortable as text."""
    return (moment or datetime.now()).isoformat(timespec="milliseconds")


class Store:
    """One SQLite file; safe to share between the event loop and test threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            # It holds the accesses' keys; SQLite gives its journal files the
            # same mode.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False,
                                   isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    # meta ---------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                       (key, value))

    # items --------------------------------------------------------------

    def add_items(self, rows: list[tuple[int, str, int, str | None, str]]) -> None:
        """Insert (no_modele, variant, variant_index, base json, changed_at)."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO items"
                " (no_modele, variant, variant_index, base, changed_at)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def item_page(self, since: str, after: tuple[str, int] | None,
                  size: int) -> list[sqlite3.Row]:
        if after is None:
            return self.query(
                "SELECT * FROM items WHERE changed_at >= ?"
                " ORDER BY changed_at, id LIMIT ?", (since, size))
        return self.query(
            "SELECT * FROM items WHERE changed_at >= ? AND (changed_at, id) > (?, ?)"
            " ORDER BY changed_at, id LIMIT ?", (since, after[0], after[1], size))

    def items_of_model(self, model: int) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM items WHERE no_modele = ? ORDER BY id",
                          (model,))

    def item(self, model: int, variant_index: int) -> sqlite3.Row | None:
        rows = self.query(
            "SELECT * FROM items WHERE no_modele = ? AND variant_index = ?",
            (model, variant_index))
        return rows[0] if rows else None

    def update_overrides(self, item_id: int, overrides: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute("UPDATE items SET overrides = ?, changed_at = ? WHERE id = ?",
                       (json.dumps(overrides), stamp(), item_id))

    def max_model(self) -> int:
        rows = self.query("SELECT COALESCE(MAX(no_modele), 0) AS top FROM items")
        return int(rows[0]["top"])

    def count_items(self) -> int:
        return int(self.query("SELECT COUNT(*) AS n FROM items")[0]["n"])
