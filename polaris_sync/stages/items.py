"""Handling feed items one by one, each on its own, several at a time.

A product the shop refuses, or a write that fails, is audited with the reason
and counted; the other items go on, and the failed one is read again next run.
Only stage-wide failures (refused key, shop unreachable) stop the stage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sized
from typing import Any, TypeVar

from polaris_sync.errors import ItemRejected, ServerUnreachable, TransientError
from polaris_sync.mapping.item import CatalogueItem
from polaris_sync.stages.base import StageContext, StageResult

T = TypeVar("T")

# Consecutive server errors after which the shop is taken as down.
GIVE_UP_AFTER = 10


def describe(item: CatalogueItem) -> str:
    variant = f" {item.variant_label or item.variant_key}" if item.variant_key else ""
    return f"model {item.model}{variant} ({item.label})"


class ItemRun:
    """One stage's pass over the feed: counting, auditing, applying or planning."""

    def __init__(self, ctx: StageContext, result: StageResult) -> None:
        self.ctx = ctx
        self.result = result
        self.stage = result.stage
        self.failed: list[CatalogueItem] = []
        self._transient_in_a_row = 0
        self._gave_up = False

    async def for_each(
        self,
        items: Iterable[CatalogueItem],
        handle: Callable[[CatalogueItem], Awaitable[None]],
    ) -> None:
        """Run `handle` on every item, up to the shop's concurrency at a time.

        Workers pull items one by one: only the items in hand are in memory.
        """
        width = self.ctx.config.prestashop.max_concurrency
        self.ctx.progress.start(
            self.stage, len(items) if isinstance(items, Sized) else None
        )
        pending = iter(items)

        async def worker() -> None:
            for item in pending:
                if self._gave_up:
                    return
                if self.ctx.out_of_time():
                    self.result.complete = False
                    return
                try:
                    await handle(item)
                    self._transient_in_a_row = 0
                except ServerUnreachable:
                    raise
                except (ItemRejected, TransientError) as error:
                    self.failed.append(item)
                    self.fail(item, str(error))
                    self._give_up_if_failing(error)
                finally:
                    self.ctx.progress.advance()

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(width):
                    group.create_task(worker())
        except* Exception as errors:
            raise errors.exceptions[0] from None
        finally:
            self.ctx.progress.finish()

    def _give_up_if_failing(self, error: Exception) -> None:
        """A shop failing every item in a row is down: stop the stage."""
        if not isinstance(error, TransientError):
            self._transient_in_a_row = 0
            return
        self._transient_in_a_row += 1
        if self._transient_in_a_row >= GIVE_UP_AFTER and not self._gave_up:
            self._gave_up = True
            raise TransientError(
                f"{GIVE_UP_AFTER} items in a row failed on a server error; the "
                f"{self.stage} stage stops here and the next run goes on. "
                f"Last error: {error}"
            )

    async def write(
        self,
        action: str,
        reason: str,
        operation: Callable[[], Awaitable[T]],
        *,
        polaris_key: str,
        prestashop_id: int | None = None,
        what: str = "product",
        **fields: Any,
    ) -> T | None:
        """Apply one write and audit it; in a dry run only plan it (None).

        `what` is written to: a product, a size, a photo...
        """
        if self.ctx.dry_run:
            self.ctx.audit.event(
                "planned",
                stage=self.stage,
                reason=f"would be {action}: {reason}",
                polaris_key=polaris_key,
                prestashop_id=prestashop_id,
                what=what,
                **fields,
            )
            self.result.count("planned", what=what)
            return None
        outcome = await operation()
        if prestashop_id is None and isinstance(outcome, dict) and "id" in outcome:
            prestashop_id = int(outcome["id"])
        self.ctx.audit.event(
            action,
            stage=self.stage,
            reason=reason,
            polaris_key=polaris_key,
            prestashop_id=prestashop_id,
            what=what,
            **fields,
        )
        self.result.count(action, what=what)
        return outcome

    async def update_unless_gone(
        self,
        reason: str,
        operation: Callable[[], Awaitable[Any]],
        *,
        polaris_key: str,
        prestashop_id: int,
        what: str = "product",
    ) -> bool:
        """Apply one update; False when the shop no longer has the object.

        The merchant may delete in the shop what we linked; the caller then
        forgets the link or creates the object again.
        """
        try:
            await self.write(
                "updated",
                reason,
                operation,
                polaris_key=polaris_key,
                prestashop_id=prestashop_id,
                what=what,
            )
        except ItemRejected as error:
            if error.status == 404:
                return False
            raise
        return True

    def skip(
        self,
        key: str,
        reason: str,
        prestashop_id: int | None = None,
        *,
        what: str = "product",
    ) -> None:
        self._note("skipped", key, reason, prestashop_id, what)

    def unchanged(self, key: str, prestashop_id: int | None = None) -> None:
        reason = "nothing changed since the last write"
        self._note("unchanged", key, reason, prestashop_id, "product")

    def _note(
        self,
        action: str,
        key: str,
        reason: str,
        prestashop_id: int | None,
        what: str,
    ) -> None:
        self.ctx.audit.event(
            action,
            stage=self.stage,
            reason=reason,
            polaris_key=key,
            prestashop_id=prestashop_id,
            what=what,
        )
        self.result.count(action, what=what)

    def fail(self, item: CatalogueItem, why: str) -> None:
        reason = f"{describe(item)}: {why}; retried next run"
        self.ctx.audit.event(
            "failed",
            stage=self.stage,
            reason=reason,
            polaris_key=f"{item.model}",
            what="product",
        )
        self.result.fail(reason, what="product")
