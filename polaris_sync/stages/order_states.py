"""The order states "Exported to Polaris" and "Polaris export error" (G7).

The tool creates them when the shop lacks them. Moving an order into a state
runs PrestaShop's state change: the target state's `logable` flag sets the
order's `valid`, `paid` and `shipped` drive payments and stock, `invoice` and
`delivery` number documents, `send_email` mails the customer. Our states must
leave the order as it was, so they send no e-mail, number no invoice nor
delivery slip, and copy `logable`, `paid` and `shipped` from the order's
current state; a state whose flags differ from the usual "paid, not shipped"
gets its own variant, named after the difference.

States are matched by name on our side: the shop answers 500 to a name filter
on `order_states`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

_STATE_FIELDS = "[id,name,logable,paid,shipped,deleted]"


class Purpose(StrEnum):
    EXPORTED = "exported"
    ERROR = "error"


_NAMES = {
    Purpose.EXPORTED: {"en": "Exported to Polaris", "fr": "Exporté vers Polaris"},
    Purpose.ERROR: {"en": "Polaris export error", "fr": "Erreur d'export Polaris"},
}
_VARIANTS = {
    "not paid": {"en": "not paid", "fr": "non payée"},
    "not valid": {"en": "not valid", "fr": "non valide"},
    "shipped": {"en": "shipped", "fr": "expédiée"},
}
_COLOURS = {Purpose.EXPORTED: "#32CD32", Purpose.ERROR: "#DC143C"}


@dataclass(frozen=True)
class Flags:
    logable: bool
    paid: bool
    shipped: bool

    def variant(self) -> list[str]:
        """What sets these flags apart from a paid, valid, unshipped order."""
        names = []
        if not self.logable:
            names.append("not valid")
        if not self.paid:
            names.append("not paid")
        if self.shipped:
            names.append("shipped")
        return names


USUAL = Flags(logable=True, paid=True, shipped=False)


class OrderStates:
    """Finds, creates and applies the export states of one shop."""

    def __init__(self, prestashop: Any) -> None:
        self.prestashop = prestashop
        self._flags: dict[int, Flags] = {}
        self._ids: dict[tuple[Purpose, Flags], int] = {}
        self._names: dict[int, set[str]] = {}
        self._languages: dict[int, str] | None = None

    async def load(self) -> None:
        rows = await self.prestashop.list("order_states", display=_STATE_FIELDS)
        for row in rows:
            if _flag(row.get("deleted")):
                continue
            state_id = int(row["id"])
            self._flags[state_id] = Flags(
                _flag(row.get("logable")), _flag(row.get("paid")),
                _flag(row.get("shipped")),
            )
            self._names[state_id] = _texts(row.get("name"))

    def flags(self, state_id: int) -> Flags:
        return self._flags.get(state_id, USUAL)

    def is_ours(self, state_id: int, purpose: Purpose) -> bool:
        base = set(_NAMES[purpose].values())
        return any(
            name.split(" (")[0] in base for name in self._names.get(state_id, ())
        )

    async def state_for(self, purpose: Purpose, current_state: int) -> int:
        """The id of our `purpose` state matching the order's current flags."""
        if self.is_ours(current_state, purpose):
            return current_state
        flags = self.flags(current_state)
        key = (purpose, flags)
        if key not in self._ids:
            self._ids[key] = await self._find_or_create(purpose, flags)
        return self._ids[key]

    async def move(self, order_id: int, purpose: Purpose, current_state: int) -> int:
        """Put the order in our `purpose` state, without mail; returns the state."""
        state_id = await self.state_for(purpose, current_state)
        if state_id != current_state:
            await self.prestashop.create(
                "order_histories", {"id_order": order_id, "id_order_state": state_id}
            )
        return state_id

    async def _find_or_create(self, purpose: Purpose, flags: Flags) -> int:
        names = await self._state_names(purpose, flags)
        wanted = set(names.values())
        for state_id, known in self._names.items():
            if known & wanted and self._flags[state_id] == flags:
                return state_id

        created = await self.prestashop.create("order_states", {
            "name": names,
            "template": {language: "" for language in names},
            "send_email": 0,
            "module_name": "",
            "invoice": 0,
            "color": _COLOURS[purpose],
            "logable": int(flags.logable),
            "shipped": int(flags.shipped),
            "unremovable": 0,
            "delivery": 0,
            "hidden": 0,
            "paid": int(flags.paid),
            "pdf_delivery": 0,
            "pdf_invoice": 0,
            "deleted": 0,
        })
        state_id = int(created["id"])
        self._flags[state_id] = flags
        self._names[state_id] = wanted
        return state_id

    async def _state_names(self, purpose: Purpose, flags: Flags) -> dict[int, str]:
        """The state's name in every language of the shop (French or English)."""
        if self._languages is None:
            rows = await self.prestashop.list(
                "languages", filters={"active": 1}, display="[id,iso_code]"
            )
            self._languages = {int(row["id"]): str(row["iso_code"]) for row in rows}
        names = {}
        for language_id, iso in self._languages.items():
            lang = "fr" if iso == "fr" else "en"
            name = _NAMES[purpose][lang]
            variant = [_VARIANTS[part][lang] for part in flags.variant()]
            if variant:
                name = f"{name} ({', '.join(variant)})"
            names[language_id] = name
        return names


def _flag(value: Any) -> bool:
    return str(value or "0").strip() not in ("0", "")


def _texts(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {str(text) for text in value.values() if text}
    return {str(value)} if value else set()
