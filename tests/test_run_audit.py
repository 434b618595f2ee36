"""The audit trail (H1): one JSON line per action, one file per day, no secrets."""

import datetime as dt
import json

import pytest

from polaris_sync.audit import Audit, read_events


def test_each_action_is_one_json_line_in_the_day_file_H1(tmp_path):
    with Audit(tmp_path) as audit:
        audit.event(
            "skipped",
            stage="catalogue",
            reason="brand NIKE is not mapped",
            polaris_key="1042/NOIR",
        )
        audit.event("updated", stage="stock", reason="3 -> 2", prestashop_id=17)

    [day_file] = tmp_path.iterdir()
    assert day_file.name == f"audit-{dt.date.today().isoformat()}.jsonl"
    first, second = (json.loads(line) for line in day_file.read_text().splitlines())
    assert first["action"] == "skipped"
    assert first["reason"] == "brand NIKE is not mapped"
    assert first["polaris_key"] == "1042/NOIR"
    assert dt.datetime.fromisoformat(first["time"]).tzinfo is not None
    assert second["prestashop_id"] == 17 and "polaris_key" not in second


def test_unchanged_items_are_counted_not_written(tmp_path):
    with Audit(tmp_path) as audit:
        audit.event("unchanged", stage="stock", reason="same quantity")
    assert audit.counts[("stock", "unchanged")] == 1
    assert list(tmp_path.iterdir()) == []


def test_secrets_and_personal_data_never_reach_the_file(tmp_path):
    with Audit(tmp_path) as audit:
        audit.event(
            "created",
            stage="customers",
            reason="customer sent",
            polaris_key="C-12",
            email="jeanne@example.invalid",
            Telephone="0600000000",
            key="secret-key",
            order_id=31,
        )
    text = next(tmp_path.iterdir()).read_text()
    for secret in ("jeanne@", "0600000000", "secret-key"):
        assert secret not in text
    assert json.loads(text)["order_id"] == 31


def test_a_dry_run_writes_nothing_and_keeps_the_plan(tmp_path):
    audit = Audit(tmp_path, dry_run=True)
    audit.event("created", stage="catalogue", reason="new", polaris_key="1/A")
    audit.event("unchanged", stage="catalogue", reason="same", polaris_key="2/B")
    audit.close()

    assert list(tmp_path.iterdir()) == []
    assert [event["polaris_key"] for event in audit.planned] == ["1/A"]


def test_an_unknown_action_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match="unknown audit action"):
        Audit(tmp_path).event("deleted-maybe", stage="x", reason="y")


def test_reading_skips_a_line_cut_short_by_a_crash_H2(tmp_path):
    (tmp_path / "audit-2026-12-01.jsonl").write_text(
        '{"action": "created", "reason": "a"}\n{"action": "upd'
    )
    (tmp_path / "audit-2026-12-02.jsonl").write_text('{"action": "failed"}\n')

    assert [e["action"] for e in read_events(tmp_path)] == ["created", "failed"]
    assert [e["action"] for e in read_events(tmp_path, days=1)] == ["failed"]
