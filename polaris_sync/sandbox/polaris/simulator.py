"""The simulated Polaris base: catalogue, accesses, customers and sales.

No HTTP here: :mod:`.app` turns requests into calls on :class:`Simulator`,
and the admin API and tests call it too.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import secrets
import sqlite3
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from polaris_sync.sandbox.polaris import generator, photos, reference, validation
from polaris_sync.sandbox.polaris.catalogue import (
    DemoCatalogue,
    DemoPhoto,
    load_demo_catalogue,
)
from polaris_sync.sandbox.polaris.generator import Item
from polaris_sync.sandbox.polaris.store import Store, stamp

FIRST_GENERATED_MODEL = 1001
DB_NAME = "polaris.sqlite3"
PERMISSIONS = {
    "ImportClients": True,
    "ModifClients": True,
    "ImportVentes": True,
    "ExportClients": True,
    "ExportClientsAvecEmailSeulement": False,
    "BonsAchat": True,
}


class ApiError(Exception):
    """An answer other than 2xx, with Polaris' ``{"Message": ...}`` body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Access:
    key: str
    mode_test: bool
    permissions: dict[str, bool]


class Simulator:
    """One Polaris base kept in ``state_dir``; created and loaded on first start."""

    def __init__(
        self,
        state_dir: Path,
        *,
        models: int = 0,
        seed: int = 1,
        catalogue_dir: Path | None = None,
        licence: str = "pl-p8-111-2222",
    ) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(state_dir / DB_NAME)
        demo = self._demo_catalogue(catalogue_dir)
        self.demo_photos: dict[str, DemoPhoto] = demo.photos if demo else {}

        if self.store.get_meta("created_at") is None:
            self._create(seed, licence, demo.items if demo else [], models)
            if catalogue_dir is not None:
                self.store.set_meta("catalogue_dir", str(catalogue_dir.resolve()))
        self.seed = int(self.store.get_meta("seed") or seed)
        self.epoch = datetime.fromisoformat(str(self.store.get_meta("created_at")))
        self._models: OrderedDict[int, list[Item]] = OrderedDict()
        self._fingerprints: dict[str, str] = {}

    # the base's identity --------------------------------------------------

    @property
    def licence(self) -> str:
        return str(self.store.get_meta("licence"))

    @property
    def pin(self) -> str:
        """The PIN the merchant would read in Polaris; single use."""
        return str(self.store.get_meta("pin"))

    @property
    def mode_test(self) -> bool:
        return self.store.get_meta("mode_test") == "1"

    def set_mode_test(self, isolated: bool) -> None:
        self.store.set_meta("mode_test", "1" if isolated else "0")

    def new_pin(self, *, mode_test: bool = False) -> str:
        """What "Nouveau prestataire / WebConnect" does: a fresh one-time PIN."""
        pin = f"{secrets.randbelow(10**6):06d}"
        self.store.set_meta("pin", pin)
        self.store.set_meta("pin_used", "0")
        self.store.set_meta("pin_mode_test", "1" if mode_test else "0")
        return pin

    def associate(self, licence: Any, pin: Any, base_url: str) -> dict[str, Any]:
        if licence != self.licence:
            raise ApiError(404, f"Licence inconnue : {licence!r}")
        if not isinstance(pin, str) or not secrets.compare_digest(pin, self.pin):
            raise ApiError(403, "Code PIN incorrect")
        key = secrets.token_hex(24)
        mode_test = self.store.get_meta("pin_mode_test") == "1"
        with self.store.transaction() as db:
            claimed = db.execute(
                "UPDATE meta SET value = '1' WHERE key = 'pin_used' AND value = '0'"
            ).rowcount
            if not claimed:
                raise ApiError(409, "Ce code PIN a déjà été utilisé")
            db.execute(
                "INSERT INTO accesses (cle, created_at, mode_test, permissions)"
                " VALUES (?, ?, ?, ?)",
                (key, stamp(), int(mode_test), json.dumps(PERMISSIONS)),
            )
        return {"Url": base_url, "Cle": key,
                "MagasinReference": reference.REFERENCE_STORE, "ModeTest": mode_test}

    def authenticate(self, key: str | None) -> Access:
        rows = self.store.query(
            "SELECT * FROM accesses WHERE cle = ? AND revoked = 0", (key or "",))
        if not rows:
            raise ApiError(401, "Clé d'API inconnue ou révoquée")
        access = Access(rows[0]["cle"], bool(rows[0]["mode_test"]),
                        json.loads(rows[0]["permissions"]))
        if access.mode_test != self.mode_test:
            wanted = "de test" if access.mode_test else "de production"
            base = "isolé" if self.mode_test else "normal"
            raise ApiError(403, f"Cet accès {wanted} ne répond pas quand la base"
                                f" est en mode {base}")
        return access

    def revoke(self, key: str | None = None) -> int:
        with self.store.transaction() as db:
            if key is None:
                return db.execute("UPDATE accesses SET revoked = 1").rowcount
            return db.execute("UPDATE accesses SET revoked = 1 WHERE cle = ?",
                              (key,)).rowcount

    def set_permissions(self, key: str | None, changes: dict[str, bool]) -> None:
        unknown = set(changes) - set(PERMISSIONS)
        if unknown:
            raise ApiError(400, f"Permissions inconnues : {sorted(unknown)}")
        for row in self.store.query("SELECT cle, permissions FROM accesses"):
            if key is not None and row["cle"] != key:
                continue
            permissions = json.loads(row["permissions"]) | changes
            with self.store.transaction() as db:
                db.execute("UPDATE accesses SET permissions = ? WHERE cle = ?",
                           (json.dumps(permissions), row["cle"]))

    def accesses(self) -> list[dict[str, Any]]:
        return [
            {"Cle": row["cle"], "Revoquee": bool(row["revoked"]),
             "ModeTest": bool(row["mode_test"]),
             "Permissions": json.loads(row["permissions"])}
            for row in self.store.query("SELECT * FROM accesses ORDER BY created_at")
        ]

    # catalogue ------------------------------------------------------------

    def product_page(
        self, since: str, cursor: str, size: int, base_url: str
    ) -> dict[str, Any]:
        since = normalise_since(since)
        after = decode_cursor(cursor) if cursor else None
        rows = self.store.item_page(since, after, size + 1)
        now = datetime.now()
        page: dict[str, Any] = {
            "Items": [self._render(row, base_url, now) for row in rows[:size]]
        }
        if len(rows) > size:
            last = rows[size - 1]
            page["PagerNext"] = {"From": encode_cursor(last["changed_at"], last["id"])}
        return page

    def item_doc(self, row: sqlite3.Row) -> Item:
        """The item as stored: its generated or demo base plus what changed."""
        if row["base"] is not None:
            item = json.loads(row["base"])
        else:
            item = _changeable_copy(self._model(row["no_modele"])[row["variant_index"]])
        return _apply_overrides(item, json.loads(row["overrides"]))

    def find_item(self, model: int, variant: str | None = None) -> list[sqlite3.Row]:
        rows = [row for row in self.store.items_of_model(model)
                if variant is None or row["variant"] == variant]
        if not rows:
            raise ApiError(404, f"Aucun article pour le modèle {model}"
                                f"{'' if variant is None else ' / ' + variant}")
        return rows

    def change_items(self, rows: list[sqlite3.Row], overrides: dict[str, Any]) -> None:
        for row in rows:
            current = json.loads(row["overrides"])
            self.store.update_overrides(row["id"], current | overrides)

    def set_sizes(self, rows: list[sqlite3.Row], sizes: Any) -> None:
        """Replace the items' sizes, as when a size grid is edited in Polaris.

        Each size is ``{"Taille", "Refs", "Magasins"}`` as the API serves it;
        the first ref is its barcode. The sizes carry their own stock: stock
        changed earlier through this API is forgotten, later changes apply.
        """
        self.change_items(rows, {"Tailles": _checked_sizes(sizes), "stock": {}})

    def set_stock(self, sku: str, store_code: int, quantity: int) -> None:
        if store_code not in {store["CodeMagasin"] for store in reference.STORES}:
            raise ApiError(400, f"CodeMagasin inconnu : {store_code}")
        located = self.locate_sku(sku)
        if located is None:
            raise ApiError(404, f"Article inconnu : {sku!r}")
        row, ean = located
        overrides = json.loads(row["overrides"])
        overrides.setdefault("stock", {}).setdefault(ean, {})[str(store_code)] = (
            quantity)
        self.store.update_overrides(row["id"], overrides)

    def add_stock(self, sku: str, store_code: int, delta: int) -> None:
        located = self.locate_sku(sku)
        if located is None:
            return
        row, ean = located
        size = next(size for size in self.item_doc(row)["Tailles"]
                    if ean in size["Refs"])
        current = next((place["Dispo"] for place in size["Magasins"]
                        if place["CodeMagasin"] == store_code), 0)
        self.set_stock(ean, store_code, current + delta)

    def churn_stock(self, count: int) -> list[dict[str, Any]]:
        """Change the stock of ``count`` random sizes, as a day of trading would.

        Reproducible for a given seed: the n-th churn of a base always picks
        the same sizes.
        """
        round_number = int(self.store.get_meta("churns") or 0) + 1
        self.store.set_meta("churns", str(round_number))
        dice = random.Random(f"churn:{self.seed}:{round_number}")
        ids = [row["id"] for row in self.store.query("SELECT id FROM items")]
        changes = []
        for item_id in dice.sample(ids, k=min(count, len(ids))):
            row = self.store.query("SELECT * FROM items WHERE id = ?", (item_id,))[0]
            sizes = self.item_doc(row).get("Tailles", [])
            if not sizes:
                continue
            change = {"SKU": dice.choice(sizes)["Refs"][0],
                      "CodeMagasin": dice.choice(reference.STORES)["CodeMagasin"],
                      "Dispo": dice.randint(0, 9)}
            self.set_stock(change["SKU"], change["CodeMagasin"], change["Dispo"])
            changes.append(change)
        return changes

    def locate_sku(self, sku: str) -> tuple[sqlite3.Row, str] | None:
        """The item row holding barcode or reference ``sku``, and its EAN."""
        for row in self._candidate_rows(sku):
            for size in self.item_doc(row).get("Tailles", []):
                if sku in size["Refs"]:
                    return row, size["Refs"][0]
        return None

    def sku_exists(self, sku: str) -> bool:
        return sku in reference.SERVICE_SKUS or self.locate_sku(sku) is not None

    def add_models(self, count: int) -> list[int]:
        first = max(self.store.max_model() + 1, FIRST_GENERATED_MODEL)
        numbers = list(range(first, first + count))
        now = stamp()
        self.store.add_items([
            (number, generator.variant_code(item), index, None, now)
            for number in numbers
            for index, item in enumerate(self._model(number))
        ])
        return numbers

    def photo(self, name: str) -> tuple[bytes, str] | None:
        """(bytes, media type) of a photo named as in an item's ``Chemin``."""
        if name in self.demo_photos:
            return self.demo_photos[name].path.read_bytes(), "image/jpeg"
        parts = name.removesuffix(".jpg").split("/")
        if len(parts) != 4 or parts[0] != "g" or not all(
                part.isdigit() for part in parts[1:]):
            return None
        if not self.store.items_of_model(int(parts[1])):
            return None
        picture = self._generated_photo(name)
        return (picture, "image/jpeg") if picture else None

    def _generated_photo(self, name: str) -> bytes | None:
        model, variant_index, order = (
            int(part) for part in name.removesuffix(".jpg").split("/")[1:])
        items = self._model(model)
        if variant_index >= len(items) or not any(
                photo["Ordre"] == order for photo in items[variant_index]["Photos"]):
            return None
        colour = items[variant_index]["Niveau1"]["Code"]
        return photos.draw_photo(self.seed, model, variant_index, order, colour)

    # customers -----------------------------------------------------------

    def upsert_customer(self, customer: Any, access: Access | None) -> dict[str, Any]:
        validation.check_customer(customer)
        refs = [str(ref) for ref in customer["RefsExt"]]
        marks = ",".join("?" * len(refs))
        with self.store.transaction() as db:
            found = db.execute(
                f"SELECT no_client FROM customer_refs WHERE ref IN ({marks})", refs
            ).fetchall()
            if len({row["no_client"] for row in found}) > 1:
                raise ApiError(400, "RefsExt désigne plusieurs clients différents")
            created = not found
            require(access, "ImportClients" if created else "ModifClients")
            number = None if created else found[0]["no_client"]
            document = self._merge_customer(db, number, customer)
            cursor = db.execute(
                "INSERT OR REPLACE INTO customers (no_client, doc, changed_at)"
                " VALUES (?, ?, ?)", (number, json.dumps(document), stamp()))
            number = number or cursor.lastrowid
            document["NoClient"] = number
            db.execute("UPDATE customers SET doc = ? WHERE no_client = ?",
                       (json.dumps(document), number))
            db.executemany(
                "INSERT OR IGNORE INTO customer_refs (ref, no_client) VALUES (?, ?)",
                [(ref, number) for ref in document["RefsExt"]])
        return {"NoClient": number, "Cree": created}

    def customers(self, with_email_only: bool, since: str) -> list[dict[str, Any]]:
        since = normalise_since(since)
        result = []
        for row in self.store.query(
                "SELECT * FROM customers WHERE changed_at >= ? ORDER BY no_client",
                (since,)):
            customer = json.loads(row["doc"])
            customer["DerniereChangement"] = row["changed_at"]
            if with_email_only and not customer.get("Mail"):
                continue
            result.append(customer)
        return result

    # sales ---------------------------------------------------------------

    def record_sale(self, sale: Any, access: Access) -> dict[str, Any]:
        require(access, "ImportVentes")
        validation.check_sale(sale, self.sku_exists, self.sale_exists)
        lines, payments = validation.sale_totals(sale)
        record = dict(sale)
        record["Controle"] = {"TotalLignesTTC": lines, "TotalReglementsTTC": payments,
                              "EcartTTC": round(lines - payments, 2)}
        try:
            with self.store.transaction() as db:
                cursor = db.execute(
                    "INSERT INTO sales (ref_ext, doc, received_at) VALUES (?, ?, ?)",
                    (sale["RefExt"], json.dumps(record), stamp()))
        except sqlite3.IntegrityError as error:
            raise ApiError(409, f"La vente {sale['RefExt']!r} existe déjà") from error
        if sale.get("Client") is not None:
            self._link_customer(sale["Client"])
        for detail in sale["Details"]:
            self.add_stock(detail["SKU"], sale["CodeMagasin"], -detail["Qte"])
        return {"NoVente": cursor.lastrowid, "RefExt": sale["RefExt"]}

    def _link_customer(self, customer: dict[str, Any]) -> None:
        # The sale is recorded by now: a customer that cannot be filed (refs
        # naming two customers) stays unlinked rather than failing the sale.
        try:
            self.upsert_customer(customer, None)
        except ApiError:
            pass

    def sale_exists(self, ref_ext: str) -> bool:
        return bool(self.store.query("SELECT 1 FROM sales WHERE ref_ext = ?",
                                     (ref_ext,)))

    def sales(self, ref_ext: str | None = None) -> list[dict[str, Any]]:
        rows = self.store.query(
            "SELECT * FROM sales WHERE ? IS NULL OR ref_ext = ? ORDER BY no_vente",
            (ref_ext, ref_ext))
        return [json.loads(row["doc"]) | {"NoVente": row["no_vente"],
                                           "RecueLe": row["received_at"]}
                for row in rows]

    # internals -----------------------------------------------------------

    def _create(self, seed: int, licence: str, demo_items: list[Item],
                models: int) -> None:
        epoch = datetime.now().replace(microsecond=0)
        self.seed, self.epoch = seed, epoch
        self._models = OrderedDict()
        ages = random.Random(f"ages:{seed}")
        rows: list[tuple[int, str, int, str | None, str]] = []
        for item in demo_items:
            changed = epoch - timedelta(minutes=ages.randint(60, 90 * 24 * 60))
            rows.append((item["NoModele"], generator.variant_code(item),
                         _variant_index(rows, item["NoModele"]),
                         json.dumps(item), stamp(changed)))
        for number in range(FIRST_GENERATED_MODEL, FIRST_GENERATED_MODEL + models):
            age = timedelta(minutes=ages.randint(60, 90 * 24 * 60))
            for index, item in enumerate(self._model(number)):
                rows.append((number, generator.variant_code(item), index, None,
                             stamp(epoch - age)))
        self.store.add_items(rows)
        for key, value in (("seed", str(seed)), ("licence", licence),
                           ("mode_test", "0"), ("created_at", epoch.isoformat())):
            self.store.set_meta(key, value)
        self.new_pin()

    def _demo_catalogue(self, catalogue_dir: Path | None) -> DemoCatalogue | None:
        if catalogue_dir is not None:
            return load_demo_catalogue(catalogue_dir)
        # A restarted base serves its demo photos from where it was loaded,
        # as long as that folder is still there.
        remembered = self.store.get_meta("catalogue_dir")
        if remembered and Path(remembered).is_dir():
            return load_demo_catalogue(Path(remembered))
        return None

    def _model(self, number: int) -> list[Item]:
        # Paging rebuilds models in runs: a small cache spares rebuilding one
        # model once per colour.
        if number in self._models:
            self._models.move_to_end(number)
            return self._models[number]
        items = generator.generate_model(self.seed, number, self.epoch)
        self._models[number] = items
        if len(self._models) > 4096:
            self._models.popitem(last=False)
        return items

    def _candidate_rows(self, sku: str) -> list[sqlite3.Row]:
        parsed = generator.parse_ean13(sku)
        if parsed is not None:
            row = self.store.item(parsed[0], parsed[1])
            return [row] if row is not None else []
        model = sku.split("-", 1)[0]
        return self.store.items_of_model(int(model)) if model.isdigit() else []

    def _render(self, row: sqlite3.Row, base_url: str, now: datetime) -> Item:
        item = self.item_doc(row)
        item["PrixTTC"] = generator.current_price(item, now)
        item["DerniereChangement"] = row["changed_at"]
        item["Photos"] = [
            {"Url": f"{base_url}/photos/{photo['Chemin']}", "Ordre": photo["Ordre"],
             "Empreinte": self._fingerprint(photo["Chemin"])}
            for photo in item.get("Photos", [])
        ]
        return item

    def _fingerprint(self, name: str) -> str:
        if name in self.demo_photos:
            return self.demo_photos[name].sha1
        if name not in self._fingerprints:
            picture = self._generated_photo(name)
            self._fingerprints[name] = photos.fingerprint(picture) if picture else ""
        return self._fingerprints[name]

    def _merge_customer(self, db: sqlite3.Connection, number: int | None,
                        customer: dict[str, Any]) -> dict[str, Any]:
        document: dict[str, Any] = {}
        if number is not None:
            row = db.execute("SELECT doc FROM customers WHERE no_client = ?",
                             (number,)).fetchone()
            document = json.loads(row["doc"])
        refs = list(dict.fromkeys(document.get("RefsExt", []) + customer["RefsExt"]))
        return document | customer | {"RefsExt": refs}


def _variant_index(rows: list[tuple[int, str, int, str | None, str]],
                   model: int) -> int:
    return sum(1 for row in rows if row[0] == model)


def _changeable_copy(item: Item) -> Item:
    """A copy whose top level and stock may change; the rest stays shared.

    Cached generated models are read by every page: copying only what
    overrides touch keeps paging quick.
    """
    copy = dict(item)
    if "Tailles" in item:
        copy["Tailles"] = [
            size | {"Magasins": [dict(place) for place in size["Magasins"]]}
            for size in item["Tailles"]
        ]
    return copy


def _checked_sizes(sizes: Any) -> list[dict[str, Any]]:
    """The sizes of an admin request, or a 400 saying what is wrong."""
    if not isinstance(sizes, list):
        raise ApiError(400, "Tailles doit être une liste")
    return [_checked_size(size) for size in sizes]


def _checked_size(size: Any) -> dict[str, Any]:
    stores = {store["CodeMagasin"] for store in reference.STORES}
    if not isinstance(size, dict):
        raise ApiError(400, f"Taille invalide : {size!r}")
    refs, places = size.get("Refs"), size.get("Magasins", [])
    if (not isinstance(size.get("Taille"), str) or not isinstance(refs, list)
            or not refs or not all(isinstance(ref, str) and ref for ref in refs)
            or not isinstance(places, list)):
        raise ApiError(400, f"Taille invalide : {size!r}")
    for place in places:
        if (not isinstance(place, dict) or place.get("CodeMagasin") not in stores
                or not isinstance(place.get("Dispo"), int)):
            raise ApiError(400, f"Magasin invalide : {place!r}")
    return {"Taille": size["Taille"], "Refs": list(refs),
            "Magasins": [{"CodeMagasin": place["CodeMagasin"],
                          "Dispo": place["Dispo"]} for place in places]}


def _apply_overrides(item: Item, overrides: dict[str, Any]) -> Item:
    if "Tailles" in overrides:
        item["Tailles"] = [size | {"Magasins": [dict(place)
                                                for place in size["Magasins"]]}
                           for size in overrides["Tailles"]]
    for size in item.get("Tailles", []):
        stock = overrides.get("stock", {}).get(size["Refs"][0], {})
        for place in size["Magasins"]:
            place["Dispo"] = stock.get(str(place["CodeMagasin"]), place["Dispo"])
    if "PrixNormalTTC" in overrides:
        item["PrixNormalTTC"] = overrides["PrixNormalTTC"]
        item["PrixTTC"] = overrides["PrixNormalTTC"]
    if "Promotion" in overrides:
        item.pop("Promotion", None)
        item["PrixTTC"] = item["PrixNormalTTC"]
        promotion = overrides["Promotion"]
        if promotion is not None and "Debut" in promotion:
            item["Promotion"] = promotion
        elif promotion is not None:
            item["PrixTTC"] = promotion["PrixTTC"]
    for field in ("Supprime", "Publie", "Photos"):
        if field in overrides:
            item[field] = overrides[field]
    return item


def require(access: Access | None, permission: str) -> None:
    """403 unless the access has the permission box ticked (None: internal)."""
    if access is not None and not access.permissions.get(permission, False):
        raise ApiError(403, f"Permission manquante pour cet accès : {permission}")


def normalise_since(since: str) -> str:
    """`DerniereDateChangement` as a comparable stamp; empty means everything."""
    if not since:
        return ""
    try:
        moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError as error:
        raise ApiError(400, f"DerniereDateChangement illisible : {since!r}") from error
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)
    return stamp(moment)


def encode_cursor(changed_at: str, item_id: int) -> str:
    return base64.urlsafe_b64encode(f"{changed_at}|{item_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        changed_at, item_id = base64.urlsafe_b64decode(cursor).decode().split("|")
        return changed_at, int(item_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise ApiError(400, f"Curseur de pagination invalide : {cursor!r}") from error
