"""The sale journal: each sale reaches Polaris exactly once (G11).

Sending a sale is three steps: record the intent (the sale's payload, state
`pending`) and commit; send; record the outcome and commit. A crash can fall
between any two of them:

- before the send: the entry is pending; the next attempt asks Polaris
  whether it has the sale (it has not) and sends it;
- after the send, before the outcome is committed: the entry is pending; the
  next attempt asks Polaris, finds the sale and records it as sent without
  sending it again;
- after the outcome: the entry is `sent`; nothing is sent again.

Polaris answers 409 to a second sale with a known `RefExt`; that too counts
as sent, once Polaris' sale under that reference is checked to be ours (same
date, store and total), as is a sale found after a crash. A sale Polaris
refused (400) is `rejected`: it was not created, so a later attempt sends the
corrected payload without asking first.

The journal also keeps, per order, the export record the corrections are
planned from (`order_exports`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from polaris_sync.errors import ItemRejected
from polaris_sync.sales.corrections import ExportRecord
from polaris_sync.sales.sale import sale_from_payload

if TYPE_CHECKING:
    from polaris_sync.state import State


def journal_schema(db: sqlite3.Connection) -> None:
    """Migration adding the journal's tables to the state database."""
    db.execute(
        """
        CREATE TABLE sale_journal (
            ref_ext TEXT PRIMARY KEY,
            order_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            status TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            recorded_at REAL NOT NULL,
            settled_at REAL
        )
        """
    )
    db.execute("CREATE INDEX sale_journal_by_order ON sale_journal (order_id)")
    db.execute(
        """
        CREATE TABLE order_exports (
            order_id INTEGER PRIMARY KEY,
            status TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            record TEXT,
            seen TEXT NOT NULL DEFAULT '',
            current_state INTEGER NOT NULL DEFAULT 0,
            updated_at REAL NOT NULL
        )
        """
    )


def order_export_settings(db: sqlite3.Connection) -> None:
    """Migration: what decided an order's export error, to retry it once changed."""
    db.execute(
        "ALTER TABLE order_exports ADD COLUMN settings TEXT NOT NULL DEFAULT ''"
    )


class SaleChannel(Protocol):
    """What the journal needs of the Polaris client."""

    async def send_sale(self, sale: dict[str, Any]) -> dict[str, Any]: ...

    async def find_sale(self, ref_ext: str) -> dict[str, Any] | None: ...


class EntryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    REJECTED = "rejected"


class Delivery(StrEnum):
    """How a sale ended up in Polaris."""

    SENT = "sent"
    ALREADY_SENT = "already sent"
    FOUND_IN_POLARIS = "found in Polaris after an interrupted send"
    ALREADY_IN_POLARIS = "Polaris already had it"


@dataclass(frozen=True)
class JournalEntry:
    ref_ext: str
    order_id: int
    kind: str
    payload: dict[str, Any]
    status: EntryStatus
    detail: str


@dataclass(frozen=True)
class OrderExport:
    """The export status of one order and what was sent for it."""

    order_id: int
    status: str
    reason: str
    record: ExportRecord | None
    # The order as last looked at (see stages.orders.signature).
    seen: str
    current_state: int
    # The export settings the order was last looked at with (an error made by
    # a configuration or mapping since changed is tried again).
    settings: str = ""


class Journal:
    def __init__(self, state: State) -> None:
        self.state = state

    # -- sales --------------------------------------------------------------

    def entry(self, ref_ext: str) -> JournalEntry | None:
        row = self.state.execute(
            "SELECT ref_ext, order_id, kind, payload, status, detail"
            " FROM sale_journal WHERE ref_ext = ?",
            (ref_ext,),
        ).fetchone()
        if row is None:
            return None
        return JournalEntry(
            row[0], row[1], row[2], json.loads(row[3]), EntryStatus(row[4]), row[5]
        )

    def entries(self, order_id: int) -> list[JournalEntry]:
        rows = self.state.execute(
            "SELECT ref_ext FROM sale_journal WHERE order_id = ? ORDER BY recorded_at",
            (order_id,),
        ).fetchall()
        return [entry for row in rows if (entry := self.entry(row[0])) is not None]

    def record_intent(
        self, ref_ext: str, order_id: int, kind: str, payload: Mapping[str, Any]
    ) -> None:
        with self.state.transaction():
            self.state.execute(
                "INSERT INTO sale_journal (ref_ext, order_id, kind, payload, status,"
                " recorded_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (ref_ext) DO UPDATE SET payload = excluded.payload,"
                " status = excluded.status, detail = ''",
                (ref_ext, order_id, kind, json.dumps(payload), EntryStatus.PENDING,
                 time.time()),
            )

    def settle(self, ref_ext: str, status: EntryStatus, detail: str = "") -> None:
        with self.state.transaction():
            self.state.execute(
                "UPDATE sale_journal SET status = ?, detail = ?, settled_at = ?"
                " WHERE ref_ext = ?",
                (status, detail, time.time(), ref_ext),
            )

    async def deliver(
        self,
        channel: SaleChannel,
        *,
        order_id: int,
        kind: str,
        payload: Mapping[str, Any],
    ) -> Delivery:
        """Send one sale unless Polaris has it already; raise what the send raises.

        A transient failure (timeout, 5xx) leaves the entry pending: the sale may
        or may not exist, and the next attempt asks Polaris first.
        """
        ref_ext = str(payload["RefExt"])
        entry = self.entry(ref_ext)
        if entry is not None and entry.status is EntryStatus.SENT:
            return Delivery.ALREADY_SENT
        if await self.found_pending(channel, ref_ext):
            return Delivery.FOUND_IN_POLARIS

        self.record_intent(ref_ext, order_id, kind, payload)
        try:
            await channel.send_sale(dict(payload))
        except ItemRejected as rejected:
            if rejected.status != 409:
                self.settle(ref_ext, EntryStatus.REJECTED, str(rejected))
                raise
            found = await channel.find_sale(ref_ext)
            if found is not None:
                self._check_same(ref_ext, found, payload)
            self.settle(ref_ext, EntryStatus.SENT, Delivery.ALREADY_IN_POLARIS)
            return Delivery.ALREADY_IN_POLARIS
        self.settle(ref_ext, EntryStatus.SENT, Delivery.SENT)
        return Delivery.SENT

    async def found_pending(self, channel: SaleChannel, ref_ext: str) -> bool:
        """Whether Polaris has the sale of a pending entry (then it is sent)."""
        entry = self.entry(ref_ext)
        if entry is None or entry.status is not EntryStatus.PENDING:
            return False
        found = await channel.find_sale(ref_ext)
        if found is None:
            return False
        # Polaris got what was sent then, which the order may have changed
        # from since (see `sent_instead`).
        self._check_same(ref_ext, found, entry.payload)
        self.settle(ref_ext, EntryStatus.SENT, Delivery.FOUND_IN_POLARIS)
        return True

    def sent_instead(self, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        """What Polaris got under the payload's reference when it is not
        `payload`: a run sent the sale, died or never heard the answer, and
        the order changed before the next run planned it again."""
        entry = self.entry(str(payload["RefExt"]))
        if entry is None or entry.status is not EntryStatus.SENT:
            return None
        if entry.payload == json.loads(json.dumps(payload)):
            return None
        return entry.payload

    def _check_same(
        self, ref_ext: str, found: Mapping[str, Any], payload: Mapping[str, Any]
    ) -> None:
        """Polaris' sale under our reference must be ours, not another shop's.

        A copy of the shop (pre-production) paired with the same Polaris, or a
        reference prefix changed, would otherwise make a different sale count
        as sent: a lost sale nobody hears of.
        """
        theirs, ours = _comparable(found), _comparable(payload)
        if all(theirs[name] == ours[name] for name in theirs.keys() & ours.keys()):
            return
        reason = (
            f"Polaris already holds another sale under the reference {ref_ext} "
            f"(another date, store or total); set orders.sale_ref_prefix or check "
            f"orders.min_order_id"
        )
        self.settle(ref_ext, EntryStatus.REJECTED, reason)
        raise ItemRejected(reason, status=409)

    # -- per-order export records --------------------------------------------

    def order_export(self, order_id: int) -> OrderExport | None:
        row = self.state.execute(
            "SELECT order_id, status, reason, record, seen, current_state,"
            " settings FROM order_exports WHERE order_id = ?",
            (order_id,),
        ).fetchone()
        if row is None:
            return None
        record = _record_from_json(row[3]) if row[3] else None
        return OrderExport(row[0], row[1], row[2], record, row[4], row[5], row[6])

    def set_order_export(
        self,
        order_id: int,
        *,
        status: str,
        reason: str = "",
        record: ExportRecord | None,
        seen: str,
        current_state: int,
        settings: str = "",
    ) -> None:
        encoded = _record_to_json(record) if record is not None else None
        with self.state.transaction():
            self.state.execute(
                "INSERT INTO order_exports (order_id, status, reason, record,"
                " seen, current_state, settings, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (order_id) DO UPDATE SET status = excluded.status,"
                " reason = excluded.reason, record = excluded.record,"
                " seen = excluded.seen,"
                " current_state = excluded.current_state,"
                " settings = excluded.settings,"
                " updated_at = excluded.updated_at",
                (order_id, status, reason, encoded, seen, current_state,
                 settings, time.time()),
            )

    def errors_decided_otherwise(self, settings: str) -> list[int]:
        """Orders in error looked at with other settings than ``settings``."""
        rows = self.state.execute(
            "SELECT order_id FROM order_exports WHERE status = 'error'"
            " AND settings != ? ORDER BY order_id",
            (settings,),
        )
        return [int(row[0]) for row in rows]

    def refused_yet_recorded(self) -> list[tuple[OrderExport, frozenset[int]]]:
        """Orders recorded as exported (or cancelled) though Polaris refused a
        sale of their record, with the places in the record's chain of the
        sales Polaris may lack: refused, never tried, or of unknown outcome
        (sending one of those again asks Polaris first).

        Earlier versions kept such records, and the refused sale was never
        sent again.
        """
        rows = self.state.execute(
            "SELECT DISTINCT e.order_id FROM order_exports e"
            " JOIN sale_journal j ON j.order_id = e.order_id"
            " WHERE j.status = ? AND e.status IN ('exported', 'cancelled')"
            " ORDER BY e.order_id",
            (EntryStatus.REJECTED,),
        ).fetchall()
        found: list[tuple[OrderExport, frozenset[int]]] = []
        for (order_id,) in rows:
            export = self.order_export(int(order_id))
            if export is None or export.record is None:
                continue
            statuses = {entry.ref_ext: entry.status for entry in self.entries(order_id)}
            chain = [statuses.get(sale.ref_ext) for sale in export.record.chain]
            if EntryStatus.REJECTED not in chain:
                continue
            missing = [index for index, status in enumerate(chain)
                       if status is not EntryStatus.SENT]
            found.append((export, frozenset(missing)))
        return found

    def orders_in_error(self) -> list[tuple[int, str]]:
        """Orders waiting in "Polaris export error", with the reason."""
        rows = self.state.execute(
            "SELECT order_id, reason FROM order_exports WHERE status = 'error'"
            " ORDER BY order_id"
        )
        return [(int(row[0]), str(row[1])) for row in rows]

    def highest_order_id(self) -> int:
        row = self.state.execute("SELECT MAX(order_id) FROM order_exports").fetchone()
        return int(row[0] or 0)


def _comparable(sale: Mapping[str, Any]) -> dict[str, Any]:
    """What tells two sales apart, from what a sale or Polaris' summary of one
    carries: its date, store and total (to the cent)."""
    facts: dict[str, Any] = {}
    for name in ("DateVente", "CodeMagasin"):
        if name in sale:
            facts[name] = str(sale[name])
    try:
        if "TotalTTC" in sale:
            facts["total"] = round(float(sale["TotalTTC"]), 2)
        elif isinstance(sale.get("Details"), list):
            facts["total"] = round(
                sum(
                    d["Qte"] * float(d["MontantTTC"]) - float(d.get("RemiseTTC", 0))
                    for d in sale["Details"]
                ),
                2,
            )
    except (KeyError, TypeError, ValueError):
        pass
    return facts


def _record_to_json(record: ExportRecord) -> str:
    return json.dumps(
        {
            "order_id": record.order_id,
            "version": record.version,
            "fingerprint": record.fingerprint,
            "chain": [sale.to_payload() for sale in record.chain],
            "sent_slips": sorted(record.sent_slips),
            "cancellations": record.cancellations,
            "active": record.active,
            "replaced": record.replaced,
        }
    )


def _record_from_json(text: str) -> ExportRecord:
    raw = json.loads(text)
    return ExportRecord(
        order_id=raw["order_id"],
        version=raw["version"],
        fingerprint=raw["fingerprint"],
        chain=tuple(sale_from_payload(payload) for payload in raw["chain"]),
        sent_slips=frozenset(raw["sent_slips"]),
        cancellations=raw["cancellations"],
        active=raw["active"],
        replaced=raw.get("replaced", False),
    )
