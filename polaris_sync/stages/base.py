"""What every stage receives and returns.

A stage is an ``async def run(ctx: StageContext) -> StageResult``. It fetches,
plans, then applies (or, in a dry run, only reports the plan through the audit
as ``planned`` events). Problems with one item are audited and counted; a
failure of the whole stage (refused credentials, unreachable server) is raised
as a :class:`~polaris_sync.errors.RemoteError`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from polaris_sync.audit import Audit
    from polaris_sync.config import Config
    from polaris_sync.polaris.client import PolarisClient
    from polaris_sync.progress import Progress
    from polaris_sync.state import State

# The PrestaShop client is typed loosely here so that the shell does not depend
# on the Webservice package; stages use it through its own annotations.
PrestaShopClient = Any


@dataclass
class StageContext:
    config: Config
    state: State
    polaris: PolarisClient
    prestashop: PrestaShopClient
    audit: Audit
    progress: Progress
    dry_run: bool = False
    deadline: float | None = None
    # When set, the catalogue stage re-syncs the properties of these Polaris
    # references only, whatever their fingerprints say (E11).
    resync_refs: frozenset[str] = frozenset()

    def out_of_time(self) -> bool:
        """True once the run's time budget is spent: stop at the next item."""
        return self.deadline is not None and time.monotonic() >= self.deadline


# What a count counts when the caller does not say: the summary's unit.
ITEM = "item"
WOULD_FAIL = "would fail"


@dataclass
class StageResult:
    stage: str
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    # False when the stage stopped before the end (time budget): it stays due.
    complete: bool = True
    # The same counts by (action, what was counted: "product", "size"...), for
    # a summary where each figure has its unit. "" when the action names it.
    counted: Counter[tuple[str, str]] = field(default_factory=Counter)
    # What a dry run found the real run would fail on; nothing failed yet.
    would_fail: list[str] = field(default_factory=list)

    def count(self, action: str, n: int = 1, *, what: str = ITEM) -> None:
        self.counts[action] += n
        self.counted[(action, what)] += n

    def fail(self, message: str, *, what: str = ITEM) -> None:
        self.count("failed", what=what)
        self.errors.append(message)

    def foresee_failure(self, message: str, *, what: str = ITEM) -> None:
        """A dry run's `fail`: the real run would fail here, for this reason."""
        self.count(WOULD_FAIL, what=what)
        self.would_fail.append(message)

    @property
    def failed(self) -> int:
        return self.counts["failed"]


Stage = Callable[[StageContext], Awaitable[StageResult]]

STAGE_NAMES = ("config", "catalogue", "stock", "prices", "orders", "customers")
