"""The state store: one SQLite database beside the configuration.

It keeps what the daemon must remember between runs: links between Polaris
keys and PrestaShop ids, fingerprints of what was last written, paging cursors,
mapping rows, locked products, run history, resync requests and the Polaris
credentials. The schema grows through an append-only list of migrations; the
number applied is SQLite's ``user_version``.

The database holds credentials, so its folder is created owner-only (0700) and
its file 0600; SQLite gives its WAL and shared-memory files the same mode.

Writes outside :meth:`State.transaction` commit at once. A stage wraps the
writes of one item in ``with state.transaction():`` so that a crash loses at
most that item. A transaction must not span an ``await``: interleaved
coroutines share the one connection.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from polaris_sync.errors import ConfigError

STATE_FILENAME = "polaris-sync.sqlite3"

# Mapping kinds the merchant edits (F1-F9). A module may add others.
MAPPING_KINDS = ("brand", "size-grid", "colour", "category", "store", "payment")

# The resync a changed mapping asks for: the catalogue is read again whole.
MAPPING_RESYNC = "catalogue"

WILDCARD = "*"
IGNORE = "ignore"

# Exit code recorded for a run whose process died before it could say (killed,
# power cut): the same as a run that crashed.
INTERRUPTED_EXIT_CODE = 3

# Days of run history kept; the audit files keep the detail for longer.
HISTORY_DAYS = 60


@dataclass(frozen=True)
class MappingRow:
    """One mapping: a Polaris value (``source``) and what it becomes.

    ``target`` is None while the merchant has not chosen (F7), ``ignore`` to skip
    every item using the value (F5), otherwise the PrestaShop id(s) or code as
    text, e.g. ``"12"`` or ``"3,7"`` for several categories.
    """

    kind: str
    source: str
    target: str | None
    label: str = ""
    default_weight: float | None = None

    @property
    def ignored(self) -> bool:
        return self.target == IGNORE

    def target_ids(self) -> list[int]:
        """The target as PrestaShop ids; empty when unset or ignored."""
        if self.target is None or self.ignored:
            return []
        return [int(part) for part in self.target.split(",") if part.strip()]


@dataclass(frozen=True)
class RunRecord:
    id: int
    started_at: float
    finished_at: float | None
    dry_run: bool
    exit_code: int | None
    summary: str
    stages: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class ResyncRequest:
    id: int
    # "full"; "catalogue": a mapping changed, every item is read again; or
    # "product" with its reference.
    kind: str
    polaris_ref: str | None
    requested_at: float


Migration = Callable[[sqlite3.Connection], None]


def _run_statements(db: sqlite3.Connection, script: str) -> None:
    # executescript() would commit the migration's transaction half-way.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _schema_v1(db: sqlite3.Connection) -> None:
    _run_statements(
        db,
        """
        CREATE TABLE links (
            kind TEXT NOT NULL,
            polaris_key TEXT NOT NULL,
            prestashop_id INTEGER NOT NULL,
            PRIMARY KEY (kind, polaris_key)
        );
        CREATE INDEX links_by_prestashop_id ON links (kind, prestashop_id);
        CREATE TABLE fingerprints (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (kind, key)
        );
        CREATE TABLE cursors (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE mappings (
            kind TEXT NOT NULL,
            source TEXT NOT NULL,
            target TEXT,
            label TEXT NOT NULL DEFAULT '',
            default_weight REAL,
            PRIMARY KEY (kind, source)
        );
        CREATE TABLE locks (
            polaris_ref TEXT PRIMARY KEY,
            locked_at REAL NOT NULL
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            started_at REAL NOT NULL,
            finished_at REAL,
            dry_run INTEGER NOT NULL DEFAULT 0,
            exit_code INTEGER,
            summary TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE stage_runs (
            run_id INTEGER NOT NULL REFERENCES runs (id),
            stage TEXT NOT NULL,
            started_at REAL NOT NULL,
            finished_at REAL NOT NULL,
            complete INTEGER NOT NULL,
            counts TEXT NOT NULL,
            errors TEXT NOT NULL,
            PRIMARY KEY (run_id, stage)
        );
        CREATE TABLE resync_requests (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            polaris_ref TEXT,
            requested_at REAL NOT NULL,
            done_at REAL
        );
        CREATE TABLE credentials (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """,
    )


def _schema_v2(db: sqlite3.Connection) -> None:
    # The configuration tables last downloaded from Polaris, kept whole.
    db.execute(
        "CREATE TABLE polaris_tables ("
        " name TEXT PRIMARY KEY, rows TEXT NOT NULL, fetched_at REAL NOT NULL)"
    )


def _order_journal(db: sqlite3.Connection) -> None:
    # The sale journal and order export records, owned by polaris_sync.journal.
    from polaris_sync.journal import journal_schema

    journal_schema(db)


def _order_export_settings(db: sqlite3.Connection) -> None:
    from polaris_sync.journal import order_export_settings

    order_export_settings(db)


def _photo_uploads(db: sqlite3.Connection) -> None:
    # Photo uploads under way, owned by polaris_sync.stages.photos: the highest
    # image id the product had just before each upload.
    db.execute(
        "CREATE TABLE photo_uploads ("
        " product_id INTEGER NOT NULL, photo_key TEXT NOT NULL,"
        " watermark INTEGER NOT NULL, PRIMARY KEY (product_id, photo_key))"
    )


# Append only: a released migration is never edited, a new one is added.
MIGRATIONS: list[Migration] = [
    _schema_v1,
    _schema_v2,
    _order_journal,
    _order_export_settings,
    _photo_uploads,
]


class State:
    """The state database. Open with :meth:`open` (or :meth:`open_snapshot`)."""

    def __init__(self, db: sqlite3.Connection, path: Path | None) -> None:
        self._db = db
        self._db.row_factory = sqlite3.Row
        self.path = path
        self._depth = 0
        self._owner: asyncio.Task[Any] | None = None

    # -- opening ----------------------------------------------------------

    @classmethod
    def open(cls, state_dir: Path) -> State:
        """Open (creating if needed) the state database in ``state_dir``."""
        path = state_dir / STATE_FILENAME
        try:
            _make_private_dir(state_dir)
            _make_private_file(path)
            db = sqlite3.connect(path, isolation_level=None, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
        except (OSError, sqlite3.Error) as error:
            raise ConfigError(
                f"cannot open the state database {path}: {error}"
            ) from error
        state = cls(db, path)
        state.migrate()
        return state

    @classmethod
    def open_snapshot(cls, state_dir: Path) -> State:
        """A private in-memory copy of the state, for dry runs.

        Stages may write to it as usual; nothing reaches the disk. When no state
        exists yet the copy starts empty.
        """
        path = state_dir / STATE_FILENAME
        memory = sqlite3.connect(":memory:", isolation_level=None)
        if path.exists():
            try:
                source = sqlite3.connect(_read_only_uri(path), uri=True)
                source.backup(memory)
                source.close()
            except sqlite3.Error as error:
                raise ConfigError(
                    f"cannot read the state database {path}: {error}"
                ) from error
        state = cls(memory, None)
        state.migrate()
        return state

    @classmethod
    def in_memory(cls) -> State:
        state = cls(sqlite3.connect(":memory:", isolation_level=None), None)
        state.migrate()
        return state

    def migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise ConfigError(
                f"the state database {self.path} was written by a newer "
                f"polaris-sync (schema {version}); upgrade polaris-sync"
            )
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                migration(self._db)
                self._db.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes; nested uses join the outermost transaction."""
        if self._depth:
            if _current_task() is not self._owner:
                # Another coroutine would slip its writes into this item's
                # transaction, committed or rolled back with it.
                raise RuntimeError("a state transaction must not span an await")
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        self._owner = _current_task()
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            self._depth = 0

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        """Raw access for modules that own tables added by a migration."""
        return self._db.execute(sql, parameters)

    # -- links between Polaris keys and PrestaShop ids ----------------------

    def link(self, kind: str, polaris_key: str) -> int | None:
        row = self._db.execute(
            "SELECT prestashop_id FROM links WHERE kind = ? AND polaris_key = ?",
            (kind, polaris_key),
        ).fetchone()
        return None if row is None else int(row[0])

    def set_link(self, kind: str, polaris_key: str, prestashop_id: int) -> None:
        self._db.execute(
            "INSERT INTO links (kind, polaris_key, prestashop_id) VALUES (?, ?, ?)"
            " ON CONFLICT (kind, polaris_key)"
            " DO UPDATE SET prestashop_id = excluded.prestashop_id",
            (kind, polaris_key, prestashop_id),
        )

    def remove_link(self, kind: str, polaris_key: str) -> None:
        self._db.execute(
            "DELETE FROM links WHERE kind = ? AND polaris_key = ?", (kind, polaris_key)
        )

    def links(self, kind: str) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT polaris_key, prestashop_id FROM links WHERE kind = ?", (kind,)
        )
        return {row[0]: int(row[1]) for row in rows}

    # -- fingerprints of what was last written ------------------------------

    def fingerprint(self, kind: str, key: str) -> str | None:
        row = self._db.execute(
            "SELECT value FROM fingerprints WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        return None if row is None else str(row[0])

    def set_fingerprint(self, kind: str, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO fingerprints (kind, key, value) VALUES (?, ?, ?)"
            " ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
            (kind, key, value),
        )

    def forget_fingerprint(self, kind: str, key: str) -> None:
        """The next run writes this object again, as if it had changed."""
        self._db.execute(
            "DELETE FROM fingerprints WHERE kind = ? AND key = ?", (kind, key)
        )

    def clear_fingerprints(self, kind: str | None = None) -> None:
        if kind is None:
            self._db.execute("DELETE FROM fingerprints")
        else:
            self._db.execute("DELETE FROM fingerprints WHERE kind = ?", (kind,))

    # -- paging cursors -----------------------------------------------------

    def cursor(self, name: str) -> str | None:
        row = self._db.execute(
            "SELECT value FROM cursors WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else str(row[0])

    def set_cursor(self, name: str, value: str | None) -> None:
        if value is None:
            self._db.execute("DELETE FROM cursors WHERE name = ?", (name,))
            return
        self._db.execute(
            "INSERT INTO cursors (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def clear_cursors(self) -> None:
        self._db.execute("DELETE FROM cursors")

    # -- mapping rows (F1-F9) -----------------------------------------------

    def mapping_rows(self, kind: str | None = None) -> list[MappingRow]:
        query = "SELECT kind, source, target, label, default_weight FROM mappings"
        if kind is None:
            rows = self._db.execute(query + " ORDER BY kind, source")
        else:
            rows = self._db.execute(query + " WHERE kind = ? ORDER BY source", (kind,))
        return [MappingRow(*row) for row in rows]

    def mapping(self, kind: str, source: str) -> MappingRow | None:
        row = self._db.execute(
            "SELECT kind, source, target, label, default_weight FROM mappings"
            " WHERE kind = ? AND source = ?",
            (kind, source),
        ).fetchone()
        return None if row is None else MappingRow(*row)

    def note_mapping_value(self, kind: str, source: str, label: str = "") -> bool:
        """Record a value met in Polaris, with no target yet (F7).

        Returns True when the row is new. An existing row keeps its target; its
        label is filled if it had none.
        """
        inserted = self._db.execute(
            "INSERT INTO mappings (kind, source, target, label) VALUES (?, ?, NULL, ?)"
            " ON CONFLICT (kind, source) DO NOTHING",
            (kind, source, label),
        ).rowcount
        if not inserted and label:
            self._db.execute(
                "UPDATE mappings SET label = ?"
                " WHERE kind = ? AND source = ? AND label = ''",
                (label, kind, source),
            )
        return bool(inserted)

    def set_mapping(
        self,
        kind: str,
        source: str,
        target: str | None,
        *,
        label: str | None = None,
        default_weight: float | None = None,
    ) -> None:
        self._db.execute(
            "INSERT INTO mappings (kind, source, target, label, default_weight)"
            " VALUES (?, ?, ?, COALESCE(?, ''), ?)"
            " ON CONFLICT (kind, source) DO UPDATE SET target = excluded.target,"
            " label = COALESCE(?, mappings.label),"
            " default_weight = excluded.default_weight",
            (kind, source, target, label, default_weight, label),
        )

    # -- locked products (E10) ----------------------------------------------

    def is_locked(self, polaris_ref: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM locks WHERE polaris_ref = ?", (polaris_ref,)
        ).fetchone()
        return row is not None

    def lock(self, polaris_ref: str) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO locks (polaris_ref, locked_at) VALUES (?, ?)",
            (polaris_ref, time.time()),
        )

    def unlock(self, polaris_ref: str) -> bool:
        return bool(
            self._db.execute(
                "DELETE FROM locks WHERE polaris_ref = ?", (polaris_ref,)
            ).rowcount
        )

    def locked_refs(self) -> list[str]:
        rows = self._db.execute("SELECT polaris_ref FROM locks ORDER BY polaris_ref")
        return [row[0] for row in rows]

    # -- run history (H2) ---------------------------------------------------

    def start_run(self, *, dry_run: bool = False) -> int:
        cursor = self._db.execute(
            "INSERT INTO runs (started_at, dry_run) VALUES (?, ?)",
            (time.time(), int(dry_run)),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def record_stage(
        self,
        run_id: int,
        stage: str,
        *,
        started_at: float,
        complete: bool,
        counts: Mapping[str, int],
        errors: list[str],
    ) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO stage_runs (run_id, stage, started_at,"
            " finished_at, complete, counts, errors) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                stage,
                started_at,
                time.time(),
                int(complete),
                json.dumps(dict(counts), sort_keys=True),
                json.dumps(errors),
            ),
        )

    def finish_run(self, run_id: int, *, exit_code: int, summary: str) -> None:
        self._db.execute(
            "UPDATE runs SET finished_at = ?, exit_code = ?, summary = ? WHERE id = ?",
            (time.time(), exit_code, summary, run_id),
        )

    def end_interrupted_runs(self, summary: str) -> int:
        """Close the runs whose process died before finishing them.

        Only the holder of the run lock may call this: no other run can be
        going then, and dry runs keep their history in a private copy.
        """
        return self._db.execute(
            "UPDATE runs SET exit_code = ?, summary = ?"
            " WHERE exit_code IS NULL AND dry_run = 0",
            (INTERRUPTED_EXIT_CODE, summary),
        ).rowcount

    def prune_runs(self, *, keep_days: float = HISTORY_DAYS) -> int:
        """Forget runs older than ``keep_days``; cron adds 288 runs a day."""
        cutoff = time.time() - keep_days * 86400
        with self.transaction():
            old = "SELECT id FROM runs WHERE started_at < ?"
            self._db.execute(
                f"DELETE FROM stage_runs WHERE run_id IN ({old})", (cutoff,)
            )
            return self._db.execute(
                "DELETE FROM runs WHERE started_at < ?", (cutoff,)
            ).rowcount

    def last_runs(self, limit: int = 5) -> list[RunRecord]:
        runs = self._db.execute(
            "SELECT id, started_at, finished_at, dry_run, exit_code, summary"
            " FROM runs ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [self._run_record(row) for row in runs]

    def _run_record(self, row: sqlite3.Row) -> RunRecord:
        stages = {
            stage["stage"]: {
                "complete": bool(stage["complete"]),
                "counts": json.loads(stage["counts"]),
                "errors": json.loads(stage["errors"]),
            }
            for stage in self._db.execute(
                "SELECT stage, complete, counts, errors FROM stage_runs"
                " WHERE run_id = ? ORDER BY started_at",
                (row["id"],),
            )
        }
        return RunRecord(
            id=row["id"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            dry_run=bool(row["dry_run"]),
            exit_code=row["exit_code"],
            summary=row["summary"],
            stages=stages,
        )

    def last_stage_unfinished(self, stage: str) -> bool:
        """True when the stage's latest real run stopped before its end."""
        row = self._db.execute(
            "SELECT complete FROM stage_runs JOIN runs ON runs.id = stage_runs.run_id"
            " WHERE stage = ? AND runs.dry_run = 0"
            " ORDER BY stage_runs.started_at DESC LIMIT 1",
            (stage,),
        ).fetchone()
        return row is not None and not row[0]

    def last_stage_success(self, stage: str) -> float | None:
        """When ``stage`` last ran to its end without a stage-wide failure."""
        row = self._db.execute(
            "SELECT MAX(stage_runs.started_at) FROM stage_runs"
            " JOIN runs ON runs.id = stage_runs.run_id"
            " WHERE stage = ? AND complete = 1 AND runs.dry_run = 0",
            (stage,),
        ).fetchone()
        return None if row[0] is None else float(row[0])

    # -- resync requests (B4, E11, E12) -------------------------------------

    def request_resync(self, kind: str = "full", polaris_ref: str | None = None) -> int:
        cursor = self._db.execute(
            "INSERT INTO resync_requests (kind, polaris_ref, requested_at)"
            " VALUES (?, ?, ?)",
            (kind, polaris_ref, time.time()),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def request_resync_once(self, kind: str) -> None:
        """Ask for a resync of ``kind`` unless one is already waiting."""
        if not any(request.kind == kind for request in self.pending_resyncs()):
            self.request_resync(kind)

    def pending_resyncs(self) -> list[ResyncRequest]:
        rows = self._db.execute(
            "SELECT id, kind, polaris_ref, requested_at FROM resync_requests"
            " WHERE done_at IS NULL ORDER BY id"
        )
        return [ResyncRequest(*row) for row in rows]

    def finish_resync(self, request_id: int) -> None:
        self._db.execute(
            "UPDATE resync_requests SET done_at = ? WHERE id = ?",
            (time.time(), request_id),
        )

    # -- Polaris configuration tables (B4) ------------------------------------

    def set_polaris_table(self, name: str, rows: list[dict[str, Any]]) -> None:
        self._db.execute(
            "INSERT INTO polaris_tables (name, rows, fetched_at) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET rows = excluded.rows,"
            " fetched_at = excluded.fetched_at",
            (name, json.dumps(rows, ensure_ascii=False), time.time()),
        )

    def polaris_table(self, name: str) -> list[dict[str, Any]] | None:
        row = self._db.execute(
            "SELECT rows FROM polaris_tables WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else list(json.loads(row[0]))

    # -- credentials (A1-A5) ------------------------------------------------

    def credential(self, name: str) -> str | None:
        row = self._db.execute(
            "SELECT value FROM credentials WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else str(row[0])

    def set_credential(self, name: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO credentials (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def clear_credentials(self, prefix: str) -> None:
        self._db.execute(
            "DELETE FROM credentials WHERE name LIKE ? ESCAPE '\\'",
            (prefix.replace("_", "\\_") + "%",),
        )


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no event loop: plain synchronous use
        return None


def _read_only_uri(path: Path) -> str:
    """Open without leaving a trace on disk.

    A read-only connection to a WAL database creates the -wal and -shm files
    when they are missing, and cannot remove them. When they are missing no
    writer is active and everything is in the main file, which can then be
    read as immutable (no side files at all). When they exist, a run may be
    writing: read through them, creating nothing new.
    """
    if Path(f"{path}-wal").exists():
        return f"file:{path}?mode=ro"
    return f"file:{path}?mode=ro&immutable=1"


def _make_private_dir(path: Path) -> None:
    if not path.exists():
        path.mkdir(mode=0o700, parents=True)
        os.chmod(path, 0o700)


def _make_private_file(path: Path) -> None:
    """Create the database file owner-only before SQLite opens it."""
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(descriptor)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
