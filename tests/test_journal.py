"""The sale journal sends each sale exactly once, whatever interrupts it (G11)."""

import asyncio
from dataclasses import replace

import pytest

from polaris_sync.errors import ItemRejected, TransientError
from polaris_sync.journal import Delivery, EntryStatus, Journal
from polaris_sync.sales.corrections import ExportRecord
from polaris_sync.sales.sale import Payment, Sale, SaleLine
from polaris_sync.state import State


class Crash(BaseException):
    """The process dies here: nothing after it runs, no handler catches it."""


class PolarisSales:
    """Polaris' sales endpoints as the journal sees them: 409 on a known RefExt."""

    def __init__(self):
        self.sales = {}
        self.posts = 0
        self.lookups = 0
        self.fail_next = None
        self.crash_after_store = False

    async def send_sale(self, sale):
        self.posts += 1
        if self.fail_next is not None:
            failure, self.fail_next = self.fail_next, None
            raise failure
        if sale["RefExt"] in self.sales:
            raise ItemRejected("exists", status=409)
        self.sales[sale["RefExt"]] = sale
        if self.crash_after_store:
            self.crash_after_store = False
            raise Crash()
        return {}

    async def find_sale(self, ref_ext):
        self.lookups += 1
        return self.sales.get(ref_ext)


def payload(ref_ext="1042", amount=30.0):
    return {
        "RefExt": ref_ext,
        "Details": [{"SKU": "A", "Qte": 1, "MontantTTC": amount, "RemiseTTC": 0.0}],
        "Reglements": [{"Code": "CB", "Montant": amount}],
    }


@pytest.fixture
def journal():
    return Journal(State.in_memory())


def deliver(journal, polaris, sale):
    return asyncio.run(journal.deliver(polaris, order_id=1042, kind="sale",
                                       payload=sale))


def test_a_sale_is_sent_once_and_never_again(journal):
    polaris = PolarisSales()
    assert deliver(journal, polaris, payload()) is Delivery.SENT
    assert deliver(journal, polaris, payload()) is Delivery.ALREADY_SENT
    assert polaris.posts == 1 and polaris.lookups == 0
    assert journal.entry("1042").status is EntryStatus.SENT


def test_g11_crash_before_the_send_sends_it_on_the_next_run(journal):
    polaris = PolarisSales()
    polaris.fail_next = Crash()
    with pytest.raises(Crash):
        deliver(journal, polaris, payload())
    assert journal.entry("1042").status is EntryStatus.PENDING

    assert deliver(journal, polaris, payload()) is Delivery.SENT
    assert list(polaris.sales) == ["1042"] and polaris.lookups == 1


def test_g11_crash_after_the_send_does_not_send_it_again(journal):
    polaris = PolarisSales()
    polaris.crash_after_store = True
    with pytest.raises(Crash):
        deliver(journal, polaris, payload())
    assert journal.entry("1042").status is EntryStatus.PENDING

    assert deliver(journal, polaris, payload()) is Delivery.FOUND_IN_POLARIS
    assert polaris.posts == 1
    assert journal.entry("1042").status is EntryStatus.SENT


def test_g11_a_409_for_an_existing_reference_counts_as_sent(journal):
    polaris = PolarisSales()
    polaris.sales["1042"] = payload()
    assert deliver(journal, polaris, payload()) is Delivery.ALREADY_IN_POLARIS
    assert journal.entry("1042").status is EntryStatus.SENT


def test_a_timeout_leaves_the_sale_pending_and_polaris_is_asked_first(journal):
    polaris = PolarisSales()
    polaris.fail_next = TransientError("timed out")
    with pytest.raises(TransientError):
        deliver(journal, polaris, payload())
    assert journal.entry("1042").status is EntryStatus.PENDING

    assert deliver(journal, polaris, payload()) is Delivery.SENT
    assert polaris.lookups == 1 and len(polaris.sales) == 1


def test_a_rejected_sale_is_sent_corrected_without_asking_polaris(journal):
    polaris = PolarisSales()
    polaris.fail_next = ItemRejected("SKU inconnu", status=400)
    with pytest.raises(ItemRejected):
        deliver(journal, polaris, payload())
    entry = journal.entry("1042")
    assert entry.status is EntryStatus.REJECTED and "SKU inconnu" in entry.detail

    assert deliver(journal, polaris, payload(amount=31.0)) is Delivery.SENT
    assert polaris.lookups == 0
    assert polaris.sales["1042"]["Reglements"][0]["Montant"] == 31.0


def test_journal_tables_come_with_the_state_migrations(tmp_path):
    with State.open(tmp_path) as state:
        tables = {row[0] for row in state.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"sale_journal", "order_exports"} <= tables


def test_order_export_record_round_trips(journal):
    sale = Sale("1042", "2026-12-04T16:01:21Z", 1,
                (SaleLine("A", 2, 15), SaleLine("PORT", 1, 8)),
                (Payment("CB", 38),))
    record = ExportRecord(1042, 1, "abc", (sale,), frozenset({3}), 0, True)
    journal.set_order_export(1042, status="exported", record=record,
                             seen="2026-12-04 17:01:22|11", current_state=14)

    stored = journal.order_export(1042)
    assert stored.record == replace(record, chain=(sale,))
    assert (stored.status, stored.current_state) == ("exported", 14)
    assert journal.highest_order_id() == 1042


def test_a_409_for_another_sale_under_our_reference_is_refused(journal):
    polaris = PolarisSales()
    polaris.sales["1042"] = payload(amount=99.0)  # e.g. from a copy of the shop
    with pytest.raises(ItemRejected) as refused:
        deliver(journal, polaris, payload())
    assert "another sale under the reference 1042" in str(refused.value)
    assert journal.entry("1042").status is EntryStatus.REJECTED


def test_g11_a_sale_found_after_a_crash_must_be_the_one_we_sent(journal):
    polaris = PolarisSales()
    polaris.fail_next = Crash()
    with pytest.raises(Crash):
        deliver(journal, polaris, payload())
    polaris.sales["1042"] = payload(amount=12.0)
    with pytest.raises(ItemRejected):
        deliver(journal, polaris, payload())


def test_g11_a_sale_sent_before_the_order_changed_is_found_as_it_was_sent(journal):
    polaris = PolarisSales()
    polaris.crash_after_store = True
    with pytest.raises(Crash):
        deliver(journal, polaris, payload())
    changed = payload(amount=12.0)

    assert deliver(journal, polaris, changed) is Delivery.FOUND_IN_POLARIS
    assert polaris.posts == 1
    assert journal.sent_instead(changed) == payload()
    assert journal.sent_instead(payload()) is None


def _exported_with(journal, polaris, refs, refused):
    """Order 1042 recorded as exported with the sales `refs` though Polaris
    refused the one called `refused` (those after it were not sent), as
    earlier versions left it."""
    for ref in refs:
        if ref == refused:
            polaris.fail_next = ItemRejected("refused", status=400)
            with pytest.raises(ItemRejected):
                deliver(journal, polaris, payload(ref))
            break
        deliver(journal, polaris, payload(ref))
    chain = tuple(Sale(ref, "2026-12-04T16:01:21Z", 1, (SaleLine("A", 1, 30),),
                       (Payment("CB", 30),)) for ref in refs)
    record = ExportRecord(1042, 1, "abc", chain, frozenset({3, 4}))
    journal.set_order_export(1042, status="exported", record=record, seen="s",
                             current_state=14)


def test_g11_an_order_recorded_exported_with_a_refused_sale_is_found(journal):
    polaris = PolarisSales()
    _exported_with(journal, polaris, ["1042", "1042-R3", "1042-R4"], "1042-R3")

    [(export, missing)] = journal.refused_yet_recorded()
    assert (export.order_id, missing) == (1042, {1, 2})


def test_sales_polaris_got_after_the_refused_one_are_not_missing(journal):
    polaris = PolarisSales()
    _exported_with(journal, polaris, ["1042", "1042-R3", "1042-R4"], "1042-R3")
    deliver(journal, polaris, payload("1042-R4"))
    assert [missing for _, missing in journal.refused_yet_recorded()] == [{1}]


def test_only_orders_recorded_exported_with_a_refused_sale_are_found(journal):
    polaris = PolarisSales()
    _exported_with(journal, polaris, ["1042", "1042-R3"], "")
    assert journal.refused_yet_recorded() == []
    _exported_with(journal, polaris, ["1042", "1042-R4"], "1042-R4")
    assert [missing for _, missing in journal.refused_yet_recorded()] == [{1}]
    export = journal.order_export(1042)
    journal.set_order_export(1042, status="error", record=export.record, seen="s",
                             current_state=14)
    assert journal.refused_yet_recorded() == []
