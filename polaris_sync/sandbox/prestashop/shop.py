"""The emulated shop: its resources, its database, its languages and images."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import images, registry, versions
from .model import Resource
from .store import Store

# What a shop seeded before PS_TIMEZONE existed in the seed runs on.
DEFAULT_TIME_ZONE = "Europe/Paris"

KEY_METHODS = frozenset({"GET", "PUT", "POST", "PATCH", "DELETE", "HEAD"})


class Shop:
    def __init__(self, db_path: Path, *, api_key: str, version: str) -> None:
        self.api_key = api_key
        self.version = version
        self.db_path = db_path
        self.image_dir = db_path.parent / f"{db_path.name}.images"
        self.resources: dict[str, Resource] = versions.adapt(
            registry.resources(), version
        )
        self.store = Store(db_path, self.resources.values())
        images.create_table(self.store)
        if self.store.created:
            registry.seed(self)
        self.languages = [
            row[0]
            for row in self.store.execute(
                "SELECT id FROM ws_languages WHERE active = 1 ORDER BY id"
            )
        ]
        self.default_language = int(self.configuration("PS_LANG_DEFAULT") or 1)
        # Set by the admin API: lists asked without `sort` come back shuffled.
        self.unsorted_order: random.Random | None = None
        # Set by the admin API: methods the key may use per resource ("*" for
        # the others); None grants everything.
        self.key_rights: dict[str, frozenset[str]] | None = None

    @property
    def patch_allowed(self) -> bool:
        """PATCH exists from PrestaShop 8.0 on."""
        return not self.version.startswith("1.")

    def granted(self, resource: str) -> frozenset[str]:
        """Methods the API key may use on a resource."""
        if self.key_rights is None:
            return KEY_METHODS
        return self.key_rights.get(resource, self.key_rights.get("*", frozenset()))

    def configuration(self, name: str) -> str | None:
        value = self.store.scalar(
            "SELECT value FROM ws_configurations WHERE name = ?", (name,)
        )
        return None if value is None else str(value)

    def time_zone(self) -> ZoneInfo:
        """PS_TIMEZONE: the shop writes every date as its local wall clock."""
        name = self.configuration("PS_TIMEZONE") or DEFAULT_TIME_ZONE
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            # PHP falls back to UTC when the configured zone is unknown.
            return ZoneInfo("UTC")

    def local_time(self, instant: datetime | None = None) -> datetime:
        """An instant (default: now) on the shop's wall clock, naive, to the
        second; a naive instant is taken as already on that clock."""
        zone = self.time_zone()
        if instant is None:
            instant = datetime.now(zone)
        elif instant.tzinfo is not None:
            instant = instant.astimezone(zone)
        return instant.replace(tzinfo=None, microsecond=0)

    def close(self) -> None:
        self.store.close()
