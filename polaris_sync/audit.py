"""The audit trail (H1): one JSON line per action, one file per day.

Each event says what happened to which product, order or customer and why, in
words a shop owner reads, with the ids to find it on both sides. Files are
``<audit_dir>/audit-YYYY-MM-DD.jsonl``. Secrets and customer personal data are
dropped before anything is written, whatever a caller passes.

In a dry run nothing is written: events other than ``unchanged`` are kept in
memory (``planned``) for the plan printed at the end of the run. Stages report
what they would do with the action they would have taken (``created``,
``updated``...) or with ``planned``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import structlog

ACTIONS = ("created", "updated", "unchanged", "skipped", "failed", "planned")

# Field names never written to the audit file, whoever passes them.
REDACTED_FIELDS = frozenset(
    {
        "key",
        "api_key",
        "cle",
        "pin",
        "password",
        "passwd",
        "secret",
        "token",
        "email",
        "mail",
        "phone",
        "telephone",
        "mobile",
        "address",
        "adresse",
        "firstname",
        "lastname",
        "nom",
        "prenom",
    }
)


def _redact(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    for name in list(event):
        if name.lower() in REDACTED_FIELDS:
            del event[name]
    return event


def _add_time(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    event["time"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return event


_RENDER_CHAIN = (_redact, _add_time, structlog.processors.JSONRenderer(sort_keys=False))


def render(event: dict[str, Any]) -> str:
    """One audit record as its JSON line, redacted and time-stamped."""
    rendered: Any = dict(event)
    for processor in _RENDER_CHAIN:
        rendered = processor(None, "info", rendered)
    return str(rendered)


class Audit:
    """Record actions of a run. ``counts[(stage, action)]`` tallies them,
    ``counted[(stage, action, what)]`` by what each event is about."""

    def __init__(
        self,
        audit_dir: Path | None,
        *,
        dry_run: bool = False,
    ) -> None:
        self.audit_dir = audit_dir
        self.dry_run = dry_run
        self.counts: Counter[tuple[str, str]] = Counter()
        self.counted: Counter[tuple[str, str, str]] = Counter()
        self.planned: list[dict[str, Any]] = []
        self._file: TextIO | None = None
        self._file_day: dt.date | None = None

    def event(
        self,
        action: str,
        *,
        stage: str,
        reason: str,
        polaris_key: str | None = None,
        prestashop_id: int | None = None,
        what: str = "item",
        **fields: Any,
    ) -> None:
        """One action; `what` it is about ("product", "size"...) is counted,
        not written."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        self.counts[(stage, action)] += 1
        self.counted[(stage, action, what)] += 1
        record: dict[str, Any] = {"action": action, "stage": stage, "reason": reason}
        if polaris_key is not None:
            record["polaris_key"] = polaris_key
        if prestashop_id is not None:
            record["prestashop_id"] = prestashop_id
        record.update(fields)

        if self.dry_run:
            # A dry run writes nothing: what would be written becomes the plan.
            if action != "unchanged":
                self.planned.append(_redact(None, "", record))
            return
        if action == "unchanged":
            # Counted, not written: an idle run would fill the file otherwise.
            return
        self._write(render(record))

    def _write(self, line: str) -> None:
        if self.audit_dir is None:
            return
        today = dt.date.today()
        if self._file is None or self._file_day != today:
            self.close()
            self.audit_dir.mkdir(parents=True, exist_ok=True)
            path = self.audit_dir / f"audit-{today.isoformat()}.jsonl"
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._file = os.fdopen(descriptor, "a", encoding="utf-8")
            self._file_day = today
        self._file.write(line + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Audit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def audit_files(audit_dir: Path) -> list[Path]:
    """The daily audit files, oldest first."""
    if not audit_dir.is_dir():
        return []
    return sorted(audit_dir.glob("audit-????-??-??.jsonl"))


def read_events(
    audit_dir: Path, *, days: int | None = None
) -> Iterator[dict[str, Any]]:
    """Audit records, oldest first; ``days`` limits to the last N files."""
    files = audit_files(audit_dir)
    if days is not None:
        files = files[-days:] if days > 0 else []
    for path in files:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                line = line.strip()
                if not line:
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    # A line cut short by a crash: the rest of the file is fine.
                    continue
